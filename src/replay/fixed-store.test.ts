import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFixedStore, fixedStoreAt } from './fixed-store.js';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');
const d = (s: string) => {
  const r = decodeFixedStore(hex(s));
  return r && { length: r.length, width: r.width, dispOffset: r.dispOffset, disp: r.disp };
};

test('RIP-relative stores: length, width and where the displacement is', () => {
  assert.deepEqual(d('48 89 05 6f 2e 00 00'), { length: 7, width: 8, dispOffset: 3, disp: 0x2e6f }); // mov %rax,x(%rip)
  assert.deepEqual(d('48 c7 05 b7 2e 00 00 2a 00 00 00'), { length: 11, width: 8, dispOffset: 3, disp: 0x2eb7 }); // movq $42,x(%rip)
  assert.deepEqual(d('89 05 fc ff ff ff'), { length: 6, width: 4, dispOffset: 2, disp: -4 }); // mov %eax
  assert.deepEqual(d('66 89 05 10 00 00 00'), { length: 7, width: 2, dispOffset: 3, disp: 16 }); // mov %ax
  assert.deepEqual(d('66 c7 05 10 00 00 00 34 12'), { length: 9, width: 2, dispOffset: 3, disp: 16 }); // movw $0x1234
  assert.deepEqual(d('c6 05 10 00 00 00 01'), { length: 7, width: 1, dispOffset: 2, disp: 16 }); // movb $1
  assert.deepEqual(d('83 05 10 00 00 00 01'), { length: 7, width: 4, dispOffset: 2, disp: 16 }); // addl $1
  assert.deepEqual(d('48 ff 05 10 00 00 00'), { length: 7, width: 8, dispOffset: 3, disp: 16 }); // incq
  assert.deepEqual(d('f0 48 0f b1 15 10 00 00 00'), { length: 9, width: 8, dispOffset: 5, disp: 16 }); // lock cmpxchg
  assert.deepEqual(d('f3 0f 11 05 10 00 00 00'), { length: 8, width: 4, dispOffset: 4, disp: 16 }); // movss store
  assert.deepEqual(d('0f 29 05 10 00 00 00'), { length: 7, width: 16, dispOffset: 3, disp: 16 }); // movaps store
});

test('anything else is not a fixed-address store', () => {
  for (const s of [
    '48 89 07', // mov %rax,(%rdi)
    '48 89 04 25 10 00 00 00', // absolute via SIB: not handled
    '48 8b 05 10 00 00 00', // a load
    'c5 f9 d6 05 10 00 00 00', // VEX
    '64 48 89 04 25 10 00 00 00', // fs:
    '67 89 05 10 00 00 00', // 32-bit addressing
    'c7 45 f8 01 00 00 00', // movl $1,-8(%rbp)
    'ff 15 10 00 00 00', // call *x(%rip)
    'f3 0f 7e 05 10 00 00 00', // movq load
    '0f ab 05 10 00 00 00', // bts: the bit offset reaches beyond
    '48 a5', // movsq
    '48 89', // truncated
  ]) assert.equal(decodeFixedStore(hex(s)), undefined, s);
});

test('the fault address must be the one the decoded instruction writes', () => {
  const code = hex('48 89 05 6f 2e 00 00');
  assert.ok(fixedStoreAt(code, 0x11ban, 0x11ban + 7n + 0x2e6fn));
  assert.equal(fixedStoreAt(code, 0x11ban, 0x11ban + 7n + 0x2e6fn + 8n), undefined);
});
