// The x86-64 register set trr shows gdb: the target description XML and how
// each register is read from Linux's user_regs_struct, FXSAVE area and XSAVE
// area. The order here is the register numbering of the `g` and `p` packets.
import type { Registers, RegisterName } from '../arch/registers.js';
import { cpuid } from '../native/native.js';

type Source = { readonly gp: RegisterName } | { readonly fx: number; readonly size: number } | { readonly ftag: true } | { readonly xsave: number; readonly size: number };
interface Reg {
  readonly name: string;
  readonly bits: number;
  readonly type?: string;
  readonly feature: string;
  readonly source: Source;
}

const core = 'org.gnu.gdb.i386.core';
const gp = (name: RegisterName, bits = 64, type = 'int64'): Reg => ({ name, bits, type, feature: core, source: { gp: name } });
const gpNames: RegisterName[] = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi'];

export const REGS: readonly Reg[] = [
  ...gpNames.map((n) => gp(n)),
  gp('rbp', 64, 'data_ptr'),
  gp('rsp', 64, 'data_ptr'),
  ...(['r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as RegisterName[]).map((n) => gp(n)),
  gp('rip', 64, 'code_ptr'),
  gp('eflags', 32, 'i386_eflags'),
  ...(['cs', 'ss', 'ds', 'es', 'fs', 'gs'] as RegisterName[]).map((n) => gp(n, 32, 'int32')),
  ...Array.from({ length: 8 }, (_, i): Reg => ({ name: `st${i}`, bits: 80, type: 'i387_ext', feature: core, source: { fx: 32 + i * 16, size: 10 } })),
  { name: 'fctrl', bits: 32, type: 'int', feature: core, source: { fx: 0, size: 2 } },
  { name: 'fstat', bits: 32, type: 'int', feature: core, source: { fx: 2, size: 2 } },
  { name: 'ftag', bits: 32, type: 'int', feature: core, source: { ftag: true } },
  { name: 'fiseg', bits: 32, type: 'int', feature: core, source: { fx: 12, size: 4 } },
  { name: 'fioff', bits: 32, type: 'int', feature: core, source: { fx: 8, size: 4 } },
  { name: 'foseg', bits: 32, type: 'int', feature: core, source: { fx: 20, size: 4 } },
  { name: 'fooff', bits: 32, type: 'int', feature: core, source: { fx: 16, size: 4 } },
  { name: 'fop', bits: 32, type: 'int', feature: core, source: { fx: 6, size: 2 } },
  ...Array.from({ length: 16 }, (_, i): Reg => ({ name: `xmm${i}`, bits: 128, type: 'vec128', feature: 'org.gnu.gdb.i386.sse', source: { fx: 160 + i * 16, size: 16 } })),
  { name: 'mxcsr', bits: 32, type: 'i386_mxcsr', feature: 'org.gnu.gdb.i386.sse', source: { fx: 24, size: 4 } },
  { name: 'orig_rax', bits: 64, type: 'int', feature: 'org.gnu.gdb.i386.linux', source: { gp: 'orig_rax' } },
  { name: 'fs_base', bits: 64, type: 'int', feature: 'org.gnu.gdb.i386.segments', source: { gp: 'fs_base' } },
  { name: 'gs_base', bits: 64, type: 'int', feature: 'org.gnu.gdb.i386.segments', source: { gp: 'gs_base' } },
];

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
function avxRegs(): Reg[] {
  const base = xsaveOffset(2);
  return Array.from({ length: 16 }, (_, i): Reg => ({ name: `ymm${i}h`, bits: 128, type: 'uint128', feature: 'org.gnu.gdb.i386.avx', source: { xsave: base + i * 16, size: 16 } }));
}

/**
 * AVX-512 as gdb's 64bit-avx512.xml lays it out: xmm16-31, ymm16h-31h,
 * k0-7, zmm0h-31h. zmm16-31 are whole in component 7 (64 bytes each),
 * k0-7 in component 5, and the upper halves of zmm0-15 in component 6.
 */
function avx512Regs(): Reg[] {
  const [k, zmmHi256, hi16Zmm] = [xsaveOffset(5), xsaveOffset(6), xsaveOffset(7)];
  const f = 'org.gnu.gdb.i386.avx512';
  const hi = (i: number, from: number, size: number) => ({ xsave: hi16Zmm + (i - 16) * 64 + from, size });
  return [
    ...Array.from({ length: 16 }, (_, j): Reg => ({ name: `xmm${16 + j}`, bits: 128, type: 'vec128', feature: f, source: hi(16 + j, 0, 16) })),
    ...Array.from({ length: 16 }, (_, j): Reg => ({ name: `ymm${16 + j}h`, bits: 128, type: 'uint128', feature: f, source: hi(16 + j, 16, 16) })),
    ...Array.from({ length: 8 }, (_, j): Reg => ({ name: `k${j}`, bits: 64, type: 'uint64', feature: f, source: { xsave: k + j * 8, size: 8 } })),
    ...Array.from({ length: 16 }, (_, j): Reg => ({ name: `zmm${j}h`, bits: 256, type: 'v2ui128', feature: f, source: { xsave: zmmHi256 + j * 32, size: 32 } })),
    ...Array.from({ length: 16 }, (_, j): Reg => ({ name: `zmm${16 + j}h`, bits: 256, type: 'v2ui128', feature: f, source: hi(16 + j, 32, 32) })),
  ];
}

const SETS = new Map<VectorLevel, readonly Reg[]>();

/** The registers shown to gdb, in `g`/`p` order, for the vector registers the machine has. */
export function registerSet(level: VectorLevel): readonly Reg[] {
  let set = SETS.get(level);
  if (!set) {
    set = level === 'sse' ? REGS : level === 'avx' ? [...REGS, ...avxRegs()] : [...REGS, ...avxRegs(), ...avx512Regs()];
    SETS.set(level, set);
  }
  return set;
}

const SSE_TYPES = `<vector id="v8bf16" type="bfloat16" count="8"/><vector id="v4f" type="ieee_single" count="4"/><vector id="v2d" type="ieee_double" count="2"/><vector id="v16i8" type="int8" count="16"/><vector id="v8i16" type="int16" count="8"/><vector id="v4i32" type="int32" count="4"/><vector id="v2i64" type="int64" count="2"/><union id="vec128"><field name="v8_bfloat16" type="v8bf16"/><field name="v4_float" type="v4f"/><field name="v2_double" type="v2d"/><field name="v16_int8" type="v16i8"/><field name="v8_int16" type="v8i16"/><field name="v4_int32" type="v4i32"/><field name="v2_int64" type="v2i64"/><field name="uint128" type="uint128"/></union><flags id="i386_mxcsr" size="4"><field name="IE" start="0" end="0"/><field name="DE" start="1" end="1"/><field name="ZE" start="2" end="2"/><field name="OE" start="3" end="3"/><field name="UE" start="4" end="4"/><field name="PE" start="5" end="5"/><field name="DAZ" start="6" end="6"/><field name="IM" start="7" end="7"/><field name="DM" start="8" end="8"/><field name="ZM" start="9" end="9"/><field name="OM" start="10" end="10"/><field name="UM" start="11" end="11"/><field name="PM" start="12" end="12"/><field name="FZ" start="15" end="15"/></flags>`;
const CORE_TYPES = `<flags id="i386_eflags" size="4"><field name="CF" start="0" end="0"/><field name="" start="1" end="1"/><field name="PF" start="2" end="2"/><field name="AF" start="4" end="4"/><field name="ZF" start="6" end="6"/><field name="SF" start="7" end="7"/><field name="TF" start="8" end="8"/><field name="IF" start="9" end="9"/><field name="DF" start="10" end="10"/><field name="OF" start="11" end="11"/><field name="NT" start="14" end="14"/><field name="RF" start="16" end="16"/><field name="VM" start="17" end="17"/><field name="AC" start="18" end="18"/><field name="VIF" start="19" end="19"/><field name="VIP" start="20" end="20"/><field name="ID" start="21" end="21"/></flags>`;

/** The whole target description as one document (no xi:include). */
export function targetXml(level: VectorLevel): string {
  const regsAll = registerSet(level);
  const features = [...new Set(regsAll.map((r) => r.feature))];
  const body = features
    .map((f) => {
      // Types belong to a feature: AVX-512's xmm16-31 need vec128 again, and its zmm halves a pair of uint128.
      const types =
        f === core ? CORE_TYPES
        : f === 'org.gnu.gdb.i386.sse' ? SSE_TYPES
        : f === 'org.gnu.gdb.i386.avx512' ? `${SSE_TYPES.replace(/<flags id="i386_mxcsr"[\s\S]*$/, '')}<vector id="v2ui128" type="uint128" count="2"/>`
        : '';
      const regs = regsAll.map((r, i) => (r.feature === f ? `<reg name="${r.name}" bitsize="${r.bits}" type="${r.type ?? 'int'}" regnum="${i}"${f === core && i >= 24 ? ' group="float"' : ''}/>` : '')).join('');
      return `<feature name="${f}">${types}${regs}</feature>`;
    })
    .join('');
  return `<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target><architecture>i386:x86-64</architecture><osabi>GNU/Linux</osabi>${body}</target>`;
}

/** Register `i`'s bytes (little-endian), from the general registers, the FXSAVE area or the XSAVE area. */
export function registerBytes(i: number, gpRegs: Registers, fx: Buffer, xsave?: Buffer, level: VectorLevel = 'sse'): Buffer | undefined {
  const r = registerSet(level)[i];
  if (!r) return undefined;
  const out = Buffer.alloc(r.bits / 8);
  const s = r.source;
  if ('gp' in s) {
    const v = gpRegs.get(s.gp);
    if (r.bits === 64) out.writeBigUInt64LE(v);
    else out.writeUInt32LE(Number(v & 0xffffffffn));
  } else if ('fx' in s) {
    fx.copy(out, 0, s.fx, s.fx + s.size);
  } else if ('xsave' in s) {
    xsave?.copy(out, 0, s.xsave, s.xsave + s.size);
  } else {
    // FXSAVE keeps an abridged tag byte (1 = valid); gdb wants the full tag word (11 = empty).
    const abridged = fx[4]!;
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
 * Writes register `i`'s new bytes (little-endian, as gdb sends them) into
 * the general registers `gpRegs` or the XSAVE area `xsave` (whose first 512
 * bytes are the FXSAVE area). Marks the XSAVE component written as in use
 * (XSTATE_BV), or the kernel would load its initial state instead. Returns
 * which of the two changed, or undefined for an unknown register.
 */
export function writeRegisterBytes(i: number, bytes: Buffer, gpRegs: Registers, xsave: Buffer, level: VectorLevel = 'sse'): 'gp' | 'xsave' | undefined {
  const r = registerSet(level)[i];
  if (!r || bytes.length < r.bits / 8) return undefined;
  const s = r.source;
  if ('gp' in s) {
    gpRegs.set(s.gp, r.bits === 64 ? bytes.readBigUInt64LE(0) : BigInt(bytes.readUInt32LE(0)));
    return 'gp';
  }
  const [offset, size] = 'fx' in s ? [s.fx, s.size] : 'xsave' in s ? [s.xsave, s.size] : [4, 1];
  if (offset + size > xsave.length) return undefined;
  if ('ftag' in s) {
    // gdb's full tag word (11 = empty) back to FXSAVE's abridged byte (1 = valid).
    const tag = bytes.readUInt32LE(0);
    let abridged = 0;
    for (let k = 0; k < 8; k++) if (((tag >> (2 * k)) & 3) !== 3) abridged |= 1 << k;
    xsave[4] = abridged;
  } else bytes.copy(xsave, offset, 0, size);
  const component = componentAt(offset, size);
  if (component >= 0 && xsave.length >= 520) xsave.writeBigUInt64LE(xsave.readBigUInt64LE(512) | (1n << BigInt(component)), 512);
  return 'xsave';
}

/** The byte size of register `i` in `g`/`G` packets. */
export function registerSize(i: number, level: VectorLevel): number | undefined {
  const r = registerSet(level)[i];
  return r && r.bits / 8;
}
