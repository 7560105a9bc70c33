import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REC_SIZE, decodeBufferedCalls } from './layout.js';
import { withPreload } from '../cli/record.js';

function rec(nr: number, args: bigint[], result: bigint, data = Buffer.alloc(0), hash = 0n): Buffer {
  const size = (REC_SIZE + data.length + 7) & ~7;
  const b = Buffer.alloc(size);
  b.writeUInt32LE(size, 0);
  b.writeUInt32LE(nr, 4);
  args.forEach((a, i) => b.writeBigUInt64LE(a, 8 + 8 * i));
  b.writeBigInt64LE(result, 56);
  b.writeBigUInt64LE(hash, 64);
  b.writeUInt32LE(data.length, 72);
  data.copy(b, REC_SIZE);
  return b;
}

test('buffered records decode as the library lays them out', () => {
  const data = Buffer.concat([rec(110, [], 42n), rec(0, [3n, 0x1000n, 64n], 5n, Buffer.from('hello')), rec(1, [3n, 0x2000n, 2n], -9n, Buffer.alloc(0), 7n)]);
  const calls = decodeBufferedCalls(data, 3);
  assert.deepEqual(calls.map((c) => [c.nr, c.result, c.data.toString(), c.hash]), [[110, 42n, '', 0n], [0, 5n, 'hello', 0n], [1, -9n, '', 7n]]);
  assert.deepEqual(calls[1]!.args.slice(0, 3), [3n, 0x1000n, 64n]);
  assert.throws(() => decodeBufferedCalls(data, 4), /runs past the end/);
  assert.throws(() => decodeBufferedCalls(data, 2), /bytes after its last record/);
  const bad = Buffer.from(data);
  bad.writeUInt32LE(12, 0);
  assert.throws(() => decodeBufferedCalls(bad, 3), /bad size/);
});

test('the syscall buffer library is appended to LD_PRELOAD', () => {
  assert.deepEqual(withPreload(['A=1'], '/l.so'), ['A=1', 'LD_PRELOAD=/l.so']);
  assert.deepEqual(withPreload(['LD_PRELOAD=/mine.so', 'B=2'], '/l.so'), ['LD_PRELOAD=/mine.so:/l.so', 'B=2']);
  assert.deepEqual(withPreload(['LD_PRELOAD='], '/l.so'), ['LD_PRELOAD=/l.so']);
});
