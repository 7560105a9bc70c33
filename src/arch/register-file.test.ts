import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registers } from './registers.js';
import { GENERAL_REGISTERS, archRegisters, readRegister, vectorLevel, writeRegister } from './register-file.js';

const reg = (name: string) => archRegisters('sse').find((r) => r.name === name)!;

test('the register file decodes user_regs_struct, FXSAVE and the x87 tag word', () => {
  const gp = new Registers();
  gp.set('rip', 0x401000n);
  gp.set('eflags', 0x1_0000_0246n);
  const fx = Buffer.alloc(512);
  fx.writeUInt16LE(0x37f, 0); // fctrl
  fx[4] = 0b0000_0001; // abridged tags: only st0 valid
  fx.writeUInt32LE(0x1f80, 24); // mxcsr
  Buffer.from('00112233445566778899aabbccddeeff', 'hex').copy(fx, 160 + 16); // xmm1
  const st = { gp, fx };
  assert.equal(readRegister(reg('rip'), st).readBigUInt64LE(0), 0x401000n);
  assert.equal(readRegister(reg('eflags'), st).toString('hex'), '46020000'); // 32 bits
  assert.equal(readRegister(reg('fctrl'), st).readUInt32LE(0), 0x37f);
  assert.equal(readRegister(reg('ftag'), st).readUInt32LE(0), 0xfffc); // st1-7 empty (11), st0 valid (00)
  assert.equal(readRegister(reg('mxcsr'), st).readUInt32LE(0), 0x1f80);
  assert.equal(readRegister(reg('xmm1'), st).toString('hex'), '00112233445566778899aabbccddeeff');
  assert.deepEqual(GENERAL_REGISTERS.slice(0, 4), ['rax', 'rbx', 'rcx', 'rdx']);
  assert.ok(GENERAL_REGISTERS.includes('fs_base') && !GENERAL_REGISTERS.includes('orig_rax') && !GENERAL_REGISTERS.includes('xmm0'));
});

test('register writes go to the general registers or the XSAVE area, marking the component in use', () => {
  const gp = new Registers();
  const xsave = Buffer.alloc(1024);
  assert.equal(writeRegister(reg('rax'), Buffer.from('efbeadde00000000', 'hex'), gp, xsave), 'gp');
  assert.equal(gp.get('rax'), 0xdeadbeefn);
  assert.equal(writeRegister(reg('xmm0'), Buffer.alloc(16, 0xab), gp, xsave), 'xsave');
  assert.equal(xsave.subarray(160, 176).toString('hex'), 'ab'.repeat(16));
  assert.equal(xsave.readBigUInt64LE(512) & 2n, 2n); // XSTATE_BV: SSE in use
  assert.equal(writeRegister(reg('ftag'), Buffer.from('fcff0000', 'hex'), gp, xsave), 'xsave');
  assert.equal(xsave[4], 1);
  assert.equal(writeRegister(reg('xmm0'), Buffer.alloc(8), gp, xsave), undefined); // too short
});

test('vector level from XCR0 in the XSAVE area', () => {
  const x = Buffer.alloc(1024);
  assert.equal(vectorLevel(undefined), 'sse');
  x.writeBigUInt64LE(0x7n, 464);
  assert.equal(vectorLevel(x), 'avx');
  x.writeBigUInt64LE(0xe7n, 464);
  assert.equal(vectorLevel(x), 'avx512');
});
