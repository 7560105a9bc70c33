// The guess at the call that entered a function (call-site.ts), on memory
// made up here: a direct call, a call through a PLT stub, the return address
// above the frame pointer, and positions it must not guess for.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registers } from '../arch/registers.js';
import { callSiteBefore } from './call-site.js';

/** Memory of a few pieces at given addresses; reads elsewhere come back short (unmapped). */
function memory(pieces: ReadonlyArray<readonly [bigint, Buffer]>): (address: bigint, length: number) => Buffer {
  return (address, length) => {
    for (const [at, bytes] of pieces) {
      if (address >= at && address + BigInt(length) <= at + BigInt(bytes.length)) return bytes.subarray(Number(address - at), Number(address - at) + length);
    }
    return Buffer.alloc(0);
  };
}
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
};
const callTo = (from: bigint, to: bigint) => {
  const b = Buffer.from([0xe8, 0, 0, 0, 0]);
  b.writeInt32LE(Number(to - (from + 5n)), 1);
  return b;
};
function regs(ip: bigint, rsp: bigint, rbp = 0n): Registers {
  const r = new Registers();
  r.set('rip', ip);
  r.set('rsp', rsp);
  r.set('rbp', rbp);
  return r;
}

test('a direct call of the function, with the return address at the stack pointer or above the frame pointer', () => {
  const call = 0x401000n;
  const fn = 0x402000n;
  const mem = memory([[call, callTo(call, fn)], [0x7000n, u64(call + 5n)], [0x8008n, u64(call + 5n)]]);
  assert.equal(callSiteBefore(regs(fn, 0x7000n), mem), call); // at the entry
  assert.equal(callSiteBefore(regs(fn + 8n, 0x6ff0n, 0x8000n), mem), call); // after the prologue
  assert.equal(callSiteBefore(regs(fn + 200n, 0x7000n), mem), undefined); // too far into the function
  assert.equal(callSiteBefore(regs(fn - 1n, 0x7000n), mem), undefined); // before it
  assert.equal(callSiteBefore(regs(fn, 0x9000n), mem), undefined); // no return address there
});

test('a call through a PLT stub (endbr64, bnd jmp *slot(%rip)) of the function', () => {
  const call = 0x401000n;
  const stub = 0x400500n;
  const slot = 0x404018n;
  const fn = 0x7f0000001000n;
  const jmp = Buffer.from([0xf3, 0x0f, 0x1e, 0xfa, 0xf2, 0xff, 0x25, 0, 0, 0, 0, 0x0f, 0x1f, 0x44, 0, 0]);
  jmp.writeInt32LE(Number(slot - (stub + 11n)), 7);
  const mem = memory([[call, callTo(call, stub)], [stub, jmp], [slot, u64(fn)], [0x7000n, u64(call + 5n)]]);
  assert.equal(callSiteBefore(regs(fn + 4n, 0x7000n), mem), call);
  assert.equal(callSiteBefore(regs(fn + 0x1000n, 0x7000n), mem), undefined);
});
