// Fail loudly, lose nothing: a full disk, programs that cannot be executed,
// hostile trace and output directories, bad environments, empty traces and a
// different CPU. Each gets a one-paragraph message and a non-zero status (or
// a warning), never a stack trace or a hang, and no recorded event is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  cpSync, existsSync, lstatSync, mkdirSync, readdirSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { run, withOutputDir } from '../support/harness.js';
import { TraceReader, TraceWriter } from '../../src/trace/trace-stream.js';
import { TRACE_FORMAT_VERSION, type Header } from '../../src/trace/format.js';
import { FileError } from '../../src/util/errors.js';

const asRoot = process.getuid?.() === 0;

/** Runs `body` with a tmpfs of `size` mounted on DIR/name; its contents are copied to DIR/name-copy for a failing test to keep. */
async function withTmpfs(dir: string, name: string, size: string, body: (mnt: string) => void | Promise<void>): Promise<void> {
  const mnt = join(dir, name);
  mkdirSync(mnt, { recursive: true });
  const m = run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt]);
  assert.equal(m.status, 0, m.stderr);
  try {
    await body(mnt);
  } finally {
    cpSync(mnt, `${mnt}-copy`, { recursive: true });
    run('umount', ['--lazy', mnt]); // lazy: a failed body may still hold files open there
  }
}

/** Records with `mem` of random (incompressible) bytes, so that a small disk fills quickly. */
const bulky = (i: number) => ({ kind: 'syscall' as const, tid: 7, nr: 0, regs: Buffer.alloc(216, 1), result: BigInt(i), mem: [[0x1000n, randomBytes(100 * 1024)] as const] });
const header: Header = {
  format: 'trr-trace', version: TRACE_FORMAT_VERSION, trrVersion: 'test', created: 'now', argv: ['p'], cwd: '/', env: [],
  stackLimit: '8388608', kernel: 'k', cpuid: {}, features: [],
};

test('a journal entry or frame that fails half-way is cut back: the reader gets every record appended', { skip: !asRoot && 'needs root to mount a tmpfs' }, async () => {
  await withOutputDir('hostile-enospc-writer', async (dir) => {
    // 1 MiB: the journal fills before a frame is due; 2 MiB: the first frame does not fit beside the journal.
    for (const [size, where] of [['1m', 'its journal'], ['2m', 'its events file']] as const) {
      await withTmpfs(dir, `fs-${size}`, size, (mnt) => {
        const w = TraceWriter.create(join(mnt, 't'), header);
        assert.throws(() => {
          for (let i = 0; i < 100; i++) w.append(bulky(i));
        }, (e: Error) => e instanceof FileError && e.message.includes(`(${where}): No space left on device`));
        const appended = w.eventCount;
        assert.throws(() => w.append(bulky(0)), FileError, 'a failed writer stays failed');
        w.close();
        const r = TraceReader.open(join(mnt, 't'));
        assert.equal(r.records().length, appended);
        assert.deepEqual(r.records().map((x) => x.index), [...Array(appended).keys()]);
        assert.equal(r.incomplete, true);
      });
    }
  });
});

test('the trace writer creates every file itself, private whatever the umask: a link planted in its directory is never followed', async () => {
  await withOutputDir('hostile-writer-link', (dir) => {
    const planted = join(dir, 'planted');
    mkdirSync(planted);
    symlinkSync(join(dir, 'victim'), join(planted, 'journal'));
    assert.throws(() => TraceWriter.create(planted, header), (e: Error) => e instanceof FileError && /cannot create \S+journal: File exists/.test(e.message));
    assert.ok(!existsSync(join(dir, 'victim')));
    writeFileSync(join(dir, 'data'), 'data', { mode: 0o644 });
    const old = process.umask(0);
    try {
      const w = TraceWriter.create(join(dir, 't'), header);
      w.storeFile('/bin/true', 'true');
      w.storeFile(join(dir, 'data'), 'data');
      w.close();
    } finally {
      process.umask(old);
    }
    assert.deepEqual(modes(join(dir, 't')).map(([p, m]) => [p.slice(dir.length + 1), m.toString(8)]), [
      ['t', '700'], ['t/events', '600'], ['t/files', '700'], ['t/files/0-true', '700'], ['t/files/1-data', '600'], ['t/header.json', '600'], ['t/journal', '600'],
    ]);
  });
});

/** Every path under `dir` with its permission bits. */
function modes(dir: string): [string, number][] {
  const out: [string, number][] = [[dir, lstatSync(dir).mode & 0o7777]];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (lstatSync(p).isDirectory()) out.push(...modes(p));
    else out.push([p, lstatSync(p).mode & 0o7777]);
  }
  return out;
}

