import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FRAME_CACHE_SIZE, TraceReader, TraceWriter } from './trace-stream.js';
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
    const recs = [...r.scan()];
    assert.equal(recs.length, 3001);
    assert.equal(r.eventCount, 3001);
    assert.deepEqual(recs.map((x) => x.index), [...Array(3001).keys()]);
    assert.equal(r.incomplete, false);
    assert.deepEqual(r.recordAt(2999), recs[2999]!.record);
    assert.deepEqual([...r.scan(2998)].map((x) => x.index), [2998, 2999, 3000]);
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
    assert.equal(r.eventCount, 10);
    assert.equal(r.incomplete, true);
    assert.equal(r.recordAt(9).kind, 'syscall');
    assert.equal([...r.scan()].length, 10);
    const journal = join(dir, 'journal');
    truncateSync(journal, statSync(journal).size - 3); // torn last entry
    assert.equal(TraceReader.open(dir).eventCount, 9);
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
    assert.throws(() => TraceReader.open(dir).recordAt(0), (e: Error) => e instanceof TraceFormatError && /events offset 8: frame checksum mismatch/.test(e.message));
    writeFileSync(events, good);
    writeFileSync(join(dir, 'header.json'), JSON.stringify({ ...header, version: TRACE_FORMAT_VERSION + 1 }));
    assert.throws(() => TraceReader.open(dir), new RegExp(`format version ${TRACE_FORMAT_VERSION + 1} is not supported`));
  });
});

/** Appends `n` syscall records (about 250 bytes each, so a frame holds about 4000) and an end record. */
function writeLong(dir: string, n: number): void {
  const w = TraceWriter.create(dir, header);
  for (let i = 0; i < n; i++) w.append(sys(i));
  w.append({ kind: 'end', tid: 7, status: 0 });
  w.close();
}

test('reading a long trace keeps only a few decoded frames, whatever its length', () => {
  withDir((dir) => {
    const n = 300_000;
    writeLong(dir, n);
    const r = TraceReader.open(dir);
    assert.equal(r.eventCount, n + 1);
    const { frames } = r.frameStats;
    assert.ok(frames > 20 * FRAME_CACHE_SIZE, `only ${frames} frames`);
    assert.equal(r.incomplete, false);

    // Replay's pattern: each record in turn, with a look-ahead now and then.
    for (let i = 0; i < n; i++) {
      const rec = r.recordAt(i);
      assert.ok(rec.kind === 'syscall' && rec.result === BigInt(i));
      if (i % 1000 === 0) {
        for (const { index } of r.scan(i + 1)) if (index >= i + 50) break;
      }
      assert.ok(r.frameStats.cached <= FRAME_CACHE_SIZE);
    }
    // Each frame was decoded about once (the last one also for `incomplete`,
    // and a look-ahead may decode the next frame before recordAt does).
    const decoded = r.frameStats.decoded;
    assert.ok(decoded <= 2 * frames + 1, `${decoded} decodes of ${frames} frames`);

    // A whole pass holds one frame and leaves the cache alone.
    let count = 0;
    for (const { index, record } of r.scan()) {
      assert.equal(index, count++);
      if (record.kind === 'syscall' && index % 50_000 === 0) assert.equal(record.result, BigInt(index));
    }
    assert.equal(count, n + 1);
    assert.equal(r.frameStats.cached, FRAME_CACHE_SIZE);
    assert.ok(r.frameStats.decoded <= decoded + frames);

    // Random access decodes only the frames it touches.
    const before = r.frameStats.decoded;
    assert.equal((r.recordAt(123_456) as { result: bigint }).result, 123_456n);
    assert.equal((r.recordAt(7) as { result: bigint }).result, 7n);
    assert.ok(r.frameStats.decoded - before <= 2);
  });
});

test('damage in a later frame is found when that frame is read, or by verifyChecksums', () => {
  withDir((dir) => {
    writeLong(dir, 20_000);
    const events = join(dir, 'events');
    const good = readFileSync(events);
    // The third frame: skip the magic and two frames (header + body each).
    let off = 8;
    for (let k = 0; k < 2; k++) off += 20 + good.readUInt32LE(off);
    const third = good.readUInt32LE(off + 8);

    const body = Buffer.from(good);
    body[off + 20 + 100]! ^= 0x40;
    writeFileSync(events, body);
    const r = TraceReader.open(dir);
    assert.equal(r.eventCount, 20_001); // indexing reads frame headers only
    assert.equal(r.recordAt(0).kind, 'syscall');
    const corrupt = (e: Error) => e instanceof TraceFormatError && e.message.includes(`events offset ${off}: frame checksum mismatch`);
    assert.throws(() => r.recordAt(third), corrupt);
    assert.throws(() => [...r.scan()], corrupt);
    assert.throws(() => TraceReader.open(dir).verifyChecksums(), corrupt);

    const head = Buffer.from(good);
    head[off + 12]! ^= 1; // its record count
    writeFileSync(events, head);
    assert.throws(() => TraceReader.open(dir).eventCount, (e: Error) => e instanceof TraceFormatError && e.message.includes(`events offset ${off}: frame header checksum mismatch`));
  });
});
