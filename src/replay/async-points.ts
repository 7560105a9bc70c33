// Finding an asynchronous point again (an async-point record: the recorder
// stopped the thread in the middle of its user code). The thread runs from
// its previous event with a breakpoint at the recorded instruction; at each
// hit the registers are compared first (cheap), then the FP/SSE/AVX
// registers and the memory fingerprint (src/task/fingerprint.ts). The first
// hit where all match is in the recorded state, so everything after it is
// as recorded. Reaching the thread's next syscall, a fault, or more than
// MAX_CANDIDATES hits without a match is a divergence. See
// docs/ARCHITECTURE.md ("Asynchronous points").
import { Registers } from '../arch/registers.js';
import { fpFingerprint, memoryFingerprint, sameState, type MemoryExclusions } from '../task/fingerprint.js';
import type { AsyncPointRecord } from '../trace/format.js';
import { STUB_ADDR } from '../syscallbuf/layout.js';
import { DivergenceError } from '../util/errors.js';
import { PAGE, type WatchSet } from './watchpoints.js';
import type { ReplayTask } from './task-control.js';

/** More candidate hits than this without a match: replay stops with a divergence rather than search on. */
export const MAX_CANDIDATES = 200_000;
const BUFFER_BYTES = 1n << 20n;

export const ASYNC_LOG = (process.env.TRR_LOG ?? '').includes('async');

/** Candidate stops replay made to find asynchronous points, for `npm run bench` and TRR_LOG=async. */
export const asyncStats = { points: 0, candidates: 0, teleports: 0 };

/** What the search needs from the session. */
export interface AsyncSearchHost {
  /** Runs t to its next stop; 'hit' when it reached the target breakpoint (t then stands at it, trap undone). */
  runToTarget(t: ReplayTask): 'hit' | DivergenceError;
  /** The other threads of t's process, for their stack pointers. */
  threadsOf(t: ReplayTask): Iterable<ReplayTask>;
  watchSetOf(t: ReplayTask): WatchSet | undefined;
}

/** Whether t stands in the state the record describes: true, or what differs (the memory's hash when only memory does). */
export function matchesPoint(host: AsyncSearchHost, t: ReplayTask, r: AsyncPointRecord): true | 'registers' | Buffer {
  if (!sameState(t.task.regs(), new Registers(r.regs))) return 'registers';
  if (!fpFingerprint(t.task.xstate()).equals(r.fp)) return 'registers';
  const mem = memoryFingerprint(t.task.tgid, t.task.mem, exclusions(host, t), writableFor(host.watchSetOf(t)));
  return mem.equals(r.memHash) ? true : mem;
}

/** Visits with the recorded registers but the same other memory, in a row, after which the search stops. */
const STUCK_VISITS = 16;

/**
 * Runs t to the recorded point; returns the number of candidate hits it
 * looked at. The caller has inserted the breakpoint at the point's
 * instruction and takes it out again.
 */
export function searchPoint(host: AsyncSearchHost, t: ReplayTask, r: AsyncPointRecord): number {
  const pc = new Registers(r.regs).ip;
  let lastMem: Buffer | undefined;
  let sameMem = 0;
  for (let hits = 1; ; hits++) {
    const stop = host.runToTarget(t);
    if (stop !== 'hit') {
      throw new DivergenceError(`thread ${t.recTid} did not reach the asynchronous point at ip 0x${pc.toString(16)} where the recording stopped it (after ${hits - 1} visits of that instruction in other states): ${stop.message}`);
    }
    const m = matchesPoint(host, t, r);
    if (Buffer.isBuffer(m)) {
      // The registers are as recorded, the memory is not, and it does not change while the thread loops here.
      sameMem = lastMem?.equals(m) ? sameMem + 1 : 1;
      lastMem = m;
      if (sameMem >= STUCK_VISITS) {
        throw new DivergenceError(`thread ${t.recTid} stands at ip 0x${pc.toString(16)} with the registers the recording stopped it with (an asynchronous point), but its memory differs from the recording's there and does not change while it loops`);
      }
    }
    if (m === true) {
      asyncStats.points++;
      asyncStats.candidates += hits;
      if (ASYNC_LOG) process.stderr.write(`[async] thread ${t.recTid} at 0x${pc.toString(16)}: found at candidate ${hits}\n`);
      return hits;
    }
    if (hits >= MAX_CANDIDATES) {
      throw new DivergenceError(`thread ${t.recTid} visited ip 0x${pc.toString(16)} ${hits} times without reaching the state the recording stopped it in there (an asynchronous point); replay gives up rather than search on`);
    }
  }
}

/**
 * Puts t in the state of a teleport point without running it there: its
 * registers, XSAVE area and the memory recorded with the point; then checks
 * the fingerprints, which must match as if it had run.
 */
export function teleport(host: AsyncSearchHost, t: ReplayTask, r: AsyncPointRecord, state: NonNullable<AsyncPointRecord['teleport']>): void {
  for (const [addr, data] of state.mem) {
    try {
      t.task.mem.write(addr, data);
    } catch (e) {
      throw new DivergenceError(`thread ${t.recTid} cannot be put in the state of its asynchronous point: its memory at 0x${addr.toString(16)} is not there in the replay (${(e as Error).message})`);
    }
  }
  t.task.setXstate(state.xstate);
  t.task.setRegs(new Registers(r.regs));
  asyncStats.teleports++;
  if (matchesPoint(host, t, r) !== true) {
    throw new DivergenceError(`thread ${t.recTid} was put in the state of its asynchronous point at ip 0x${new Registers(r.regs).ip.toString(16)}, but its memory then differs from the recording's`);
  }
  if (ASYNC_LOG) process.stderr.write(`[async] thread ${t.recTid} teleported to 0x${new Registers(r.regs).ip.toString(16)} (${state.mem.length} memory ranges)\n`);
}

function exclusions(host: AsyncSearchHost, t: ReplayTask): MemoryExclusions {
  const ranges: [bigint, bigint][] = [[STUB_ADDR, 4096n]];
  const otherStackPointers: bigint[] = [];
  for (const o of host.threadsOf(t)) {
    if (o.buffer !== undefined) ranges.push([o.buffer, BUFFER_BYTES]);
    if (o === t || o.state === 'gone' || o.state === 'exiting') continue;
    try {
      otherStackPointers.push(o.state === 'running' || o.state === 'in-kernel' ? o.split!.regs.sp : o.task.regs().sp);
    } catch {
      // running without a known entry: no stack pointer to go by
    }
  }
  return { ranges, stackPointer: t.task.regs().sp, otherStackPointers };
}

/** Pages protected for watchpoints are writable for the program. */
function writableFor(set: WatchSet | undefined): ((start: bigint, end: bigint) => boolean) | undefined {
  if (!set || set.watches.length === 0) return undefined;
  return (start, end) => {
    for (let p = start; p < end; p += PAGE) if (((set.programProt.get(p) ?? 0) & 2) !== 0) return true;
    return false;
  };
}
