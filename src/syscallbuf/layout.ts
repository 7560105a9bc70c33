// The syscall buffer as trr sees it: the constants and memory layout shared
// with the preload library (src/preload/trr_preload.c, which must agree),
// and the decoding of buffered records for the recorder, replay and
// `trr dump`. See docs/ARCHITECTURE.md, "The syscall buffer".
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The page the library maps its untraced syscall stub at. */
export const STUB_ADDR = 0x70000000n;
/** End of the stub's syscall instruction: the instruction pointer the seccomp filter lets through. */
export const STUB_SYSCALL_END = STUB_ADDR + 25n;
/** The library's traced calls to trr (numbers no kernel syscall uses). */
export const TRR_CALL_INIT = 2000;
export const TRR_CALL_DIVERGE = 2001;
/**
 * Made right after a buffered call whose record has flag 1 (struct trr_rec's flags): the
 * syscall boundary where a signal that arrived during that call is delivered.
 */
export const TRR_CALL_SIGNAL = 2002;
export const BUF_VERSION = 1n;
export const BUF_MAGIC = 0x42525254;
/** Results of the init call: buffering in record mode, in replay mode. */
export const INIT_RECORD = 0n;
export const INIT_REPLAY = 1n;

/** Header field offsets (struct trr_hdr). */
export const HDR = {
  magic: 0,
  version: 4,
  capacity: 8,
  count: 12,
  used: 16,
  consumed: 20,
  consumedBytes: 24,
  busy: 28,
  forceTraced: 32,
  noWrites: 36,
  disabled: 40,
  outDev: 48,
  outIno: 64,
} as const;
export const HDR_SIZE = 128;
export const REC_SIZE = 80;

/** One buffered syscall as the library recorded it. */
export interface BufferedCall {
  readonly nr: number;
  readonly args: readonly bigint[];
  readonly result: bigint;
  /** Hash of the bytes the call sent (written data, a path), 0 when none. */
  readonly hash: bigint;
  /** Bytes the kernel wrote into the program's memory (at the address the call's semantics give). */
  readonly data: Buffer;
}

/** Decodes the records of a buffer (`count` records, `data` their bytes); throws a plain Error on bad data. */
export function decodeBufferedCalls(data: Buffer, count: number): BufferedCall[] {
  const out: BufferedCall[] = [];
  let off = 0;
  for (let i = 0; i < count; i++) {
    if (off + REC_SIZE > data.length) throw new Error(`buffered record ${i} runs past the end of the batch`);
    const size = data.readUInt32LE(off);
    const dataLen = data.readUInt32LE(off + 72);
    if (size < REC_SIZE || size % 8 !== 0 || off + size > data.length || REC_SIZE + dataLen > size) throw new Error(`buffered record ${i} has a bad size`);
    const args: bigint[] = [];
    for (let a = 0; a < 6; a++) args.push(data.readBigUInt64LE(off + 8 + a * 8));
    out.push({
      nr: data.readUInt32LE(off + 4),
      args,
      result: data.readBigInt64LE(off + 56),
      hash: data.readBigUInt64LE(off + 64),
      data: data.subarray(off + REC_SIZE, off + REC_SIZE + dataLen),
    });
    off += size;
  }
  if (off !== data.length) throw new Error(`the batch has ${data.length - off} bytes after its last record`);
  return out;
}

/** The preload library next to trr's build, if it was built. */
export function preloadLibrary(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/src/syscallbuf -> build/
  const lib = join(here, '..', '..', '..', 'build', 'libtrr_preload.so');
  return existsSync(lib) ? lib : undefined;
}
