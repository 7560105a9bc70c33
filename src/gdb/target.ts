// The x86-64 register set trr shows gdb: the target description XML, and
// gdb's numbering of the registers in `g` and `p` packets. What each register
// is and where its bytes are (user_regs_struct, FXSAVE, XSAVE) is src/arch's
// (register-file.ts); this adds only gdb's feature and type names.
import type { Registers } from '../arch/registers.js';
import { archRegisters, readRegister, writeRegister, type ArchRegister, type RegisterGroup, type VectorLevel } from '../arch/register-file.js';

export { vectorLevel, type VectorLevel } from '../arch/register-file.js';

interface Reg {
  readonly name: string;
  readonly bits: number;
  readonly type: string;
  readonly feature: string;
  readonly arch: ArchRegister;
}

const core = 'org.gnu.gdb.i386.core';
const FEATURE: Record<RegisterGroup, string> = {
  general: core,
  segment: core,
  x87: core,
  sse: 'org.gnu.gdb.i386.sse',
  linux: 'org.gnu.gdb.i386.linux',
  'segment-base': 'org.gnu.gdb.i386.segments',
  avx: 'org.gnu.gdb.i386.avx',
  avx512: 'org.gnu.gdb.i386.avx512',
};

/** gdb's type of register `r` (as in its amd64 feature files). */
function gdbType(r: ArchRegister): string {
  switch (r.group) {
    case 'general':
      return r.name === 'rbp' || r.name === 'rsp' ? 'data_ptr' : r.name === 'rip' ? 'code_ptr' : r.name === 'eflags' ? 'i386_eflags' : 'int64';
    case 'segment':
      return 'int32';
    case 'x87':
      return r.name.startsWith('st') ? 'i387_ext' : 'int';
    case 'sse':
      return r.name === 'mxcsr' ? 'i386_mxcsr' : 'vec128';
    case 'linux':
    case 'segment-base':
      return 'int';
    case 'avx':
      return 'uint128';
    case 'avx512':
      return r.name.startsWith('xmm') ? 'vec128' : r.name.startsWith('k') ? 'uint64' : r.name.startsWith('zmm') ? 'v2ui128' : 'uint128';
  }
}

const gdbReg = (r: ArchRegister): Reg => ({ name: r.name, bits: r.bits, type: gdbType(r), feature: FEATURE[r.group], arch: r });

const SETS = new Map<VectorLevel, readonly Reg[]>();

/** The registers shown to gdb, in `g`/`p` order, for the vector registers the machine has. */
export function registerSet(level: VectorLevel): readonly Reg[] {
  let set = SETS.get(level);
  if (!set) {
    set = archRegisters(level).map(gdbReg);
    SETS.set(level, set);
  }
  return set;
}

/** The registers every x86-64 machine has (gdb's numbers 0..). */
export const REGS: readonly Reg[] = registerSet('sse');

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
      const regs = regsAll.map((r, i) => (r.feature === f ? `<reg name="${r.name}" bitsize="${r.bits}" type="${r.type}" regnum="${i}"${r.arch.group === 'x87' ? ' group="float"' : ''}/>` : '')).join('');
      return `<feature name="${f}">${types}${regs}</feature>`;
    })
    .join('');
  return `<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target><architecture>i386:x86-64</architecture><osabi>GNU/Linux</osabi>${body}</target>`;
}

/** Register `i`'s bytes (little-endian), decoded by src/arch from the general registers, the FXSAVE area or the XSAVE area. */
export function registerBytes(i: number, gpRegs: Registers, fx: Buffer, xsave?: Buffer, level: VectorLevel = 'sse'): Buffer | undefined {
  const r = registerSet(level)[i];
  return r && readRegister(r.arch, { gp: gpRegs, fx, xsave });
}

/**
 * Writes register `i`'s new bytes (as gdb sends them) into the general
 * registers `gpRegs` or the XSAVE area `xsave`, through src/arch. Returns
 * which of the two changed, or undefined for an unknown register.
 */
export function writeRegisterBytes(i: number, bytes: Buffer, gpRegs: Registers, xsave: Buffer, level: VectorLevel = 'sse'): 'gp' | 'xsave' | undefined {
  const r = registerSet(level)[i];
  return r && writeRegister(r.arch, bytes, gpRegs, xsave);
}

/** The byte size of register `i` in `g`/`G` packets. */
export function registerSize(i: number, level: VectorLevel): number | undefined {
  const r = registerSet(level)[i];
  return r && r.bits / 8;
}
