// Asynchronous points at record time: stopping the running thread in the
// middle of its user code, to let another thread run (its slice is up while
// it spins or computes without syscalls) or to deliver a signal that would
// otherwise wait for its next syscall. Without performance counters replay
// can find such a point again only by state (registers, FP registers, a
// memory fingerprint) at hits of its instruction, one ptrace stop per hit;
// so the recorder only takes points that replay finds cheaply:
//
// - it interrupts the thread (PTRACE_INTERRUPT) where it happens to be, at
//   instruction P, and refuses a point inside trr's preload library or a
//   syscall it buffers (their record and replay paths differ);
// - it probes P: a breakpoint there, and the thread runs on to its next hit.
//   If the registers (general and FP/SSE/AVX) are the same at that hit, and
//   the memory fingerprint is the same at the hit after it, the thread is in
//   a loop whose state does not change (it spins, waiting for memory another
//   thread will change, or for a signal): replay matches the point at the
//   loop's first iteration, or within a few. A loop that keeps its state in
//   memory or in SSE registers (compiled without optimisation, or a vector
//   accumulator) has the same general registers at every visit but is not
//   waiting: replay would compare millions of visits. (Estimating how often P comes round from
//   the time between hits was tried: on a loaded machine the ptrace stop
//   latency hides hot loops, and replay then faced millions of candidates.)
// - otherwise (a hot loop that computes) no point is taken now: the thread
//   runs on, to its next syscall or a later probe that lands better; when
//   that takes too long, the point is a *teleport* point: the record also
//   carries the registers, XSAVE area and the memory that changed since the
//   process's previous teleport point, so that replay can put the thread in
//   that state without running the interval (design note, section 3).
//
// See docs/ARCHITECTURE.md ("Asynchronous points") and the async-point
// record in docs/trace-format.md.
import { Registers } from '../arch/registers.js';
import { PTRACE, PTRACE_EVENT, WAIT, ptraceRaw, waitpid, waitStatus } from '../native/native.js';
import { SIG, SI_KERNEL } from '../task/kernel-abi.js';
import { fpFingerprint, memoryFingerprint, memoryImage, sameState, type MemoryExclusions } from '../task/fingerprint.js';
import type { AsyncPointRecord } from '../trace/format.js';
import type { Task } from '../task/task.js';

/** How long the probe waits for the thread to come back to P. */
const PROBE_MS = 20;

export type ProbeResult =
  /** The thread stands at a point replay finds cheaply (stopped; registers set), with its memory fingerprint there. */
  | { readonly kind: 'point'; readonly regs: Registers; readonly memHash: Buffer }
  /** The thread stands at P (stopped) in a loop that changes state: finding it again by its state could cost a stop per iteration. */
  | { readonly kind: 'costly'; readonly regs: Registers }
  /** No point now (the thread runs on): try again later. */
  | { readonly kind: 'later' }
  /** The thread stopped for another reason (a syscall, a signal, its exit): the caller handles this status. */
  | { readonly kind: 'stopped'; readonly status: number };

export interface ProbeContext {
  /** Whether the thread is somewhere its record and replay runs differ (trr's preload library). */
  readonly unsafeAt: (ip: bigint) => boolean;
  /** What the memory fingerprint leaves out with the thread at these registers. */
  readonly exclusions: (regs: Registers) => MemoryExclusions;
}

/** Interrupts the running thread and probes where it stands (see the top of this file). */
export function probe(task: Task, ctx: ProbeContext): ProbeResult {
  if (ptraceRaw(PTRACE.INTERRUPT, task.tid, 0, 0) < 0) return { kind: 'later' };
  const w = waitpid(task.tid, WAIT.__WALL);
  if (!w) return { kind: 'later' };
  task.invalidate();
  if (!isInterruptStop(w.status)) return { kind: 'stopped', status: w.status };
  const r0 = task.regs().clone();
  if (r0.syscallNo !== -1 || ctx.unsafeAt(r0.ip)) return resumeLater(task);
  const pc = r0.ip;
  const fp0 = fpFingerprint(task.xstate());
  // Execute P itself first: the breakpoint must catch P's next visit, not the one the thread stands at.
  const v1 = revisit(task, pc, r0, fp0);
  if (v1.kind !== 'visit') return v1;
  // The registers repeat: the memory must too, from this visit to the next (the first visit's was not hashed, to keep probes that land in computing loops cheap).
  const m1 = memoryFingerprint(task.tgid, task.mem, ctx.exclusions(v1.regs));
  const v2 = revisit(task, pc, v1.regs, fp0);
  if (v2.kind !== 'visit') return v2;
  const r2 = v2.regs;
  const m2 = memoryFingerprint(task.tgid, task.mem, ctx.exclusions(r2));
  if (!m2.equals(m1)) return { kind: 'costly', regs: r2 };
  return { kind: 'point', regs: r2, memHash: m2 };
}

/**
 * Steps the thread (at pc) off P and runs it to P's next visit: 'visit'
 * when its registers and FP state there repeat `prev` and `fp0`, 'costly'
 * when they do not, or what the probe reports instead.
 */
function revisit(task: Task, pc: bigint, prev: Registers, fp0: Buffer): { readonly kind: 'visit'; readonly regs: Registers } | ProbeResult {
  const off = stepOff(task);
  if (off) return off;
  const v = nextVisit(task, pc);
  if (v.kind !== 'visit') return v;
  if (!sameState(prev, v.regs) || !fpFingerprint(task.xstate()).equals(fp0)) return { kind: 'costly', regs: v.regs };
  return v;
}

/** Executes the instruction the thread stands at; a result when it did not come back with the step's own trap. */
function stepOff(task: Task): ProbeResult | undefined {
  ptraceRaw(PTRACE.SINGLESTEP, task.tid, 0, 0);
  const ws = waitpid(task.tid, WAIT.__WALL);
  task.invalidate();
  if (!ws) return { kind: 'later' };
  if (!waitStatus.stopped(ws.status) || waitStatus.event(ws.status) !== 0 || waitStatus.stopSig(ws.status) !== SIG.TRAP || task.sigInfo().readInt32LE(8) === SI_KERNEL) {
    return { kind: 'stopped', status: ws.status };
  }
  return undefined;
}

/**
 * Lets the thread (stopped just past pc) run to pc's next visit, with an
 * int3 there for at most PROBE_MS: 'visit' with the thread stopped at pc
 * (the trap undone), or what the probe reports instead.
 */
function nextVisit(task: Task, pc: bigint): { readonly kind: 'visit'; readonly regs: Registers } | ProbeResult {
  const original = task.mem.readPartial(pc, 1);
  if (original.length !== 1) return resumeLater(task);
  task.mem.write(pc, Buffer.from([0xcc]));
  ptraceRaw(PTRACE.CONT, task.tid, 0, 0);
  let w2 = waitpid(task.tid, WAIT.__WALL, PROBE_MS);
  if (!w2) {
    // P did not come round: stop the thread again, wherever it is now, to take the int3 out.
    ptraceRaw(PTRACE.INTERRUPT, task.tid, 0, 0);
    w2 = waitpid(task.tid, WAIT.__WALL);
    task.invalidate();
    task.mem.write(pc, original);
    if (!w2) return { kind: 'later' };
    if (!isInterruptStop(w2.status) && !isTrapAt(task, w2.status, pc)) return { kind: 'stopped', status: w2.status };
    if (isTrapAt(task, w2.status, pc)) backUp(task, pc);
    return resumeLater(task);
  }
  task.invalidate();
  task.mem.write(pc, original);
  if (!isTrapAt(task, w2.status, pc)) return { kind: 'stopped', status: w2.status };
  return { kind: 'visit', regs: backUp(task, pc) };
}

/**
 * The async-point record for a thread stopped at `regs`. With `image` (the
 * page hashes of the process's previous teleport point, updated), it carries
 * the state to teleport the thread to.
 */
export function asyncPointRecord(task: Task, tid: number, regs: Registers, reason: 'preempt' | 'signal', ex: MemoryExclusions, image?: Map<bigint, Buffer>, memHash?: Buffer): AsyncPointRecord {
  const xstate = task.xstate();
  return {
    kind: 'async-point',
    tid,
    regs: regs.raw,
    fp: fpFingerprint(xstate),
    memHash: memHash ?? memoryFingerprint(task.tgid, task.mem, ex),
    reason,
    ...(image ? { teleport: { xstate, mem: memoryImage(task.tgid, task.mem, ex, image) } } : {}),
  };
}

function isInterruptStop(status: number): boolean {
  return waitStatus.stopped(status) && waitStatus.event(status) === PTRACE_EVENT.STOP && waitStatus.stopSig(status) === SIG.TRAP;
}

function isTrapAt(task: Task, status: number, pc: bigint): boolean {
  if (!waitStatus.stopped(status) || waitStatus.event(status) !== 0 || waitStatus.stopSig(status) !== SIG.TRAP) return false;
  return task.sigInfo().readInt32LE(8) === SI_KERNEL && task.regs().ip === pc + 1n;
}

/** After the probe's int3 trapped: the thread stands at pc again, the trap undone. */
function backUp(task: Task, pc: bigint): Registers {
  const r = task.regs().clone();
  r.set('rip', pc);
  task.setRegs(r);
  return r;
}

function resumeLater(task: Task): ProbeResult {
  ptraceRaw(PTRACE.CONT, task.tid, 0, 0);
  task.invalidate();
  return { kind: 'later' };
}
