import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registers, USER_REGS_SIZE } from './registers.js';

test('registers follow struct user_regs_struct', () => {
  assert.equal(USER_REGS_SIZE, 216);
  const r = new Registers();
  r.set('rip', 0x401000n);
  r.set('rax', -38n);
  assert.equal(r.raw.readBigUInt64LE(16 * 8), 0x401000n);
  assert.equal(r.result, -38n);
  assert.equal(r.get('rax'), 0xffffffffffffffdan);
  r.set('rdi', 1n);
  r.set('r9', 6n);
  assert.deepEqual(r.syscallArgs(), [1n, 0n, 0n, 0n, 0n, 6n]);
  const c = r.clone();
  c.set('rip', 0n);
  assert.deepEqual(c.diff(r), ['rip: expected 0x401000, found 0x0']);
});
