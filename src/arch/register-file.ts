// The whole x86-64 register file of a stopped thread, decoded from the three
// places Linux keeps it: user_regs_struct (PTRACE_GETREGS, see registers.ts),
// the FXSAVE area (x87 and SSE) and the XSAVE area (AVX, AVX-512, at the
// component offsets CPUID leaf 0xD gives: AMD Zen 4 has no MPX, so its
// AVX-512 state sits lower than on Intel). Front ends read and write
// registers by these descriptions, never by raw offsets of their own: the gdb
// server numbers them for its `g`/`p` packets (src/gdb/target.ts), the DAP
// adapter names the general ones in its Registers scope.
import type { Registers, RegisterName } from './registers.js';
import { cpuid } from '../native/native.js';

/** Where a register's bytes are: a general register, bytes of the FXSAVE or XSAVE area, or the x87 tag word (rebuilt from FXSAVE's abridged tags). */
export type RegisterSource = { readonly gp: RegisterName } | { readonly fx: number; readonly size: number } | { readonly ftag: true } | { readonly xsave: number; readonly size: number };

export type RegisterGroup = 'general' | 'segment' | 'x87' | 'sse' | 'linux' | 'segment-base' | 'avx' | 'avx512';

export interface ArchRegister {
  readonly name: string;
  readonly bits: number;
  readonly group: RegisterGroup;
  readonly source: RegisterSource;
}

const gp = (name: RegisterName, group: RegisterGroup, bits = 64): ArchRegister => ({ name, bits, group, source: { gp: name } });
const x87 = (name: string, fx: number, size: number): ArchRegister => ({ name, bits: 32, group: 'x87', source: { fx, size } });

/** The registers every x86-64 CPU has, in the amd64 register order gdb numbers them by. */
const BASE: readonly ArchRegister[] = [
  ...(['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'] as RegisterName[]).map((n) => gp(n, 'general')),
  gp('eflags', 'general', 32),
  ...(['cs', 'ss', 'ds', 'es', 'fs', 'gs'] as RegisterName[]).map((n) => gp(n, 'segment', 32)),
  ...Array.from({ length: 8 }, (_, i): ArchRegister => ({ name: `st${i}`, bits: 80, group: 'x87', source: { fx: 32 + i * 16, size: 10 } })),
  x87('fctrl', 0, 2),
  x87('fstat', 2, 2),
  { name: 'ftag', bits: 32, group: 'x87', source: { ftag: true } },
  x87('fiseg', 12, 4),
  x87('fioff', 8, 4),
  x87('foseg', 20, 4),
  x87('fooff', 16, 4),
  x87('fop', 6, 2),
  ...Array.from({ length: 16 }, (_, i): ArchRegister => ({ name: `xmm${i}`, bits: 128, group: 'sse', source: { fx: 160 + i * 16, size: 16 } })),
  { name: 'mxcsr', bits: 32, group: 'sse', source: { fx: 24, size: 4 } },
  gp('orig_rax', 'linux'),
  gp('fs_base', 'segment-base'),
  gp('gs_base', 'segment-base'),
];

/** The registers a debugger shows as the thread's general state: the integer registers, flags, segments and segment bases. */
export const GENERAL_REGISTERS: readonly string[] = BASE.filter((r) => r.group === 'general' || r.group === 'segment' || r.group === 'segment-base').map((r) => r.name);

/**
 * Which vector registers the CPU has and the kernel enabled, read from XCR0
 * as the kernel reports it in the XSAVE area (bytes 464..471, as gdb reads
 * it): AVX needs the YMM state (bit 2), AVX-512 the opmask, ZMM_Hi256 and
 * Hi16_ZMM states (bits 5-7).
 */
export type VectorLevel = 'sse' | 'avx' | 'avx512';

export function vectorLevel(xsave: Buffer | undefined): VectorLevel {
  if (!xsave || xsave.length < 472) return 'sse';
  const xcr0 = xsave.readBigUInt64LE(464);
  if ((xcr0 & 0xe4n) === 0xe4n) return 'avx512';
  return xcr0 & 4n ? 'avx' : 'sse';
}

/** Offset of XSAVE state component `n` in the standard (ptrace) layout: CPUID.(0xD, n).EBX. */
const xsaveOffset = (n: number): number => cpuid(0xd, n)[1];

/** The upper halves of ymm0-15 (XSAVE component 2). */
function avxRegs(): ArchRegister[] {
  const base = xsaveOffset(2);
  return Array.from({ length: 16 }, (_, i): ArchRegister => ({ name: `ymm${i}h`, bits: 128, group: 'avx', source: { xsave: base + i * 16, size: 16 } }));
}

/**
 * AVX-512 as gdb's 64bit-avx512.xml lays it out: xmm16-31, ymm16h-31h,
 * k0-7, zmm0h-31h. zmm16-31 are whole in component 7 (64 bytes each),
 * k0-7 in component 5, and the upper halves of zmm0-15 in component 6.
 */
function avx512Regs(): ArchRegister[] {
  const [k, zmmHi256, hi16Zmm] = [xsaveOffset(5), xsaveOffset(6), xsaveOffset(7)];
  const reg = (name: string, bits: number, source: RegisterSource): ArchRegister => ({ name, bits, group: 'avx512', source });
  const hi = (i: number, from: number, size: number) => ({ xsave: hi16Zmm + (i - 16) * 64 + from, size });
  return [
    ...Array.from({ length: 16 }, (_, j) => reg(`xmm${16 + j}`, 128, hi(16 + j, 0, 16))),
    ...Array.from({ length: 16 }, (_, j) => reg(`ymm${16 + j}h`, 128, hi(16 + j, 16, 16))),
    ...Array.from({ length: 8 }, (_, j) => reg(`k${j}`, 64, { xsave: k + j * 8, size: 8 })),
    ...Array.from({ length: 16 }, (_, j) => reg(`zmm${j}h`, 256, { xsave: zmmHi256 + j * 32, size: 32 })),
    ...Array.from({ length: 16 }, (_, j) => reg(`zmm${16 + j}h`, 256, hi(16 + j, 32, 32))),
  ];
}

const SETS = new Map<VectorLevel, readonly ArchRegister[]>();

/** The registers of a thread on this machine, for the vector registers it has: the base ones, then AVX's, then AVX-512's. */
export function archRegisters(level: VectorLevel): readonly ArchRegister[] {
  let set = SETS.get(level);
  if (!set) {
    set = level === 'sse' ? BASE : level === 'avx' ? [...BASE, ...avxRegs()] : [...BASE, ...avxRegs(), ...avx512Regs()];
    SETS.set(level, set);
  }
  return set;
}

/** A stopped thread's registers as Linux gives them: the general registers, the FXSAVE area, and the XSAVE area (when vector registers beyond SSE are read). */
export interface RegisterState {
  readonly gp: Registers;
  readonly fx: Buffer;
  readonly xsave?: Buffer;
}

/** Register `r`'s bytes (little-endian, `r.bits / 8` of them). */
export function readRegister(r: ArchRegister, state: RegisterState): Buffer {
  const out = Buffer.alloc(r.bits / 8);
  const s = r.source;
  if ('gp' in s) {
    const v = state.gp.get(s.gp);
    if (r.bits === 64) out.writeBigUInt64LE(v);
    else out.writeUInt32LE(Number(v & 0xffffffffn));
  } else if ('fx' in s) {
    state.fx.copy(out, 0, s.fx, s.fx + s.size);
  } else if ('xsave' in s) {
    state.xsave?.copy(out, 0, s.xsave, s.xsave + s.size);
  } else {
    // FXSAVE keeps an abridged tag byte (1 = valid); the full tag word has 11 for empty.
    const abridged = state.fx[4]!;
    let tag = 0;
    for (let k = 0; k < 8; k++) if (!(abridged & (1 << k))) tag |= 3 << (2 * k);
    out.writeUInt32LE(tag);
  }
  return out;
}

/** XSAVE state component `n` whose area holds byte `offset` of the XSAVE area (0: x87, 1: SSE, below 512). */
function componentAt(offset: number, size: number): number {
  if (offset < 512) return offset >= 160 || (offset >= 24 && offset < 32) ? 1 : 0;
  for (const n of [2, 5, 6, 7]) {
    const start = xsaveOffset(n);
    const len = cpuid(0xd, n)[0];
    if (offset >= start && offset + size <= start + len) return n;
  }
  return -1;
}

/**
 * Writes register `r`'s new bytes (little-endian) into the general
 * registers `gpRegs` or the XSAVE area `xsave` (whose first 512 bytes are
 * the FXSAVE area). Marks the XSAVE component written as in use
 * (XSTATE_BV), or the kernel would load its initial state instead. Returns
 * which of the two changed, or undefined when the bytes do not fit.
 */
export function writeRegister(r: ArchRegister, bytes: Buffer, gpRegs: Registers, xsave: Buffer): 'gp' | 'xsave' | undefined {
  if (bytes.length < r.bits / 8) return undefined;
  const s = r.source;
  if ('gp' in s) {
    gpRegs.set(s.gp, r.bits === 64 ? bytes.readBigUInt64LE(0) : BigInt(bytes.readUInt32LE(0)));
    return 'gp';
  }
  const [offset, size] = 'fx' in s ? [s.fx, s.size] : 'xsave' in s ? [s.xsave, s.size] : [4, 1];
  if (offset + size > xsave.length) return undefined;
  if ('ftag' in s) {
    // The full tag word (11 = empty) back to FXSAVE's abridged byte (1 = valid).
    const tag = bytes.readUInt32LE(0);
    let abridged = 0;
    for (let k = 0; k < 8; k++) if (((tag >> (2 * k)) & 3) !== 3) abridged |= 1 << k;
    xsave[4] = abridged;
  } else bytes.copy(xsave, offset, 0, size);
  const component = componentAt(offset, size);
  if (component >= 0 && xsave.length >= 520) xsave.writeBigUInt64LE(xsave.readBigUInt64LE(512) | (1n << BigInt(component)), 512);
  return 'xsave';
}
