// State fingerprints of a thread at an asynchronous point (a place in the
// middle of its user code where the recorder stopped it): what replay
// compares, at each candidate hit of the point's instruction, to decide that
// the replayed thread stands in the recorded state (design note
// determinism-without-pmu.md, section 2). Record and replay compute them with
// the same code.
//
// - Registers: every general register, fs/gs base and segment selectors
//   included; of eflags only the bits the program can see (not the resume
//   and trap flags, which belong to the debugger).
// - FP: the x87/SSE register values and the upper halves of the AVX
//   registers, not the bookkeeping the CPU may fill in differently (the
//   last x87 instruction and operand pointers, which AMD CPUs save only
//   after an x87 error, and the XSAVE header).
// - Memory: a hash of the writable private mappings of the process that the
//   program's own code changes: the executable's data, the heap, anonymous
//   mappings and the thread's own stack above its stack pointer and red
//   zone. Left out: what trr keeps there (the syscall buffers), shared
//   libraries' data (the dynamic loader counts its symbol lookups, and the
//   preload library's record and replay paths look up and keep different
//   things), other threads' stacks (they stand at their events; the
//   preload library's two paths leave different dead bytes in their
//   frames), and dead stack below the stack pointer. The preload library
//   zeroes the stack its own calls used (trr_preload.c, THUNK), so that the
//   thread's live frames hold the same bytes in record and replay.
import { createHash } from 'node:crypto';
import { REGISTER_NAMES, type Registers } from '../arch/registers.js';
import type { AddressSpace } from './task.js';
import type { MemoryWrite } from '../trace/format.js';
import { parseMaps, readMapsText } from './procfs.js';

const EFLAGS_DEBUG_BITS = 0x10100n; // RF, TF
const RED_ZONE = 128n;
const CHUNK = 1 << 20;
const PAGE = 4096n;
/** TRR_LOG=async-mem: the hash of each range, to find what differs between record and replay. */
const MEM_LOG = (process.env.TRR_LOG ?? '').includes('async-mem');

/** Whether two register sets stand for the same state (eflags' debugger bits aside). */
export function sameState(a: Registers, b: Registers): boolean {
  for (const name of REGISTER_NAMES) {
    const x = a.get(name);
    const y = b.get(name);
    if (name === 'eflags' ? (x & ~EFLAGS_DEBUG_BITS) !== (y & ~EFLAGS_DEBUG_BITS) : x !== y) return false;
  }
  return true;
}

/** SHA-1 of the FP/SSE/AVX register values in an XSAVE area (standard format). */
export function fpFingerprint(xsave: Buffer): Buffer {
  const h = createHash('sha1');
  h.update(xsave.subarray(0, 6)); // fcw, fsw, ftw
  h.update(xsave.subarray(24, 28)); // mxcsr
  h.update(xsave.subarray(32, 416)); // st0-7, xmm0-15
  const bv = xsave.length >= 520 ? xsave.readBigUInt64LE(512) : 0n;
  // The upper halves of ymm0-15 (component 2, at 576 in the standard format); zero when in their initial state.
  h.update((bv & 4n) !== 0n && xsave.length >= 832 ? xsave.subarray(576, 832) : Buffer.alloc(256));
  return h.digest();
}

export interface MemoryExclusions {
  /** Ranges trr keeps in the process: [start, length]. */
  readonly ranges: readonly (readonly [bigint, bigint])[];
  /** The stack pointer of the thread at the point. */
  readonly stackPointer: bigint;
  /** Stack pointers of the process's other threads. */
  readonly otherStackPointers: readonly bigint[];
}

/** SHA-1 of the process's writable private memory, as the program can depend on it (see the top of this file). */
export function memoryFingerprint(pid: number, mem: AddressSpace, ex: MemoryExclusions, writable?: (start: bigint, end: bigint) => boolean): Buffer {
  const h = createHash('sha1');
  for (const [a, b] of pieces(pid, ex, writable)) {
    const piece = MEM_LOG ? createHash('sha1') : undefined;
    for (let p = a; p < b; p += BigInt(CHUNK)) {
      const data = mem.readPartial(p, Number(b - p < BigInt(CHUNK) ? b - p : BigInt(CHUNK)));
      h.update(data);
      piece?.update(data);
    }
    if (piece) process.stderr.write(`[async-mem] ${a.toString(16)}-${b.toString(16)} ${piece.digest('hex').slice(0, 12)}\n`);
  }
  return h.digest();
}

/**
 * The same memory as writes that recreate it: the pages (or the parts of
 * pages the fingerprint covers) whose contents changed since the image
 * `previous` describes (empty: all of them). `previous` is updated.
 */
export function memoryImage(pid: number, mem: AddressSpace, ex: MemoryExclusions, previous: Map<bigint, Buffer>): MemoryWrite[] {
  const out: MemoryWrite[] = [];
  for (const [a, b] of pieces(pid, ex)) {
    for (let p = a; p < b; ) {
      const pageEnd = (p & ~(PAGE - 1n)) + PAGE;
      const end = pageEnd < b ? pageEnd : b;
      const data = mem.readPartial(p, Number(end - p));
      const key = createHash('sha1').update(`${p}:`).update(data).digest();
      const page = p & ~(PAGE - 1n);
      if (!previous.get(page)?.equals(key)) {
        previous.set(page, key);
        if (data.length > 0) out.push([p, data]);
      }
      p = end;
    }
  }
  return out;
}

/** The address ranges the fingerprint covers. */
function pieces(pid: number, ex: MemoryExclusions, writable?: (start: bigint, end: bigint) => boolean): [bigint, bigint][] {
  const out: [bigint, bigint][] = [];
  for (const m of parseMaps(readMapsText(pid))) {
    // Pages trr protects for watchpoints are writable for the program (`writable`).
    if ((m.perms[1] !== 'w' && !writable?.(m.start, m.end)) || m.perms[3] !== 'p') continue;
    if (m.path.startsWith('[v') || /\.so(\.|$)/.test(m.path)) continue;
    const inside = (sp: bigint) => sp > m.start && sp <= m.end;
    if (ex.otherStackPointers.some(inside) && !inside(ex.stackPointer)) continue; // another thread's stack
    let ranges: [bigint, bigint][] = m.perms[1] === 'w' ? [[m.start, m.end]] : programWritable(m.start, m.end, writable!);
    // Below the thread's stack pointer and red zone: dead stack.
    if (inside(ex.stackPointer) && ex.stackPointer - RED_ZONE > m.start) ranges = ranges.flatMap(([a, b]) => cut(a, b, m.start, ex.stackPointer - RED_ZONE));
    for (const [s, l] of ex.ranges) ranges = ranges.flatMap(([a, b]) => cut(a, b, s, s + l));
    out.push(...ranges);
  }
  return out;
}

/**
 * The pages of a mapping the kernel shows read-only that are writable for
 * the program (trr protects them for a watchpoint). Only those: the kernel
 * merges a protected page with a read-only neighbour (a RELRO page next to
 * .data) into one line of the maps, which the recording saw apart.
 */
function programWritable(start: bigint, end: bigint, writable: (start: bigint, end: bigint) => boolean): [bigint, bigint][] {
  const out: [bigint, bigint][] = [];
  for (let p = start; p < end; p += PAGE) {
    if (!writable(p, p + PAGE)) continue;
    const last = out[out.length - 1];
    if (last && last[1] === p) last[1] = p + PAGE;
    else out.push([p, p + PAGE]);
  }
  return out;
}

/** [a, b) without [s, e). */
function cut(a: bigint, b: bigint, s: bigint, e: bigint): [bigint, bigint][] {
  if (e <= a || s >= b) return [[a, b]];
  const out: [bigint, bigint][] = [];
  if (s > a) out.push([a, s]);
  if (e < b) out.push([e, b]);
  return out;
}
