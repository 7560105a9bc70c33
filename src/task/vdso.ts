// Rewrites the vDSO of a freshly exec'd tracee so that its time, cpu and
// random-number functions make real syscalls (which trr records and
// replays) instead of reading kernel-shared memory that replay cannot
// reproduce. Recording and replay apply the same patch, so both see the
// same code.
import type { AddressSpace } from './task.js';

const syscallStub = (nr: number) => Buffer.from([0xb8, nr & 0xff, (nr >> 8) & 0xff, 0, 0, 0x0f, 0x05, 0xc3]); // mov eax,nr; syscall; ret
const ENOSYS_STUB = Buffer.from([0x48, 0xc7, 0xc0, 0xda, 0xff, 0xff, 0xff, 0xc3]); // mov rax,-38; ret

const PATCHES: ReadonlyMap<string, Buffer> = new Map([
  ['clock_gettime', syscallStub(228)],
  ['gettimeofday', syscallStub(96)],
  ['time', syscallStub(201)],
  ['getcpu', syscallStub(309)],
  ['clock_getres', syscallStub(229)],
  ['getrandom', ENOSYS_STUB],
]);

/**
 * Patches the vDSO mapped at [base, end); returns the names patched and the
 * address of a `syscall` instruction in the patched code (trr uses it to make
 * a task that stands in user code run a syscall of trr's choosing).
 */
export function patchVdso(mem: AddressSpace, base: bigint, end: bigint): { patched: string[]; syscallInstruction?: bigint } {
  const image = mem.read(base, Number(end - base));
  if (image.readUInt32BE(0) !== 0x7f454c46) return { patched: [] };
  const phoff = Number(image.readBigUInt64LE(0x20));
  const shoff = Number(image.readBigUInt64LE(0x28));
  const phentsize = image.readUInt16LE(0x36);
  const phnum = image.readUInt16LE(0x38);
  const shentsize = image.readUInt16LE(0x3a);
  const shnum = image.readUInt16LE(0x3c);
  let linkBase = 0n;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (image.readUInt32LE(p) === 1 /* PT_LOAD */) {
      linkBase = image.readBigUInt64LE(p + 0x10);
      break;
    }
  }
  const patched: string[] = [];
  let syscallInstruction: bigint | undefined;
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    if (sh + shentsize > image.length || image.readUInt32LE(sh + 4) !== 11 /* SHT_DYNSYM */) continue;
    const symOff = Number(image.readBigUInt64LE(sh + 0x18));
    const symSize = Number(image.readBigUInt64LE(sh + 0x20));
    const strSh = shoff + image.readUInt32LE(sh + 0x28) * shentsize;
    const strOff = Number(image.readBigUInt64LE(strSh + 0x18));
    for (let s = symOff; s + 24 <= symOff + symSize; s += 24) {
      const nameOff = image.readUInt32LE(s);
      const nameEnd = image.indexOf(0, strOff + nameOff);
      const name = image.toString('latin1', strOff + nameOff, nameEnd).replace(/^__vdso_/, '');
      const stub = PATCHES.get(name);
      const value = image.readBigUInt64LE(s + 8);
      const size = Number(image.readBigUInt64LE(s + 16));
      if (!stub || value === 0n || size < stub.length) continue;
      mem.write(base + (value - linkBase), stub);
      patched.push(name);
      if (stub[5] === 0x0f && stub[6] === 0x05) syscallInstruction = base + (value - linkBase) + 5n;
    }
  }
  return { patched, syscallInstruction };
}
