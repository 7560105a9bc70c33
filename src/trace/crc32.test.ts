import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { crc32, crc32Portable } from './crc32.js';

test('crc32: the known value of "123456789", and the native and portable versions agree, chained too', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32Portable(Buffer.from('123456789')), 0xcbf43926);
  for (const n of [0, 1, 7, 100, 65536 + 3]) {
    const b = randomBytes(n);
    assert.equal(crc32(b), crc32Portable(b));
    const cut = n >> 1;
    assert.equal(crc32(b.subarray(cut), crc32(b.subarray(0, cut))), crc32Portable(b));
  }
});
