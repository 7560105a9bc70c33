// Bad traces and divergences: each gives a one-paragraph error naming what
// is wrong and a non-zero exit, never a JavaScript stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, truncateSync, statSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { assertCleanError, trr, withOutputDir, buildProgram, manifest, run } from '../support/harness.js';
import { tamperTrace } from '../support/tamper.js';
import { nr } from '../../src/syscalls/names.js';
import { TRACE_FORMAT_VERSION } from '../../src/trace/format.js';
import { TraceReader } from '../../src/trace/trace-stream.js';

function recordFiles(dir: string): string {
  const spec = manifest().find((p) => p.name === 'files')!;
  const trace = join(dir, 'trace');
  const r = trr(['record', '-o', trace, buildProgram(spec)], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  return trace;
}

test('a directory that is not a trace is refused', async () => {
  await withOutputDir('trace-not-a-trace', (dir) => {
    assertCleanError(trr(['replay', '-a', dir]), /is not a trr trace directory/);
    assertCleanError(trr(['dump', join(dir, 'missing')]), /no trace named|no such trace/);
    writeFileSync(join(dir, 'file'), 'x');
    assertCleanError(trr(['replay', '-a', join(dir, 'file')]), /not a trace directory/);
  });
});

test('a trace of another format version is refused', async () => {
  await withOutputDir('trace-wrong-version', (dir) => {
    const trace = recordFiles(dir);
    const h = JSON.parse(readFileSync(join(trace, 'header.json'), 'utf8'));
    h.version = 99;
    writeFileSync(join(trace, 'header.json'), JSON.stringify(h));
    assertCleanError(trr(['replay', '-a', trace]), new RegExp(`format version 99 is not supported by this trr, which reads versions 1 to ${TRACE_FORMAT_VERSION}`));
    assertCleanError(trr(['dump', trace]), /format version 99/);
  });
});

test('flipped bytes in the events are reported as corruption', async () => {
  await withOutputDir('trace-flipped', (dir) => {
    const trace = recordFiles(dir);
    const events = join(trace, 'events');
    const data = readFileSync(events);
    for (const at of [12, 30, Math.floor(data.length / 2)]) {
      const bad = Buffer.from(data);
      bad[at]! ^= 0x55;
      writeFileSync(events, bad);
      assertCleanError(trr(['replay', '-a', trace]), /events offset \d+: .*(checksum mismatch|corrupt)/);
    }
    writeFileSync(events, data);
    const header = join(trace, 'header.json');
    writeFileSync(header, readFileSync(header, 'utf8').replace('{', '{{'));
    assertCleanError(trr(['dump', trace]), /header is not valid JSON/);
  });
});

test('a truncated trace gives a clean error, or replays up to its last complete event', async () => {
  await withOutputDir('trace-truncated', (dir) => {
    const trace = recordFiles(dir);
    // A killed recorder leaves records in the journal; cut its last entry in half.
    const cut = join(dir, 'cut');
    tamperTrace(trace, cut, () => undefined, 60);
    const journal = join(cut, 'journal');
    truncateSync(journal, statSync(journal).size - 5);
    const r = trr(['replay', '-a', cut]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /is incomplete \(the recording was cut off after event 59\)/);
    assert.match(r.stderr, /replay reached the last complete event \(59\)/);
    assert.doesNotMatch(r.stderr, /internal error/);
    const dump = trr(['dump', cut]);
    assert.equal(dump.status, 0);
    assert.match(dump.stdout, /the trace is incomplete/);
    // Events cut inside their only frame: nothing complete is left.
    const events = join(trace, 'events');
    truncateSync(events, Math.floor(statSync(events).size * 0.7));
    assertCleanError(trr(['replay', '-a', trace]), /holds no complete event/);
    truncateSync(events, 3);
    assertCleanError(trr(['replay', '-a', trace]), /not a trr events file/);
  });
});

test('a tampered trace makes replay stop with a divergence naming the event and thread', async () => {
  await withOutputDir('trace-tampered', (dir) => {
    const trace = recordFiles(dir);
    const bad = join(dir, 'tampered');
    const changed = tamperTrace(trace, bad, (r) => (r.kind === 'syscall' && r.nr === nr('brk') && r.result > 0n ? { ...r, result: r.result + 0x1000n } : undefined));
    assert.ok(changed > 0);
    const r = trr(['replay', '-a', bad]);
    assert.equal(r.status, 3);
    assert.match(r.stderr, new RegExp(`replay diverged from the recording at event ${changed} \\(syscall brk of thread \\d+\\): brk returned 0x[0-9a-f]+ in replay but 0x[0-9a-f]+ in the recording`));

    const bad2 = join(dir, 'tampered-write');
    const changed2 = tamperTrace(trace, bad2, (r) => (r.kind === 'syscall' && r.extra?.hash && r.extra.stdio === 1 ? { ...r, extra: { ...r.extra, hash: Buffer.alloc(20) } } : undefined));
    const r2 = trr(['replay', '-a', bad2]);
    assert.equal(r2.status, 3);
    assert.match(r2.stderr, new RegExp(`at event ${changed2} .*wrote different data with write than it did in the recording`));
  });
});

test('a recording cut off by SIGKILL still replays up to its last complete event', async () => {
  await withOutputDir('trace-sigkill', async (dir) => {
    mkdirSync(dir, { recursive: true });
    const trace = join(dir, 'trace');
    const script = 'for i in 1 2 3 4 5 6 7 8 9 10; do echo line $i; sleep 0.3; done';
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [join(import.meta.dirname, '../../../bin/trr'), 'record', '-o', trace, 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    // Killed once it has printed two lines (however long a loaded machine takes to get there).
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (out.includes('line 2\n')) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    assert.match(out, /^line 1\nline 2\n/);
    const r = trr(['replay', '-a', trace]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /trace .* is incomplete/);
    // Everything the recording printed before the kill is replayed.
    assert.ok(r.stdout.length >= out.length - 'line 10\n'.length, `replayed ${JSON.stringify(r.stdout)} recorded ${JSON.stringify(out)}`);
    assert.ok(out.startsWith(r.stdout) || r.stdout.startsWith(out));
    void run;
  });
});

test('a recording cut off right after a vfork entered (its child not yet in the trace) replays up to there', async () => {
  await withOutputDir('trace-cut-vfork', async (dir) => {
    mkdirSync(dir, { recursive: true });
    const trace = join(dir, 'trace');
    const rec = trr(['record', '-o', trace, 'sh', '-c', '/bin/true; echo x'], { cwd: dir });
    assert.equal(rec.status, 0, rec.stderr);
    let entry = -1;
    const reader = TraceReader.open(trace);
    for (const { index, record } of reader.scan()) {
      if (record.kind === 'syscall-entry' && (record.nr === nr('vfork') || record.nr === nr('clone') || record.nr === nr('clone3'))) {
        entry = index;
        break;
      }
    }
    assert.ok(entry > 0, 'sh made no clone whose entry is a record of its own');
    const cut = join(dir, 'cut');
    tamperTrace(trace, cut, () => undefined, entry);
    const r = trr(['replay', '-a', cut]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`the trace .* is incomplete \\(the recording was cut off after event ${entry}\\)`));
    assert.match(r.stderr, /replay reached the last complete event/);
    assert.doesNotMatch(r.stderr, /diverged/);
  });
});
