// PtraceEmulation: the program's own ptrace, emulated by the recorder.
//
// trr is the real tracer of every recorded task, so a recorded task P cannot
// ptrace a task C for real. Instead, when P asks (PTRACE_TRACEME, ATTACH,
// SEIZE), trr remembers that P emulates-traces C. When C would report a stop
// to its tracer (a signal about to be delivered, a syscall entry or exit
// under PTRACE_SYSCALL, an exec, PTRACE_INTERRUPT), trr keeps C stopped and
// makes P's wait4/waitid return that stop (and sends P a SIGCHLD when P
// handles it). P's requests on C are performed by trr on the really stopped
// C. For P they are ordinary emulated syscalls (result and the memory they
// wrote, recorded at P's exit); what they did to C (POKEDATA, SETREGS...) is
// recorded with them (`extra.tracee`) for replay to do the same to C, which
// replay has stopped at the same point. What cannot be emulated exactly stops
// the recording with a message naming the request. See docs/ARCHITECTURE.md.
import { readFileSync } from 'node:fs';
import type { Registers } from '../arch/registers.js';
import { PTRACE, PTRACE_EVENT, WAIT, kill, ptraceBuffer, ptraceRaw, tgkill, trrPtraceOptions, waitpid } from '../native/native.js';
import { nr, signalName } from '../syscalls/names.js';
import type { Range } from '../syscalls/semantics.js';
import { SIG } from '../task/kernel-abi.js';
import { signalDisposition } from '../task/procfs.js';
import type { MemoryWrite, TraceRecord, TraceeEffect } from '../trace/format.js';
import { UnsupportedError } from '../util/errors.js';
import type { PendingSyscall, RecTask } from './rec-task.js';

/** What the emulation needs of the recorder. */
export interface PtraceHost {
  task(tid: number): RecTask | undefined;
  allTasks(): Iterable<RecTask>;
  /** Delivers a signal to t at a syscall boundary (or a fault), as the recorder does for untraced tasks. */
  deliver(t: RecTask, sig: number, info: Buffer, regs: Registers, sync: boolean): void;
  /** Processes t's syscall entry (t stands at its seccomp stop). */
  enterSyscall(t: RecTask): void;
  /** Processes t's PTRACE_EVENT_EXIT stop. */
  exitEvent(t: RecTask): void;
  /** Processes a wait status of a recorded task. */
  onStop(tid: number, status: number): void;
  /** t no longer runs user code: it is not the current task any more. */
  release(t: RecTask): void;
  append(rec: TraceRecord): void;
}

type StopKind = 'signal' | 'syscall-entry' | 'syscall-exit' | 'event' | 'group';

interface Stop {
  readonly kind: StopKind;
  /** The kernel's exit_code for this stop: the wait status is (code << 8) | 0x7f. */
  readonly code: number;
  info: Buffer;
  readonly sync?: boolean;
  /** A syscall-entry stop written to the trace (ptrace-stop with entry), because the tracer changed the tracee there. */
  recorded?: boolean;
  /** A ptrace event stop inside a syscall (fork, vfork, clone, vfork-done): the tracee stands at that real stop in the kernel, and goes on with the syscall when resumed. */
  inKernel?: boolean;
  /** A syscall-entry stop under PTRACE_SYSEMU: the syscall is not run. */
  sysemu?: boolean;
  /** The registers at the syscall's entry, when trr changed them for the stop (the trap flag in r11). */
  entryRegs?: Registers;
}

/**
 * How the tracer last resumed the tracee: which stops it reports next.
 * 'step': PTRACE_SINGLESTEP; 'sysemu': PTRACE_SYSEMU; 'sysemu-step': PTRACE_SYSEMU_SINGLESTEP.
 */
type Mode = 'cont' | 'syscall' | 'step' | 'sysemu' | 'sysemu-step';

interface Tracee {
  tracer: number;
  tracerTgid: number;
  readonly seized: boolean;
  /** The tracee is a child of the tracer's process: the kernel reports its exit to the tracer itself. */
  readonly child: boolean;
  options: number;
  mode: Mode;
  stop: Stop | undefined;
  /** The stop has not been reported by a wait yet. */
  waitable: boolean;
  /** Stops that follow the current one before the tracee runs again (exec under PTRACE_SYSCALL...). */
  readonly queued: Stop[];
  /** The syscall-entry stop of the syscall it stands at was reported already. */
  entryReported: boolean;
  /** The PTRACE_EVENT_EXIT stop was reported: the exit goes on. */
  exitReported: boolean;
  /** trr interrupted the tracee (blocked in a syscall) for PTRACE_INTERRUPT: its next PTRACE_EVENT_STOP is the tracer's. */
  interruptPending: boolean;
  /** Its process is in a group-stop (until a SIGCONT): PTRACE_INTERRUPT then reports the stop signal. */
  groupStopped: boolean;
  /** Traced from its creation (PTRACE_O_TRACEFORK...): it stops for its tracer before it runs. */
  firstStop: boolean;
  /** Stopped by PTRACE_LISTEN: it stays in its group-stop until a SIGCONT, and no request reaches it. */
  listening: boolean;
  /** A SIGSTOP trr sent for PTRACE_ATTACH is on its way. */
  attachStop: boolean;
  eventMsg: bigint;
  /** PTRACE_SYSEMU_SINGLESTEP let it run into a syscall instruction (see step). */
  intoSyscall: boolean;
}

interface ExitReport {
  readonly tid: number;
  readonly tracerTgid: number;
  readonly status: number;
}

const O = { TRACESYSGOOD: 1, TRACEFORK: 2, TRACEVFORK: 4, TRACECLONE: 8, TRACEEXEC: 0x10, TRACEVFORKDONE: 0x20, TRACEEXIT: 0x40, EXITKILL: 0x100000 } as const;
const SUPPORTED_OPTIONS = O.TRACESYSGOOD | O.TRACEFORK | O.TRACEVFORK | O.TRACECLONE | O.TRACEEXEC | O.TRACEVFORKDONE | O.TRACEEXIT | O.EXITKILL;
const OPTION_NAMES: [number, string][] = [
  [0x80, 'PTRACE_O_TRACESECCOMP'], [0x200000, 'PTRACE_O_SUSPEND_SECCOMP'],
];
const REQUEST_NAMES = new Map<number, string>([
  ...Object.entries(PTRACE).map(([k, v]) => [v, `PTRACE_${k}`] as [number, string]),
  [1, 'PTRACE_PEEKTEXT'], [4, 'PTRACE_POKETEXT'], [31, 'PTRACE_SYSEMU'], [32, 'PTRACE_SYSEMU_SINGLESTEP'],
  [25, 'PTRACE_GET_THREAD_AREA'], [26, 'PTRACE_SET_THREAD_AREA'], [30, 'PTRACE_ARCH_PRCTL'], [0x4209, 'PTRACE_PEEKSIGINFO'],
  [0x420a, 'PTRACE_GETSIGMASK'], [0x420b, 'PTRACE_SETSIGMASK'], [0x420c, 'PTRACE_SECCOMP_GET_FILTER'], [0x420e, 'PTRACE_GET_SYSCALL_INFO'],
]);
const USER_REGS = 216;
/** offsetof(struct user, u_debugreg). */
const DEBUGREG = 848;
const NT_PRSTATUS = 1;
const NT_PRFPREG = 2;
const NT_X86_XSTATE = 0x202;
const GET_SYSCALL_INFO = 0x420e;
const SYSEMU = 31;
const SYSEMU_SINGLESTEP = 32;
const RESUME_MODES = new Map<number, Mode>([[PTRACE.SYSCALL, 'syscall'], [PTRACE.SINGLESTEP, 'step'], [SYSEMU, 'sysemu'], [SYSEMU_SINGLESTEP, 'sysemu-step']]);
const ARCH_PRCTL = 30;
const ARCH_GET_FS = 0x1003;
const ARCH_GET_GS = 0x1004;
const ARCH_SET_GS = 0x1001;
const ARCH_SET_FS = 0x1002;
/** The kernel refuses a segment base at or above the end of user space (EPERM). */
const TASK_SIZE_MAX = 0x7ffffffff000n;
const WNOHANG = 1n;
const WNOWAIT = 0x1000000n;
const WEXITED = 4n;
const CLD = { EXITED: 1, KILLED: 2, DUMPED: 3, TRAPPED: 4 } as const;
const SI_KERNEL = 0x80;
const TRAP_BRKPT = 1;
const TRAP_FLAG = 0x100n;
const SIGCONT = 18;
const ERESTARTSYS = -512n;
const E = { PERM: -1n, SRCH: -3n, IO: -5n, FAULT: -14n, INVAL: -22n } as const;

const i32 = (v: bigint) => Number(BigInt.asIntN(32, v));
const LOG = (process.env.TRR_LOG ?? '').includes('ptrace');
const log = (msg: string) => {
  if (LOG) process.stderr.write(`[ptrace] ${msg}\n`);
};

function siginfo(signo: number, code: number, pid = 0, status = 0): Buffer {
  const b = Buffer.alloc(128);
  b.writeInt32LE(signo, 0);
  b.writeInt32LE(code, 8);
  b.writeInt32LE(pid, 16);
  b.writeInt32LE(status, 24);
  return b;
}

/** Whether c is a child of process tgid, whose wait the kernel reports c's exit to: a process (not a thread) whose parent it is. */
function isChildOf(c: RecTask, tgid: number): boolean {
  return c.tid === c.task.tgid && ppidOf(c.tid) === tgid;
}

function ppidOf(tid: number): number {
  try {
    const stat = readFileSync(`/proc/${tid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

export class PtraceEmulation {
  private readonly tracees = new Map<number, Tracee>();
  private readonly exits: ExitReport[] = [];
  /** Tracers stopped by trr at the entry of a wait that only an emulated report can end. */
  private readonly held = new Set<number>();
  /** Tracers whose wait trr interrupted (PTRACE_INTERRUPT) to give them an emulated report. */
  private readonly interrupted = new Set<number>();
  /** Emulated tracees in a vfork, and the vfork's child (the event message of PTRACE_EVENT_VFORK_DONE). */
  private readonly vforkChild = new Map<number, number>();
  /** The tracee whose signal trr is delivering because its tracer passed it on: no second stop for it. */
  private delivering: number | undefined;

  constructor(private readonly host: PtraceHost) {}

  private fail(what: string): never {
    throw new UnsupportedError(`${what} trr emulates the program's own ptrace, but not this yet, so recording stops here rather than record a run that would differ from a native one.`);
  }

  private requestName(req: number): string {
    return REQUEST_NAMES.get(req) ?? `ptrace request ${req}`;
  }

  // ---- hooks called by the recorder --------------------------------------

  /**
   * At t's syscall entry (seccomp stop): a syscall-entry stop for its tracer
   * under PTRACE_SYSCALL. Returns true when t stays stopped.
   */
  atSyscallEntry(t: RecTask): boolean {
    const tr = this.tracees.get(t.tid);
    if (!tr) return false;
    if (tr.entryReported) {
      tr.entryReported = false;
      return false;
    }
    const sysemu = tr.mode === 'sysemu' || tr.mode === 'sysemu-step';
    if (tr.mode !== 'syscall' && !sysemu) return false;
    const stop: Stop = { kind: 'syscall-entry', code: this.syscallCode(tr), info: siginfo(SIG.TRAP, this.syscallCode(tr)) };
    if (sysemu) stop.sysemu = true;
    if (tr.intoSyscall) {
      // Stepped into the syscall instruction (PTRACE_SYSEMU_SINGLESTEP): natively it ran with the trap flag set,
      // which it copied into r11 as it does all flags. Replay sets the same r11 when the syscall is skipped (skipSyscall).
      tr.intoSyscall = false;
      stop.entryRegs = t.task.regs().clone();
      const regs = stop.entryRegs.clone();
      regs.set('r11', regs.get('r11') | TRAP_FLAG);
      t.task.setRegs(regs);
    }
    this.enterStop(t, tr, stop);
    return true;
  }

  /**
   * Before the recorder lets the kernel run t's syscall: ptrace and waits for
   * emulated tracees are answered here (the registers then skip the syscall).
   * Returns 'hold' when t must stay stopped at its entry until a report arrives.
   */
  beforeRun(t: RecTask, p: PendingSyscall): 'run' | 'hold' {
    if (p.nr === nr('ptrace')) {
      this.request(t, p);
      return 'run';
    }
    if (p.nr === nr('wait4') || p.nr === nr('waitid')) return this.waitEntry(t, p);
    return 'run';
  }

  /** At t's syscall exit, before it is recorded: a wait trr interrupted gets its emulated report. */
  atSyscallExit(t: RecTask, p: PendingSyscall): void {
    if (!this.interrupted.delete(t.tid)) return;
    if (t.task.regs().result !== ERESTARTSYS) return; // the kernel's wait ended first: the report stays pending
    const rep = this.findReport(t, p);
    if (rep) this.answerWait(t, p, rep, true);
  }

  /** A syscall's result: a SIGCONT sent to listening tracees wakes them. (Writes into /proc/N/mem are recorded by proc-mem.ts.) */
  atSyscallResult(_t: RecTask, p: PendingSyscall, result: bigint): void {
    if (result === 0n && (p.nr === nr('kill') || p.nr === nr('tgkill') || p.nr === nr('tkill'))) this.wakeListeners(p);
  }

  /** A SIGCONT sent to listening tracees (PTRACE_LISTEN) ends their group-stop: they run on to its delivery, which they report. */
  private wakeListeners(p: PendingSyscall): void {
    const sig = Number(p.args[p.nr === nr('tgkill') ? 2 : 1]!);
    if (sig !== SIGCONT) return;
    const target = i32(p.args[0]!);
    for (const [tid, tr] of this.tracees) {
      const c = this.host.task(tid);
      if (!c || (c.task.tgid !== Math.abs(target) && tid !== target)) continue;
      tr.groupStopped = false;
      if (!tr.listening) continue;
      tr.listening = false;
      tr.groupStopped = false;
      tr.stop = undefined;
      c.state = 'ready';
    }
  }

  /** After t's syscall exit was recorded: a syscall-exit stop under PTRACE_SYSCALL. Returns true when t stays stopped. */
  afterSyscallExit(t: RecTask): boolean {
    const tr = this.tracees.get(t.tid);
    // The syscall that PTRACE_INTERRUPT ended: the kernel's syscall-exit stop took the trap
    // (any ptrace trap clears a pending one), so this is where the tracee stops for its tracer.
    if (tr?.interruptPending) return this.atInterruptStop(t);
    return tr ? this.afterSyscall(t, tr) : false;
  }

  /**
   * t stands after a syscall (run, or skipped for PTRACE_SYSEMU or a tracer
   * that cancelled it): the stop its tracer's last resume asks for there.
   * Returns true when t stays stopped.
   */
  private afterSyscall(t: RecTask, tr: Tracee): boolean {
    if (tr.mode === 'syscall') {
      this.enterStop(t, tr, { kind: 'syscall-exit', code: this.syscallCode(tr), info: siginfo(SIG.TRAP, this.syscallCode(tr)) });
      return true;
    }
    if (tr.mode === 'step') {
      // PTRACE_SINGLESTEP from a syscall-entry stop (the syscall ran or was skipped): the kernel reports the step
      // at the syscall's exit, before any instruction, as a SIGTRAP with TRAP_BRKPT. t stands after its last
      // event, so replay needs no stop record.
      tr.mode = 'cont';
      const info = siginfo(SIG.TRAP, TRAP_BRKPT);
      info.writeBigUInt64LE(t.task.regs().ip, 16);
      this.enterStop(t, tr, { kind: 'signal', code: SIG.TRAP, info });
      return true;
    }
    return false;
  }

  /** After a successful execve of t was recorded: the exec stops. Returns true when t stays stopped. */
  afterExec(t: RecTask): boolean {
    const tr = this.tracees.get(t.tid);
    if (!tr) return false;
    if (tr.mode === 'step') this.fail(`the program single-stepped thread ${t.tid} over an execve.`);
    const stops: Stop[] = [];
    if (tr.options & O.TRACEEXEC) {
      tr.eventMsg = BigInt(t.tid);
      stops.push({ kind: 'event', code: SIG.TRAP | (PTRACE_EVENT.EXEC << 8), info: siginfo(SIG.TRAP, SIG.TRAP | (PTRACE_EVENT.EXEC << 8)) });
    }
    if (tr.mode === 'syscall') stops.push({ kind: 'syscall-exit', code: this.syscallCode(tr), info: siginfo(SIG.TRAP, this.syscallCode(tr)) });
    // Without PTRACE_O_TRACEEXEC, an ATTACHed (not SEIZEd) tracee gets a SIGTRAP after exec.
    if (!(tr.options & O.TRACEEXEC) && !tr.seized) stops.push({ kind: 'signal', code: SIG.TRAP, info: siginfo(SIG.TRAP, 0) });
    if (stops.length === 0) return false;
    tr.queued.push(...stops.slice(1));
    this.enterStop(t, tr, stops[0]!);
    return true;
  }

  /** At t's PTRACE_EVENT_EXIT: an exit stop with PTRACE_O_TRACEEXIT. Returns true when t stays stopped. */
  atExitEvent(t: RecTask, status: number): boolean {
    const tr = this.tracees.get(t.tid);
    if (!tr || !(tr.options & O.TRACEEXIT) || tr.exitReported) return false;
    tr.exitReported = true;
    tr.eventMsg = BigInt(status);
    const code = SIG.TRAP | (PTRACE_EVENT.EXIT << 8);
    this.enterStop(t, tr, { kind: 'event', code, info: siginfo(SIG.TRAP, code) });
    return true;
  }

  /**
   * parent created child (trr's own fork/vfork/clone event `event`, where the
   * parent stands in the kernel): with the matching option, the child is
   * traced by the parent's tracer from the start, and the parent stops for
   * its tracer at this event, as natively (a vfork parent before its child
   * runs). Returns true when the parent stays stopped there.
   */
  onClone(parent: RecTask, child: RecTask, event: number, untraced: boolean): boolean {
    const tr = this.tracees.get(parent.tid);
    if (!tr) return false;
    if (event === PTRACE_EVENT.VFORK) {
      // The kernel reports PTRACE_EVENT_VFORK_DONE (when the child execs or exits) only with that option: trr asks for it
      // for the parent, whose tracer may want it (see atVforkDone).
      ptraceRaw(PTRACE.SETOPTIONS, parent.tid, 0, trrPtraceOptions() | O.TRACEVFORKDONE);
      this.vforkChild.set(parent.tid, child.tid);
    }
    if (untraced) return false;
    const option = event === PTRACE_EVENT.FORK ? O.TRACEFORK : event === PTRACE_EVENT.VFORK ? O.TRACEVFORK : O.TRACECLONE;
    if (!(tr.options & option)) return false;
    const tracer = this.host.task(tr.tracer);
    if (!tracer) return false;
    const ctr = this.newTracee(tracer, tr.seized, isChildOf(child, tr.tracerTgid), tr.options);
    ctr.firstStop = true;
    this.tracees.set(child.tid, ctr);
    log(`${child.tid} is traced by ${tr.tracer} from its creation by ${parent.tid}`);
    tr.eventMsg = BigInt(child.tid);
    const code = SIG.TRAP | (event << 8);
    this.enterStop(parent, tr, { kind: 'event', code, info: siginfo(SIG.TRAP, code), inKernel: true });
    return true;
  }

  /**
   * t's PTRACE_EVENT_VFORK_DONE (its vfork child exec'd or exited; trr asked
   * for it in onClone): reported to its tracer with PTRACE_O_TRACEVFORKDONE.
   * Returns true when t stays stopped there.
   */
  atVforkDone(t: RecTask): boolean {
    ptraceRaw(PTRACE.SETOPTIONS, t.tid, 0, trrPtraceOptions());
    const child = this.vforkChild.get(t.tid);
    this.vforkChild.delete(t.tid);
    const tr = this.tracees.get(t.tid);
    if (!tr || !(tr.options & O.TRACEVFORKDONE)) return false;
    tr.eventMsg = BigInt(child ?? 0);
    const code = SIG.TRAP | (PTRACE_EVENT.VFORK_DONE << 8);
    this.enterStop(t, tr, { kind: 'event', code, info: siginfo(SIG.TRAP, code), inKernel: true });
    return true;
  }

  /** At t's first stop (just created): a tracee traced from its creation stops for its tracer. */
  atFirstStop(t: RecTask): void {
    const tr = this.tracees.get(t.tid);
    if (!tr?.firstStop) return;
    tr.firstStop = false;
    const code = tr.seized ? SIG.TRAP | (PTRACE_EVENT.STOP << 8) : SIG.STOP;
    this.enterStop(t, tr, { kind: tr.seized ? 'event' : 'signal', code, info: siginfo(tr.seized ? SIG.TRAP : SIG.STOP, 0) });
  }

  /** At a PTRACE_EVENT_STOP of t that is not a group-stop: the one PTRACE_INTERRUPT asked for. Returns true when t stays stopped. */
  atInterruptStop(t: RecTask): boolean {
    const tr = this.tracees.get(t.tid);
    if (!tr?.interruptPending) return false;
    tr.interruptPending = false;
    const sig = tr.groupStopped ? SIG.STOP : SIG.TRAP;
    this.enterStop(t, tr, { kind: 'event', code: sig | (PTRACE_EVENT.STOP << 8), info: siginfo(sig, SIG.TRAP | (PTRACE_EVENT.STOP << 8)) });
    return true;
  }

  /**
   * t entered a group-stop (SIGSTOP, SIGTSTP...): its tracer sees it. t stays
   * in that real stop until its tracer resumes it. Returns true when the
   * emulation took it.
   */
  atGroupStop(t: RecTask, sig: number): boolean {
    const tr = this.tracees.get(t.tid);
    if (!tr) return false;
    tr.groupStopped = true;
    this.enterStop(t, tr, this.groupStop(tr, sig));
    return true;
  }

  private groupStop(tr: Tracee, sig: number): Stop {
    const code = sig | (tr.seized ? PTRACE_EVENT.STOP << 8 : 0);
    return { kind: 'group', code, info: siginfo(sig, 0) };
  }

  /** A task whose first stop (after its creation) has not been seen yet: wait for it, so that it stands somewhere. */
  private settle(c: RecTask): void {
    while (c.state === 'new') {
      const w = waitpid(c.tid, WAIT.__WALL);
      if (!w) return;
      this.host.onStop(c.tid, w.status);
    }
  }

  /**
   * A signal about to be delivered to t (at a syscall boundary, or a fault):
   * its tracer sees a signal-delivery stop first. Returns true when t stays stopped.
   */
  interceptSignal(t: RecTask, sig: number, info: Buffer, sync: boolean): boolean {
    const tr = this.tracees.get(t.tid);
    if (!tr || sig === SIG.KILL || this.delivering === t.tid) return false;
    // A fault: replay must run the thread to it (and no further) before its tracer looks at it.
    if (sync) this.host.append({ kind: 'ptrace-stop', tid: t.tid, signo: sig, regs: t.task.regs().raw });
    if (sig === SIGCONT) tr.groupStopped = false;
    let si = info;
    if (tr.attachStop && sig === SIG.STOP) {
      tr.attachStop = false;
      si = siginfo(SIG.STOP, SI_KERNEL); // the SIGSTOP of PTRACE_ATTACH comes from the kernel, not from trr
    }
    this.enterStop(t, tr, { kind: 'signal', code: sig, info: si, sync });
    return true;
  }

  /** t is gone: its tracees are detached (killed with PTRACE_O_EXITKILL); its tracer may have to hear of its exit. */
  onGone(t: RecTask, status: number): void {
    this.held.delete(t.tid);
    this.interrupted.delete(t.tid);
    this.vforkChild.delete(t.tid);
    for (const [tid, tr] of [...this.tracees]) {
      if (tr.tracer !== t.tid) continue;
      this.tracees.delete(tid);
      const c = this.host.task(tid);
      if (!c) continue;
      if (tr.options & O.EXITKILL) kill(tid, SIG.KILL);
      else if (tr.stop) this.resumeTracee(c, { ...tr, queued: [] }, 0);
    }
    const tr = this.tracees.get(t.tid);
    if (tr) {
      this.tracees.delete(t.tid);
      if (!tr.child) {
        this.exits.push({ tid: t.tid, tracerTgid: tr.tracerTgid, status });
        this.notify(tr.tracerTgid);
      }
      this.releaseHeld(tr.tracerTgid);
    }
  }

  /** Waits trr holds that no emulated report can end any more go to the kernel (which reports real children). */
  private releaseHeld(tracerTgid: number): void {
    for (const tid of [...this.held]) {
      const w = this.host.task(tid);
      if (!w?.pending || w.task.tgid !== tracerTgid) continue;
      const { pid, any } = this.waitArgs(w.pending);
      if ([...this.tracees].some(([c, tr]) => tr.tracerTgid === tracerTgid && (any || c === pid))) continue;
      this.held.delete(tid);
      ptraceRaw(PTRACE.SYSCALL, tid, 0, 0);
    }
  }

  // ---- stops and reports -------------------------------------------------

  private syscallCode(tr: Tracee): number {
    return SIG.TRAP | (tr.options & O.TRACESYSGOOD ? 0x80 : 0);
  }

  private enterStop(t: RecTask, tr: Tracee, stop: Stop): void {
    log(`${t.tid} stops for ${tr.tracer}: ${stop.kind} 0x${stop.code.toString(16)}`);
    tr.stop = stop;
    tr.waitable = true;
    t.state = 'emu-stopped';
    this.host.release(t);
    const tracer = this.host.task(tr.tracer);
    if (tracer && signalDisposition(tracer.tid, SIG.CHLD) === 'handler') {
      const info = siginfo(SIG.CHLD, CLD.TRAPPED, t.tid, stop.code);
      if (tracer.state === 'in-syscall' && !this.held.has(tracer.tid) && !tracer.injected) {
        // Blocked in the kernel: the SIGCHLD interrupts that syscall, as natively.
        tracer.injected = info;
        tgkill(tracer.task.tgid, tracer.tid, SIG.CHLD);
      } else tracer.deferred.push(info);
    }
    this.notify(tr.tracerTgid);
  }

  /** A report for a tracer process: end a wait that waits for it. */
  private notify(tracerTgid: number): void {
    for (const w of this.host.allTasks()) {
      if (w.task.tgid !== tracerTgid || !w.pending || (w.pending.nr !== nr('wait4') && w.pending.nr !== nr('waitid'))) continue;
      const rep = this.findReport(w, w.pending);
      if (!rep) continue;
      log(`report of ${rep.tid} for ${w.tid} (${this.held.has(w.tid) ? 'held' : w.state})`);
      if (this.held.delete(w.tid)) {
        this.answerWait(w, w.pending, rep, false);
        ptraceRaw(PTRACE.SYSCALL, w.tid, 0, 0);
        return;
      }
      if (w.state === 'in-syscall' && !this.interrupted.has(w.tid)) {
        // Blocked in the kernel's wait (it has real children too): interrupt it; its exit gets the report.
        this.interrupted.add(w.tid);
        ptraceRaw(PTRACE.INTERRUPT, w.tid, 0, 0);
        return;
      }
    }
  }

  private waitArgs(p: PendingSyscall): { pid: number; any: boolean; options: bigint } {
    if (p.nr === nr('wait4')) {
      const pid = i32(p.args[0]!);
      return { pid, any: pid <= 0, options: p.args[2]! };
    }
    const idtype = Number(p.args[0]!);
    return { pid: i32(p.args[1]!), any: idtype !== 1 /* P_PID */, options: p.args[3]! };
  }

  private findReport(w: RecTask, p: PendingSyscall): { tid: number; code?: number; status?: number } | undefined {
    const { pid, any, options } = this.waitArgs(p);
    for (const [tid, tr] of this.tracees) {
      if (tr.tracerTgid === w.task.tgid && tr.waitable && tr.stop && (any || pid === tid)) return { tid, code: tr.stop.code };
    }
    if (p.nr === nr('waitid') && !(options & WEXITED)) return undefined;
    const e = this.exits.find((x) => x.tracerTgid === w.task.tgid && (any || pid === x.tid));
    return e ? { tid: e.tid, status: e.status } : undefined;
  }

  private hasEmulated(w: RecTask): boolean {
    return [...this.tracees.values()].some((tr) => tr.tracerTgid === w.task.tgid) || this.exits.some((e) => e.tracerTgid === w.task.tgid);
  }

  /** Whether w's process has real children (other than emulated tracees it is not the parent of) that the wait could report. */
  private hasRealChildren(w: RecTask, p: PendingSyscall): boolean {
    const { pid, any } = this.waitArgs(p);
    for (const o of this.host.allTasks()) {
      if (o.tid !== o.task.tgid || (!any && o.tid !== pid)) continue; // an exiting child is a child until reaped
      if (ppidOf(o.tid) === w.task.tgid) return true;
    }
    return false;
  }

  private waitEntry(w: RecTask, p: PendingSyscall): 'run' | 'hold' {
    if (!this.hasEmulated(w)) return 'run';
    const rep = this.findReport(w, p);
    if (rep) {
      this.answerWait(w, p, rep, false);
      return 'run';
    }
    if (this.hasRealChildren(w, p)) return 'run'; // the kernel's wait; interrupted if a report comes first
    const { pid, any, options } = this.waitArgs(p);
    const waitsFor = [...this.tracees].some(([tid, tr]) => tr.tracerTgid === w.task.tgid && (any || tid === pid));
    if (!waitsFor) return 'run'; // ECHILD from the kernel, as natively
    if (options & WNOHANG) {
      this.answerWait(w, p, undefined, false);
      return 'run';
    }
    this.held.add(w.tid);
    return 'hold';
  }

  /**
   * Makes w's wait return `rep` (or nothing, for WNOHANG): writes the status
   * and sets the result; at the entry the syscall is skipped. The recorder
   * records the result and memory at the exit as for any wait.
   */
  private answerWait(w: RecTask, p: PendingSyscall, rep: { tid: number; code?: number; status?: number } | undefined, atExit: boolean): void {
    const mem = w.task.mem;
    let result = 0n;
    if (p.nr === nr('wait4')) {
      const status = rep ? (rep.code !== undefined ? (rep.code << 8) | 0x7f : rep.status!) : 0;
      if (rep) result = BigInt(rep.tid);
      if (rep && p.args[1]) mem.write(p.args[1], Buffer.from(new Int32Array([status]).buffer));
      if (rep && p.args[3]) mem.write(p.args[3], Buffer.alloc(144));
    } else {
      let info: Buffer = Buffer.alloc(32);
      if (rep) {
        const s = rep.status ?? 0;
        const [code, st] = rep.code !== undefined ? [CLD.TRAPPED, rep.code] : (s & 0x7f) === 0 ? [CLD.EXITED, (s >> 8) & 0xff] : [s & 0x80 ? CLD.DUMPED : CLD.KILLED, s & 0x7f];
        info = siginfo(SIG.CHLD, code, rep.tid, st).subarray(0, 32);
        info.writeUInt32LE(process.getuid?.() ?? 0, 20);
      }
      if (p.args[2]) mem.write(p.args[2], info);
      if (rep && p.args[4]) mem.write(p.args[4], Buffer.alloc(144));
    }
    if (rep && !(p.nr === nr('waitid') && p.args[3]! & WNOWAIT)) {
      if (rep.code !== undefined) this.tracees.get(rep.tid)!.waitable = false;
      else this.exits.splice(this.exits.findIndex((e) => e.tid === rep.tid), 1);
    }
    const regs = w.task.regs().clone();
    if (!atExit) regs.set('orig_rax', -1n);
    regs.set('rax', result);
    w.task.setRegs(regs);
  }

  // ---- requests ------------------------------------------------------------

  /** Performs P's ptrace request; the result goes into P's registers (the syscall is skipped), its outputs into p.entry. */
  private request(P: RecTask, p: PendingSyscall): void {
    const [reqArg, pidArg, addr, data] = p.args as [bigint, bigint, bigint, bigint];
    const req = Number(reqArg & 0xffffffffn);
    const pid = i32(pidArg);
    log(`${P.tid}: ${this.requestName(req)} ${pid} (tracee ${this.host.task(pid)?.state ?? 'unknown'}${this.tracees.get(pid)?.stop ? ', stopped' : ''})`);
    const outputs: Range[] = [];
    let effect: TraceeEffect | undefined;
    const result = ((): bigint => {
      switch (req) {
        case PTRACE.TRACEME:
          return this.traceMe(P);
        case PTRACE.ATTACH:
        case PTRACE.SEIZE:
          return this.attach(P, pid, req === PTRACE.SEIZE, data);
      }
      const c = this.host.task(pid);
      const tr = this.tracees.get(pid);
      if (!c || !tr || tr.tracerTgid !== P.task.tgid) return E.SRCH;
      if (req === PTRACE.KILL) {
        kill(pid, SIG.KILL);
        return 0n;
      }
      if (req === PTRACE.INTERRUPT) return this.interrupt(c, tr);
      if (!tr.stop || tr.listening) return E.SRCH; // not in a ptrace-stop
      const write = (to: bigint, bytes: Buffer) => {
        P.task.mem.write(to, bytes);
        outputs.push([to, bytes.length]);
      };
      const changes = (what: string) => {
        const stop = tr.stop!;
        if (stop.inKernel) this.fail(`the program changed ${what} of thread ${pid} at a ptrace event stop inside a syscall (0x${stop.code.toString(16)}), where replay does not stop it.`);
        if (stop.kind === 'syscall-entry' && !stop.recorded) {
          // Replay must hold the tracee at this syscall's entry too, where the change applies.
          stop.recorded = true;
          this.host.append({ kind: 'ptrace-stop', tid: pid, signo: SIG.TRAP, regs: (stop.entryRegs ?? c.task.regs()).raw, entry: true });
        }
      };
      switch (req) {
        case 1: // PEEKTEXT
        case PTRACE.PEEKDATA: {
          const b = c.task.mem.readPartial(addr, 8);
          if (b.length < 8) return E.IO;
          write(data, b);
          return 0n;
        }
        case PTRACE.PEEKUSER: {
          if (addr < 0n || addr % 8n !== 0n) return E.IO; // the kernel checks the end of the user area
          if (addr >= BigInt(USER_REGS)) {
            // The rest of the user area (debug registers...): the kernel's own answer for the task.
            const b = Buffer.alloc(8);
            const r = ptraceRawBuffer(PTRACE.PEEKUSER, pid, addr, b, true);
            if (r < 0) return BigInt(r);
            write(data, b);
            return 0n;
          }
          write(data, Buffer.from(c.task.regs().raw.subarray(Number(addr), Number(addr) + 8)));
          return 0n;
        }
        case 4: // POKETEXT
        case PTRACE.POKEDATA: {
          changes('the memory');
          const r = ptraceRaw(PTRACE.POKEDATA, pid, addr, data);
          if (r < 0) return BigInt(r);
          const b = Buffer.alloc(8);
          b.writeBigUInt64LE(BigInt.asUintN(64, data));
          effect = { tid: pid, mem: [[addr, b] as MemoryWrite] };
          return 0n;
        }
        case PTRACE.POKEUSER: {
          if (addr >= BigInt(DEBUGREG) && addr < BigInt(DEBUGREG + 64)) {
            // Debug registers: set for real, and in replay too (where they work, they fire there as here).
            const r = ptraceRaw(PTRACE.POKEUSER, pid, addr, data);
            if (r < 0) return BigInt(r);
            effect = { tid: pid, user: [[addr, data]] };
            return 0n;
          }
          if (addr >= BigInt(USER_REGS)) this.fail(`the program wrote offset ${addr} of the user area of thread ${pid} (only registers and debug registers are emulated).`);
          changes('the registers');
          const r = ptraceRaw(PTRACE.POKEUSER, pid, addr, data);
          if (r < 0) return BigInt(r);
          c.task.invalidate();
          effect = { tid: pid, regs: Buffer.from(c.task.regs().raw) };
          return 0n;
        }
        case PTRACE.GETREGS:
        case PTRACE.GETFPREGS: {
          const b = Buffer.alloc(req === PTRACE.GETREGS ? USER_REGS : 512);
          const r = ptraceRawBuffer(req, pid, 0n, b);
          if (r < 0) return BigInt(r);
          write(data, b);
          return 0n;
        }
        case PTRACE.SETREGS: {
          changes('the registers');
          const b = P.task.mem.readPartial(data, USER_REGS);
          if (b.length < USER_REGS) return E.FAULT;
          const r = ptraceRawBuffer(PTRACE.SETREGS, pid, 0n, b);
          if (r < 0) return BigInt(r);
          c.task.invalidate();
          effect = { tid: pid, regs: Buffer.from(c.task.regs().raw) };
          return 0n;
        }
        case PTRACE.SETFPREGS: {
          changes('the FP registers');
          const b = P.task.mem.readPartial(data, 512);
          if (b.length < 512) return E.FAULT;
          const r = ptraceRawBuffer(PTRACE.SETFPREGS, pid, 0n, b);
          if (r < 0) return BigInt(r);
          effect = { tid: pid, fpregs: c.task.fpRegs() };
          return 0n;
        }
        case PTRACE.SETREGSET: {
          const nt = Number(addr);
          if (nt !== NT_PRSTATUS && nt !== NT_PRFPREG && nt !== NT_X86_XSTATE) this.fail(`the program set register set 0x${nt.toString(16)} of thread ${pid} (PTRACE_SETREGSET).`);
          changes('the registers');
          const iov = P.task.mem.readPartial(data, 16);
          if (iov.length < 16) return E.FAULT;
          if (nt === NT_X86_XSTATE) {
            const area = P.task.mem.readPartial(iov.readBigUInt64LE(0), Number(iov.readBigUInt64LE(8)));
            try {
              c.task.setXstate(area);
            } catch {
              return E.INVAL;
            }
            effect = { tid: pid, xstate: c.task.xstate() };
            return 0n;
          }
          const size = nt === NT_PRSTATUS ? USER_REGS : 512;
          if (Number(iov.readBigUInt64LE(8)) < size) this.fail(`the program set part of register set ${nt} of thread ${pid} (PTRACE_SETREGSET).`);
          const b = P.task.mem.readPartial(iov.readBigUInt64LE(0), size);
          if (b.length < size) return E.FAULT;
          const r = ptraceRawBuffer(nt === NT_PRSTATUS ? PTRACE.SETREGS : PTRACE.SETFPREGS, pid, 0n, b);
          if (r < 0) return BigInt(r);
          c.task.invalidate();
          effect = nt === NT_PRSTATUS ? { tid: pid, regs: Buffer.from(c.task.regs().raw) } : { tid: pid, fpregs: c.task.fpRegs() };
          return 0n;
        }
        case PTRACE.GETREGSET: {
          const nt = Number(addr);
          if (nt !== NT_PRSTATUS && nt !== NT_PRFPREG && nt !== NT_X86_XSTATE) this.fail(`the program asked for register set 0x${nt.toString(16)} of thread ${pid} (PTRACE_GETREGSET).`);
          const iov = P.task.mem.readPartial(data, 16);
          if (iov.length < 16) return E.FAULT;
          const base = iov.readBigUInt64LE(0);
          const len = Number(iov.readBigUInt64LE(8));
          const b = nt === NT_PRSTATUS ? Buffer.from(c.task.regs().raw) : nt === NT_PRFPREG ? c.task.fpRegs() : c.task.xstate();
          const n = Math.min(len, b.length);
          write(base, b.subarray(0, n));
          const l = Buffer.alloc(8);
          l.writeBigUInt64LE(BigInt(n));
          write(data + 8n, l);
          return 0n;
        }
        case PTRACE.GETSIGINFO:
          write(data, Buffer.from(tr.stop.info));
          return 0n;
        case PTRACE.SETSIGINFO: {
          const b = P.task.mem.readPartial(data, 128);
          if (b.length < 128) return E.FAULT;
          tr.stop.info = Buffer.from(b);
          return 0n;
        }
        case PTRACE.GETEVENTMSG: {
          const b = Buffer.alloc(8);
          b.writeBigUInt64LE(tr.eventMsg);
          write(data, b);
          return 0n;
        }
        case PTRACE.SETOPTIONS:
          return this.setOptions(tr, data);
        case GET_SYSCALL_INFO: {
          const info = this.syscallInfo(c, tr.stop);
          write(data, info.subarray(0, Math.min(Number(addr), info.length)));
          return BigInt(info.length);
        }
        case ARCH_PRCTL: {
          // ptrace(PTRACE_ARCH_PRCTL, pid, addr, code): addr is the base to set, or where to store it.
          const code = Number(data);
          if (code === ARCH_GET_FS || code === ARCH_GET_GS) {
            const b = Buffer.alloc(8);
            b.writeBigUInt64LE(c.task.regs().get(code === ARCH_GET_FS ? 'fs_base' : 'gs_base'));
            if (P.task.mem.readPartial(addr, 8).length < 8) return E.FAULT;
            write(addr, b);
            return 0n;
          }
          if (code !== ARCH_SET_FS && code !== ARCH_SET_GS) this.fail(`the program called ptrace(PTRACE_ARCH_PRCTL) with code 0x${code.toString(16)} on thread ${pid} (only ARCH_GET/SET_FS and ARCH_GET/SET_GS are emulated).`);
          if (BigInt.asUintN(64, addr) >= TASK_SIZE_MAX) return E.PERM;
          // A change of the thread's registers (the segment bases are part of them), recorded and replayed as such.
          changes('the registers');
          const regs = c.task.regs().clone();
          regs.set(code === ARCH_SET_FS ? 'fs_base' : 'gs_base', BigInt.asUintN(64, addr));
          c.task.setRegs(regs);
          c.task.invalidate();
          effect = { tid: pid, regs: Buffer.from(c.task.regs().raw) };
          return 0n;
        }
        case PTRACE.LISTEN: {
          if (!tr.seized || (tr.stop.kind !== 'group' && tr.stop.kind !== 'event') || tr.stop.code >> 8 !== PTRACE_EVENT.STOP) return E.IO;
          if (!tr.groupStopped) {
            // The group-stop ended already (a SIGCONT came): it traps again at once to say so.
            const code = SIG.TRAP | (PTRACE_EVENT.STOP << 8);
            this.enterStop(c, tr, { kind: 'event', code, info: siginfo(SIG.TRAP, code) });
            return 0n;
          }
          tr.listening = true;
          tr.waitable = false;
          return 0n;
        }
        case PTRACE.CONT:
        case PTRACE.SYSCALL:
        case PTRACE.SINGLESTEP:
        case SYSEMU:
        case SYSEMU_SINGLESTEP:
        case PTRACE.DETACH: {
          const sig = Number(data);
          if (sig < 0 || sig > 64) return E.IO;
          if (req === PTRACE.DETACH) this.tracees.delete(pid);
          tr.mode = RESUME_MODES.get(req) ?? 'cont';
          this.resumeTracee(c, tr, sig);
          return 0n;
        }
      }
      return this.fail(`the program called ptrace(${this.requestName(req)}) on thread ${pid}.`);
    })();
    p.entry = outputs;
    if (effect) p.tracee = effect;
    const regs = P.task.regs().clone();
    regs.set('orig_rax', -1n);
    regs.set('rax', result);
    P.task.setRegs(regs);
  }

  /** struct ptrace_syscall_info for the stop, cut where the kernel's ends for its op. */
  private syscallInfo(c: RecTask, stop: Stop): Buffer {
    const regs = c.task.regs();
    const b = Buffer.alloc(80);
    const op = stop.kind === 'syscall-entry' ? 1 : stop.kind === 'syscall-exit' ? 2 : 0;
    b.writeUInt8(op, 0);
    b.writeUInt32LE(0xc000003e, 4); // AUDIT_ARCH_X86_64
    b.writeBigUInt64LE(regs.ip, 8);
    b.writeBigUInt64LE(regs.sp, 16);
    if (op === 1) {
      b.writeBigUInt64LE(regs.get('orig_rax'), 24);
      regs.syscallArgs().forEach((a, i) => b.writeBigUInt64LE(BigInt.asUintN(64, a), 32 + i * 8));
      return b;
    }
    if (op === 2) {
      const rval = regs.result;
      b.writeBigInt64LE(rval, 24);
      b.writeUInt8(rval < 0n && rval >= -4095n ? 1 : 0, 32);
      return b.subarray(0, 33);
    }
    return b.subarray(0, 24);
  }

  /**
   * PTRACE_SYSEMU: c, at its syscall's entry, skips it. rax stays as it was (-ENOSYS, or what the
   * tracer set). The trace says so with a syscall trr answered, which replay
   * applies at the same entry.
   */
  private skipSyscall(c: RecTask, stop: Stop): void {
    const regs = c.task.regs().clone();
    const entry = stop.entryRegs ?? regs;
    // With entryRegs, trr changed registers at the stop: the record carries the registers as they end up.
    const tracee: TraceeEffect | undefined = stop.entryRegs ? { tid: c.tid, regs: Buffer.from(regs.raw) } : undefined;
    this.host.append({ kind: 'syscall', tid: c.tid, nr: regs.syscallNo, regs: Buffer.from(entry.raw), result: regs.result, extra: tracee ? { emulated: true, tracee } : { emulated: true } });
    regs.set('orig_rax', -1n);
    c.task.setRegs(regs);
  }

  /**
   * PTRACE_SINGLESTEP or PTRACE_SYSEMU_SINGLESTEP from a stop at a syscall
   * boundary (c is 'ready'). A syscall instruction is not stepped by trr:
   * under SYSEMU c runs into that syscall, whose entry is the stop (see
   * atSyscallEntry). Any other instruction is stepped. Returns true when c
   * stopped after the step.
   */
  private step(c: RecTask, tr: Tracee): boolean {
    const insn = c.task.mem.readPartial(c.task.regs().ip, 2);
    if (insn.length === 2 && insn[0] === 0x0f && insn[1] === 0x05) {
      // Natively the syscall instruction copies the flags, the trap flag included, into r11. Under SYSEMU the
      // entry stop can show that (see atSyscallEntry); a syscall that runs cannot, so that is not emulated.
      if (tr.mode === 'step') this.fail(`the program single-stepped thread ${c.tid} over a syscall instruction (trr would run that syscall without the trap flag the kernel leaves in r11).`);
      tr.intoSyscall = true;
      return false;
    }
    if (insn.length === 2 && insn[0] === 0xcd && insn[1] === 0x80) this.fail(`the program single-stepped thread ${c.tid} over a 32-bit syscall instruction (int $0x80).`);
    this.stepOnce(c, tr);
    return true;
  }

  /**
   * trr steps the tracee for real, one instruction, and records where it
   * trapped (replay steps it the same way).
   */
  private stepOnce(c: RecTask, tr: Tracee): void {
    tr.stop = undefined;
    tr.waitable = false;
    tr.queued.length = 0;
    tr.mode = 'cont';
    const ip = c.task.regs().ip;
    if (ptraceRaw(PTRACE.SINGLESTEP, c.tid, 0, 0) < 0) return;
    let w = waitpid(c.tid, WAIT.__WALL);
    c.task.invalidate();
    if (w && w.status >> 8 === SIG.TRAP && c.task.regs().ip === ip && c.task.sigInfo().readInt32LE(8) === TRAP_BRKPT) {
      // It stood at a syscall's entry (a syscall trr or PTRACE_SYSEMU skipped): the kernel reports the step at
      // that syscall's exit, before any instruction ran. The instruction is a second step (replay does the same).
      if (ptraceRaw(PTRACE.SINGLESTEP, c.tid, 0, 0) < 0) return;
      w = waitpid(c.tid, WAIT.__WALL);
      c.task.invalidate();
    }
    if (!w || (w.status & 0xff) !== 0x7f || ((w.status >> 16) & 0xff) !== 0) {
      this.fail(`thread ${c.tid}, single-stepped by its tracer, did not stop after one instruction (status 0x${(w?.status ?? 0).toString(16)}).`);
    }
    const sig = (w.status >> 8) & 0xff;
    const after = c.task.regs().clone();
    if (sig === SIG.TRAP) {
      after.set('eflags', after.get('eflags') & ~0x10000n); // RF is the kernel's business, not the program's
      c.task.setRegs(after);
    }
    this.host.append({ kind: 'ptrace-stop', tid: c.tid, signo: sig, regs: after.raw, step: true });
    this.enterStop(c, tr, { kind: 'signal', code: sig, info: c.task.sigInfo(), sync: true });
  }

  private setOptions(tr: Tracee, data: bigint): bigint {
    const opts = Number(data & 0xffffffffn);
    const bad = OPTION_NAMES.filter(([bit]) => opts & bit).map(([, n]) => n);
    if (bad.length > 0) this.fail(`the program set the ptrace option(s) ${bad.join(', ')}.`);
    if (opts & ~(SUPPORTED_OPTIONS | OPTION_NAMES.reduce((a, [b]) => a | b, 0))) return E.INVAL;
    tr.options = opts;
    return 0n;
  }

  private newTracee(tracer: RecTask, seized: boolean, child: boolean, options: number): Tracee {
    return {
      tracer: tracer.tid, tracerTgid: tracer.task.tgid, seized, child, options, mode: 'cont', stop: undefined, waitable: false,
      queued: [], entryReported: false, exitReported: false, interruptPending: false, groupStopped: false, firstStop: false, listening: false, attachStop: false, eventMsg: 0n, intoSyscall: false,
    };
  }

  private traceMe(P: RecTask): bigint {
    if (this.tracees.has(P.tid)) return E.PERM;
    const parent = ppidOf(P.task.tgid);
    const tracer = this.host.task(parent);
    if (!tracer) this.fail(`thread ${P.tid} called ptrace(PTRACE_TRACEME), but its parent (process ${parent}) is not recorded.`);
    this.tracees.set(P.tid, this.newTracee(tracer, false, true, 0));
    return 0n;
  }

  private attach(P: RecTask, pid: number, seize: boolean, data: bigint): bigint {
    const c = this.host.task(pid);
    if (!c) {
      try {
        readFileSync(`/proc/${pid}/stat`);
      } catch {
        return E.SRCH;
      }
      this.fail(`the program asked to trace process ${pid} (${seize ? 'PTRACE_SEIZE' : 'PTRACE_ATTACH'}), which is not part of the recording.`);
    }
    if (c.task.tgid === P.task.tgid || this.tracees.has(pid) || c.state === 'exiting') return E.PERM;
    this.settle(c);
    const tr = this.newTracee(P, seize, isChildOf(c, P.task.tgid), 0);
    if (seize) {
      const r = this.setOptions(tr, data);
      if (r < 0n) return r;
    }
    this.tracees.set(pid, tr);
    if (c.state === 'stopped') {
      // Already in a group-stop: it reports that stop to its new tracer (then ATTACH's SIGSTOP).
      // trr let it listen (PTRACE_LISTEN), where it cannot be inspected: trap it for real first.
      ptraceRaw(PTRACE.INTERRUPT, c.tid, 0, 0);
      const w = waitpid(c.tid, WAIT.__WALL);
      if (!w || ((w.status >> 16) & 0xff) !== PTRACE_EVENT.STOP) {
        this.fail(`the program attached to thread ${c.tid} while it was group-stopped, and it did not stop where trr expected (status 0x${(w?.status ?? 0).toString(16)}).`);
      }
      c.task.invalidate();
      tr.groupStopped = true;
      if (!seize) tr.queued.push({ kind: 'signal', code: SIG.STOP, info: siginfo(SIG.STOP, SI_KERNEL) });
      this.enterStop(c, tr, this.groupStop(tr, SIG.STOP));
      return 0n;
    }
    if (seize) return 0n;
    // PTRACE_ATTACH sends SIGSTOP; a task trr holds at a syscall boundary stops for it at once.
    if (c.state === 'ready') this.enterStop(c, tr, { kind: 'signal', code: SIG.STOP, info: siginfo(SIG.STOP, SI_KERNEL) });
    else {
      tr.attachStop = true;
      tgkill(c.task.tgid, c.tid, SIG.STOP);
    }
    return 0n;
  }

  private interrupt(c: RecTask, tr: Tracee): bigint {
    if (!tr.seized) return E.IO;
    if (tr.stop || tr.interruptPending) return 0n;
    this.settle(c);
    if (c.state === 'in-syscall') {
      // Blocked in the kernel: interrupt it for real; the syscall ends (to be restarted) and the stop follows.
      tr.interruptPending = true;
      ptraceRaw(PTRACE.INTERRUPT, c.tid, 0, 0);
      return 0n;
    }
    if (c.state !== 'ready') this.fail(`the program interrupted thread ${c.tid} (PTRACE_INTERRUPT) while it was ${c.state}.`);
    const sig = tr.groupStopped ? SIG.STOP : SIG.TRAP;
    this.enterStop(c, tr, { kind: 'event', code: sig | (PTRACE_EVENT.STOP << 8), info: siginfo(sig, SIG.TRAP | (PTRACE_EVENT.STOP << 8)) });
    return 0n;
  }

  /** Lets a tracee go on from its emulated stop (sig: the signal the tracer passed, 0 for none). */
  private resumeTracee(c: RecTask, tr: Tracee, sig: number): void {
    const stop = tr.stop!;
    tr.stop = undefined;
    tr.waitable = false;
    c.task.invalidate();
    // Stops that follow before it runs again; syscall stops only when resumed with PTRACE_SYSCALL.
    while (tr.queued[0]?.kind.startsWith('syscall') && tr.mode !== 'syscall') tr.queued.shift();
    const next = tr.queued.shift();
    if (next && sig === 0) {
      this.enterStop(c, tr, next);
      return;
    }
    tr.queued.length = 0;
    if (stop.inKernel) {
      // At a fork/vfork/clone event inside the syscall: the syscall goes on (a signal passed here is not delivered, as natively).
      c.state = 'in-syscall';
      ptraceRaw(PTRACE.SYSCALL, c.tid, 0, 0);
      return;
    }
    if (stop.kind === 'syscall-entry') {
      if (sig !== 0) this.fail(`the program resumed thread ${c.tid} from a syscall-entry stop with signal ${signalName(sig)}.`);
      c.state = 'ready';
      const cancelled = c.task.regs().get('orig_rax') === BigInt.asUintN(64, -1n);
      if (cancelled || stop.sysemu) {
        // The tracer cancelled the syscall (the kernel skips it, leaving rax as the tracer set it), or PTRACE_SYSEMU skips it.
        if (!cancelled) this.skipSyscall(c, stop);
        if (tr.mode === 'sysemu-step') this.step(c, tr); // the step goes on to the instruction after the syscall
        else this.afterSyscall(c, tr);
        return;
      }
      if (tr.mode === 'sysemu-step') this.fail(`the program resumed thread ${c.tid} from a syscall-entry stop of PTRACE_SYSCALL with PTRACE_SYSEMU_SINGLESTEP.`);
      tr.entryReported = true;
      this.host.enterSyscall(c);
      return;
    }
    c.state = 'ready';
    if (tr.exitReported) {
      this.host.exitEvent(c); // it was stopped at its exit: the exit goes on
      return;
    }
    if (tr.mode === 'step' || tr.mode === 'sysemu-step') {
      if (sig !== 0) this.fail(`the program single-stepped thread ${c.tid} with signal ${signalName(sig)}.`);
      this.step(c, tr);
      return;
    }
    if (sig === 0) return;
    const info = stop.kind === 'signal' && stop.code === sig ? stop.info : siginfo(sig, 0);
    this.delivering = c.tid;
    try {
      this.host.deliver(c, sig, info, c.task.regs(), false);
    } finally {
      this.delivering = undefined;
    }
  }
}

/** A ptrace request with a buffer as its data argument; returns -errno instead of throwing. */
function ptraceRawBuffer(req: number, pid: number, addr: bigint, buf: Buffer, peek = false): number {
  try {
    if (peek) {
      // glibc's ptrace() returns the word PEEKUSER reads (errors are -errno here, never a debug register's value).
      const v = ptraceRaw(req, pid, addr, 0);
      buf.writeBigInt64LE(BigInt(v));
      return 0;
    }
    return ptraceBuffer(req, pid, addr, buf);
  } catch (e) {
    const m = /: E([A-Z]+)$/.exec((e as Error).message);
    const errno: Record<string, number> = { PERM: 1, SRCH: 3, IO: 5, FAULT: 14, INVAL: 22 };
    return -(errno[m?.[1] ?? 'IO'] ?? 5);
  }
}
