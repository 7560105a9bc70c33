// Recognises an x86-64 instruction that writes memory at a fixed address:
// a RIP-relative memory operand (ModRM mod=00 rm=101), so where it writes
// does not depend on any register, with a write of known width. Used by
// watch-alias.ts to tell apart, at a fault on a watched page, the stores that
// can never touch the watched range (a loop counter next to a watched
// global) from the ones that may. Only a short list of common store forms is
// recognised; anything else (VEX/EVEX encodings, string instructions, bit
// tests with register offsets, segment overrides, 32-bit addressing) is
// treated as unknown, and handled the slow, exact way.

export interface FixedStore {
  /** Offset of the 32-bit displacement in the instruction. */
  readonly dispOffset: number;
  readonly disp: number;
  /** Instruction length in bytes. */
  readonly length: number;
  /** Bytes written. */
  readonly width: number;
}

/** Decodes the instruction at the start of `code` (at least 15 bytes when available). */
export function decodeFixedStore(code: Buffer): FixedStore | undefined {
  let i = 0;
  let op16 = false;
  let rep: 0xf2 | 0xf3 | undefined;
  for (; i < code.length; i++) {
    const b = code[i]!;
    if (b === 0x66) op16 = true;
    else if (b === 0xf2 || b === 0xf3) rep = b;
    else if (b === 0xf0 || b === 0x2e || b === 0x3e || b === 0x26 || b === 0x36) continue;
    else if (b === 0x67 || b === 0x64 || b === 0x65) return undefined; // 32-bit addressing, fs/gs base
    else break;
  }
  let rexW = false;
  if (i < code.length && (code[i]! & 0xf0) === 0x40) rexW = (code[i++]! & 8) !== 0;
  const opsize = rexW ? 8 : op16 ? 2 : 4;
  const immz = op16 ? 2 : 4;
  if (i >= code.length) return undefined;
  const op = code[i++]!;
  let width: number | undefined;
  let imm = 0;
  let regOk: (reg: number) => boolean = () => true;
  if (op === 0x0f) {
    const op2 = code[i++];
    if (op2 === undefined) return undefined;
    switch (op2) {
      case 0x11: width = rep === 0xf3 ? 4 : rep === 0xf2 ? 8 : 16; break; // movups/movupd/movss/movsd store
      case 0x29: case 0x2b: width = rep ? undefined : 16; break; // movaps/movapd, movntps/movntpd
      case 0x7f: width = rep === 0xf3 || op16 ? 16 : rep ? undefined : 8; break; // movdqu/movdqa, movq mm
      case 0xd6: width = op16 && !rep ? 8 : undefined; break; // movq xmm
      case 0x7e: width = op16 && !rep ? (rexW ? 8 : 4) : undefined; break; // movd/movq xmm store (f3 0f 7e is a load)
      case 0xe7: width = rep ? undefined : op16 ? 16 : 8; break; // movntdq, movntq
      case 0xb0: case 0xc0: width = 1; break; // cmpxchg, xadd
      case 0xb1: case 0xc1: width = opsize; break;
      default:
        if (op2 >= 0x90 && op2 <= 0x9f) width = 1; // setcc
    }
    if (rep && op2 !== 0x11 && op2 !== 0x7f) return undefined;
  } else {
    if (rep) return undefined;
    if (op < 0x40 && (op & 7) <= 1 && (op & 0x38) !== 0x38) width = op & 1 ? opsize : 1; // add/or/adc/sbb/and/sub/xor r/m, r
    else
      switch (op) {
        case 0x88: case 0x86: case 0xd0: case 0xd2: width = 1; break;
        case 0x89: case 0x87: case 0xd1: case 0xd3: width = opsize; break;
        case 0xc0: width = 1; imm = 1; break;
        case 0xc1: width = opsize; imm = 1; break;
        case 0xc6: width = 1; imm = 1; regOk = (r) => r === 0; break;
        case 0xc7: width = opsize; imm = immz; regOk = (r) => r === 0; break;
        case 0x80: width = 1; imm = 1; break;
        case 0x81: width = opsize; imm = immz; break;
        case 0x83: width = opsize; imm = 1; break;
        case 0xfe: width = 1; regOk = (r) => r <= 1; break;
        case 0xff: width = opsize; regOk = (r) => r <= 1; break;
        case 0xf6: width = 1; regOk = (r) => r === 2 || r === 3; break;
        case 0xf7: width = opsize; regOk = (r) => r === 2 || r === 3; break;
      }
  }
  if (width === undefined || i + 5 + imm > code.length) return undefined;
  const modrm = code[i]!;
  if (modrm >> 6 !== 0 || (modrm & 7) !== 5 || !regOk((modrm >> 3) & 7)) return undefined; // not RIP-relative
  return { dispOffset: i + 1, disp: code.readInt32LE(i + 1), length: i + 5 + imm, width };
}

/** The instruction at `pc` if it is a fixed-address store whose target is `address` (the fault's): decoding and fault agree. */
export function fixedStoreAt(code: Buffer, pc: bigint, address: bigint): FixedStore | undefined {
  const d = decodeFixedStore(code);
  if (!d) return undefined;
  return BigInt.asUintN(64, pc + BigInt(d.length) + BigInt(d.disp)) === address ? d : undefined;
}
