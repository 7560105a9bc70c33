import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TraceReader, TraceWriter } from './trace-stream.js';
import { TRACE_FORMAT_VERSION, type Header, type TraceRecord } from './format.js';
import { TraceFormatError } from '../util/errors.js';

const header: Header = {
  format: 'trr-trace', version: TRACE_FORMAT_VERSION, trrVersion: 'test', created: 'now', argv: ['p'], cwd: '/', env: [],
  stackLimit: '8388608', kernel: 'k', cpuid: {}, features: [],
};
const regs = Buffer.alloc(216, 1);
const sys = (i: number): TraceRecord => ({ kind: 'syscall', tid: 7, nr: 0, regs, result: BigInt(i), mem: [[0x1000n + BigInt(i), Buffer.from([i & 255])]] });

function withDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'trr-trace-test-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('records round-trip through frames and the journal', () => {
  withDir((dir) => {
    const w = TraceWriter.create(dir, header);
    for (let i = 0; i < 3000; i++) w.append(sys(i));
    w.append({ kind: 'end', tid: 7, status: 0 });
    w.close();
    const r = TraceReader.open(dir);
    const recs = r.records();
    assert.equal(recs.length, 3001);
    assert.equal(r.incomplete, false);
    const last = recs[2999]!.record;
    assert.equal(last.kind, 'syscall');
    if (last.kind === 'syscall') {
      assert.equal(last.result, 2999n);
      assert.deepEqual(last.mem, [[0x1000n + 2999n, Buffer.from([2999 & 255])]]);
      assert.ok(last.regs.equals(regs));
    }
  });
});

test('a writer that never closes leaves a readable, incomplete trace', () => {
  withDir((dir) => {
    const w = TraceWriter.create(dir, header);
    for (let i = 0; i < 10; i++) w.append(sys(i));
    // no close(): as after SIGKILL
    const r = TraceReader.open(dir);
    assert.equal(r.records().length, 10);
    assert.equal(r.incomplete, true);
    const journal = join(dir, 'journal');
    truncateSync(journal, statSync(journal).size - 3); // torn last entry
    assert.equal(TraceReader.open(dir).records().length, 9);
  });
});

test('corruption and unknown versions are errors naming the file', () => {
  withDir((dir) => {
    const w = TraceWriter.create(dir, header);
    for (let i = 0; i < 10; i++) w.append(sys(i));
    w.close();
    const events = join(dir, 'events');
    const good = readFileSync(events);
    const bad = Buffer.from(good);
    bad[good.length - 5]! ^= 1;
    writeFileSync(events, bad);
    assert.throws(() => TraceReader.open(dir).records(), (e: Error) => e instanceof TraceFormatError && /events offset 8: frame checksum mismatch/.test(e.message));
    writeFileSync(events, good);
    writeFileSync(join(dir, 'header.json'), JSON.stringify({ ...header, version: TRACE_FORMAT_VERSION + 1 }));
    assert.throws(() => TraceReader.open(dir), new RegExp(`format version ${TRACE_FORMAT_VERSION + 1} is not supported`));
  });
});
