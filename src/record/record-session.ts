// RecordSession: runs a program tree under ptrace and writes its trace.
//
// One thread runs user code at a time. Every syscall stops the thread (the
// seccomp filter makes each one a PTRACE_EVENT_SECCOMP stop); the recorder
// notes its entry, lets the kernel run it, and records its result and the
// memory it wrote at the syscall-exit stop. A syscall that may block lets
// other threads run meanwhile; its entry and exit then become two records.
// Signals are delivered only at syscall boundaries (an asynchronous signal
// that lands in the middle of user code is held back until the thread's next
// syscall), so every recorded event can be found again in replay by counting
// syscalls. See docs/ARCHITECTURE.md.
import { ThreadNameWatch } from './thread-names.js';
import { readlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Registers, SYSCALL_ARG_REGS } from '../arch/registers.js';
import {
  I386_TRAP_DATA, PTRACE, PTRACE_EVENT, PtraceError, WAIT, cpuAffinity, kill, pinCpu, ptraceRaw, rdtsc, rdtscp, termSender, tgkill, waitpid, waitStatus, type WaitResult,
} from '../native/native.js';
import { QUIET_ENOSYS, ioctlKnown, keyctlKnown, quotactlKnown, semanticsOf, type Range } from '../syscalls/semantics.js';
import { SYSCALLS } from '../syscalls/table.generated.js';
import { nr, syscallName } from '../syscalls/names.js';
import { AddressSpace, Task } from '../task/task.js';
import { innermostTid, parseMaps, readMapsText, signalDisposition, stdioStreamOf } from '../task/procfs.js';
import { patchVdso } from '../task/vdso.js';
import { SigsegvState } from './rdtsc-fault.js';
import { afterCpuid, enableCpuidFaulting } from './cpuid-trap.js';
import type { MemoryWrite, SignalAction, SignalRecord, SyscallExtra, TraceRecord } from '../trace/format.js';
import type { TraceWriter } from '../trace/trace-stream.js';
import { UnsupportedError } from '../util/errors.js';
import { TrackedFiles } from './shared-mappings.js';
import { procMemWriteAt, type ProcMemWrite } from './proc-mem.js';
import { answerVsyscall, inVsyscallPage } from './vsyscall.js';
import { asyncPointRecord, probe } from './preempt.js';
import { ChaosScheduler, RoundRobin, type Scheduler } from './scheduler.js';
import type { MemoryExclusions } from '../task/fingerprint.js';
import { ThreadBuffer, initBuffer } from './syscall-buffers.js';
import { HDR, INIT_RECORD, STUB_ADDR, STUB_SYSCALL_END, TRR_CALL_DIVERGE, TRR_CALL_INIT, TRR_CALL_SIGNAL } from '../syscallbuf/layout.js';
import { transferSourceAtEntry, transferredBytes } from './transfers.js';
import { PR_TSC_ENABLE, PR_TSC_SIGSEGV, RecTask, type PendingSyscall } from './rec-task.js';
import { PtraceEmulation } from './ptrace-emulation.js';
import { ARCH_GET_CPUID, ARCH_SET_CPUID, CLONE, ERESTART_RESTARTBLOCK, SIG, SI_KERNEL, cloneFlagsOf, cpuidAt, frameRange, isSyncSignal, rdtscLengthAt, restartAdjusted } from '../task/kernel-abi.js';

export interface RecordResult {
  /** Wait status of the initial process. */
  readonly status: number;
  readonly events: number;
  /** errno of the initial execve when it failed: the program could not be started. */
  readonly execErrno?: number;
}

/** A signal held for a thread in user code waits this long for its next syscall before it is delivered where the thread stands. */
const SIGNAL_GRACE_MS = 10;
/** After a probe that found no point: wait this long before the next. */
const PROBE_BACKOFF_MS = 20;
/** A signal held this long for a thread in a loop where no cheap point comes is delivered at a teleport point. */
const SIGNAL_TELEPORT_MS = 50;
/** A thread that computes this long while others wait is preempted at a teleport point. */
const SWITCH_TELEPORT_MS = 100;
/** The size of a thread's syscall buffer (src/preload). */
const BUFFER_BYTES = 1n << 20n;
/** How long the program has to exit after a SIGTERM trr passed on to it. */
const TERM_GRACE_MS = 5000;
/** SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU: a PTRACE_EVENT_STOP carrying one of them is a group-stop. */
const STOP_SIGNALS = new Set([19, 20, 21, 22]);
/** Syscalls that change a file's size (recorded for tracked files). */
const RESIZES = new Set(['ftruncate', 'truncate', 'fallocate'].map(nr));
/** si_code of a SIGSYS raised by a seccomp filter. */
const SYS_SECCOMP = 1;
const PR_GET_SECCOMP = 21n;
const PR_SET_SECCOMP = 22n;
const SECCOMP_SET_MODE_FILTER = 1n;
const PR_GET_TSC = 25n;
const PR_SET_TSC = 26n;
const SECCOMP_FILTER_FLAG_TSYNC = 1n;
const ASYNC_LOG = (process.env.TRR_LOG ?? '').includes('async');
const SCHED_YIELD = nr('sched_yield');
const FUTEX = nr('futex');
/** futex operations that never block the caller: WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, UNLOCK_PI, WAKE_BITSET. */
const FUTEX_WAKES = new Set([1, 3, 4, 5, 7, 10]);
/** How long a thread's exit waits for a futex waker's (see finishWakers). */
const WAKER_WAIT_MS = 20;
const ESRCH = 3;

export class RecordSession {
  /** Which syscalls change thread names (extra.names). */
  private readonly threadNames = new ThreadNameWatch();
  private readonly tasks = new Map<number, RecTask>();
  private current: RecTask | undefined;
  private readonly unflushed: RecTask[] = [];
  private readonly earlyStops = new Map<number, number>();
  private readonly warned = new Set<string>();
  private readonly tracked = new TrackedFiles();
  /** Per address space: page hashes of its last teleport point's memory (see preempt.ts). */
  private readonly images = new Map<AddressSpace, Map<bigint, Buffer>>();
  private rootStatus: number | undefined;
  /** Who runs, and for how long (scheduler.ts): round-robin, or chaos mode's random choices. */
  private readonly sched: Scheduler;
  /** The thread that last gave way: it runs next only if no other is ready. */
  private previous: RecTask | undefined;
  private killedRest = false;
  private readonly segv = new SigsegvState();
  /** trr's own CPU affinity: what the program would have had (see virtualiseAffinity). */
  private readonly cpusAllowed = cpuAffinity(0);
  /** When a SIGTERM passed on to the program runs out of time (see checkTermRequest). */
  private termDeadline: number | undefined;
  private started = false;
  private execErrno: number | undefined;
  private readonly ptrace = new PtraceEmulation({
    task: (tid) => this.tasks.get(tid),
    allTasks: () => this.tasks.values(),
    deliver: (t, sig, info, regs, sync) => this.deliver(t, sig, info, regs, sync),
    enterSyscall: (t) => this.onSyscallEntry(t),
    exitEvent: (t) => this.onExitEvent(t),
    onStop: (tid, status) => this.onStop(tid, status),
    release: (t) => {
      if (this.current === t) this.current = undefined;
    },
    append: (rec) => this.append(rec),
  });
  /** Processes (tgids) a fatal signal trr delivered is killing: their other threads' stops are left to the kernel's SIGKILL. */
  private readonly dying = new Set<number>();
  /** A file is mapped shared somewhere: writes must stay traced (see shared-mappings.ts). */
  private noBufferedWrites = false;

  constructor(
    private readonly writer: TraceWriter,
    private readonly rootPid: number,
    private readonly warn: (msg: string) => void,
    /** cpu: the one CPU the program runs on (cli/record.ts pinned it). */
    /** cpuidFaulting: trap every cpuid instruction (see cpuid-trap.ts). */
    /** chaosSeed: schedule with the chaos scheduler seeded with it (trr record --chaos). */
    private readonly options: { readonly waitForAll: boolean; readonly syscallBuffer?: boolean; readonly cpu?: number; readonly cpuidFaulting?: boolean; readonly chaosSeed?: number } = { waitForAll: false },
  ) {
    this.sched = options.chaosSeed !== undefined ? new ChaosScheduler(options.chaosSeed) : new RoundRobin();
    this.sched.startSlice(Date.now());
    const root = new RecTask(new Task(rootPid, rootPid, new AddressSpace(rootPid)));
    root.state = 'running';
    root.runningSince = Date.now();
    this.tasks.set(rootPid, root);
    this.current = root;
  }

  run(): RecordResult {
    while (this.tasks.size > 0) {
      if (!this.current) {
        const next = this.pickReady();
        if (next) this.resumeUser(next);
      }
      const cur = this.current;
      const watch = (cur !== undefined && cur.state === 'running' && (cur.deferred.length > 0 || this.hasReady(cur))) || this.termDeadline !== undefined;
      let w: WaitResult | undefined;
      try {
        w = waitpid(-1, WAIT.__WALL, watch ? this.sched.pollMs : 0);
      } catch (e) {
        throw new UnsupportedError(`lost track of the recorded processes (${(e as Error).message}); ${this.tasks.size} thread(s) unaccounted for.`);
      }
      this.checkTermRequest();
      if (!w) {
        this.killedUnderUs(cur?.tid, () => this.checkStarvation());
        continue;
      }
      this.killedUnderUs(w.tid, () => this.onStop(w.tid, w.status));
      this.killedUnderUs(this.current?.tid, () => this.checkStarvation());
      if (this.rootStatus !== undefined && !this.options.waitForAll && !this.killedRest && this.tasks.size > 0) this.killTheRest();
    }
    const status = this.rootStatus ?? 0;
    this.append({ kind: 'end', tid: this.rootPid, status });
    return { status, events: this.writer.eventCount, execErrno: this.execErrno };
  }

  /**
   * Runs the handling of a stop of thread `tid`. A SIGKILL takes a thread
   * out of its ptrace-stop at any moment (its process dies of a signal
   * another thread got, or an outside kill): the stop waitpid reported may
   * be gone before trr has read the registers. A ptrace request on `tid`
   * then fails with ESRCH; the thread's exit event comes next, and records
   * its death where it stood. Any other failure is a real error.
   */
  private killedUnderUs(tid: number | undefined, handle: () => void): void {
    try {
      handle();
    } catch (e) {
      if (!(e instanceof PtraceError) || e.errno !== ESRCH) throw e;
      const t = this.tasks.get(e.pid);
      if (!t) throw e;
      if (e.pid !== tid) {
        throw new UnsupportedError(`thread ${e.pid} disappeared (killed) while trr handled a stop of thread ${tid ?? 'none'} (${e.message}); the recording stops here, its trace replays up to the last complete event.`);
      }
      t.state = 'running'; // not stopped any more: its exit event follows
      if (this.current === t) this.current = undefined;
    }
  }

  /**
   * The recording ends with the initial process, as rr's does: processes it
   * left behind (daemons, orphans) are killed, and their deaths recorded.
   */
  private killTheRest(): void {
    this.killedRest = true;
    for (const tgid of new Set([...this.tasks.values()].map((t) => t.task.tgid))) kill(tgid, SIG.KILL);
  }

  /**
   * A SIGTERM sent to trr from outside the recording (the program's own
   * kill(0, SIGTERM) reaches the program anyway) is passed on to the initial
   * process, as if it had been sent to it; if the recording has not ended
   * TERM_GRACE_MS later, or a second one comes, everything is killed and the
   * trace ends there.
   */
  private checkTermRequest(): void {
    const from = termSender();
    const outside = from !== 0 && ![...this.tasks.values()].some((t) => t.task.tgid === from);
    if (outside && this.termDeadline === undefined) {
      this.warn(`trr was sent SIGTERM${from > 0 ? ` by process ${from}` : ''}; it passed it on to the recorded program, and ends the recording when the program exits (within ${TERM_GRACE_MS / 1000} s, or the program is killed).`);
      kill(this.rootPid, SIG.TERM);
      this.termDeadline = Date.now() + TERM_GRACE_MS;
    } else if ((outside || (this.termDeadline !== undefined && Date.now() > this.termDeadline)) && !this.killedRest) {
      this.warn('the recorded program did not exit after SIGTERM; trr killed it, and the trace ends there.');
      this.killTheRest();
    }
  }

  // ---- scheduling -------------------------------------------------------

  private hasReady(except?: RecTask): boolean {
    for (const t of this.tasks.values()) if (t !== except && t.state === 'ready') return true;
    return false;
  }

  private pickReady(): RecTask | undefined {
    const t = this.sched.pick(this.tasks.values(), this.previous);
    if (t) {
      this.previous = undefined;
      this.sched.startSlice(Date.now());
    }
    return t;
  }

  /** Lets a stopped task run user code; it becomes the current task. */
  private resumeUser(t: RecTask): void {
    try {
      t.boundary = t.task.regs();
    } catch {
      // Killed (SIGKILL wakes a stopped task) since it stopped: its exit comes next.
      t.state = 'running';
      if (this.current === t) this.current = undefined;
      return;
    }
    t.state = 'running';
    t.runningSince = Date.now();
    this.current = t;
    if (ptraceRaw(PTRACE.CONT, t.tid, 0, 0) < 0) this.current = undefined; // died under us; its exit status will come
  }

  /** After a stop of the current task: keep running it, unless its slice is up and others wait. */
  private continueOrYield(t: RecTask, yieldNow = false): void {
    t.state = 'ready';
    if (this.current !== t && this.current !== undefined) return;
    if (this.sched.switchAway(t, yieldNow) && this.hasReady(t)) {
      this.current = undefined;
      this.previous = t;
      return;
    }
    this.resumeUser(t);
  }

  /**
   * In chaos mode, after a clone or fork: the new thread is made ready
   * first (its first stop may come after its creator's syscall exit), so
   * that the choice does not depend on which stop the kernel reported first;
   * then the scheduler chooses whether it runs before its creator.
   */
  private newChildFirst(p: PendingSyscall): boolean {
    if (p.child === undefined || this.sched.seed === undefined) return false;
    const child = this.tasks.get(p.child);
    if (child?.state === 'new') {
      const w = waitpid(p.child, WAIT.__WALL, 100);
      if (w) this.onStop(w.tid, w.status);
    }
    return this.sched.childFirst();
  }

  // ---- stops ------------------------------------------------------------

  private onStop(tid: number, status: number): void {
    const t = this.tasks.get(tid);
    if (!t) {
      if (waitStatus.stopped(status)) this.earlyStops.set(tid, status);
      return;
    }
    t.task.invalidate();
    if (!waitStatus.stopped(status)) return this.onGone(t, status);
    const ev = waitStatus.event(status);
    const sig = waitStatus.stopSig(status);
    if (this.dying.has(t.task.tgid) && (ev === PTRACE_EVENT.SECCOMP || ev === PTRACE_EVENT.STOP || (ev === 0 && sig !== (SIG.TRAP | 0x80)))) {
      // Its process dies of a signal trr delivered to another of its threads; replay kills it there.
      // A syscall it enters or a signal it gets now is left undone: the kernel's SIGKILL takes it from this stop.
      t.state = 'running';
      if (this.current === t) this.current = undefined;
      return;
    }
    if (ev === PTRACE_EVENT.SECCOMP) return this.onSyscallEntry(t);
    if (sig === (SIG.TRAP | 0x80)) return this.onSyscallExit(t);
    switch (ev) {
      case PTRACE_EVENT.EXEC:
        // An execve by another thread of the process: it comes back under the leader's tid.
        if (Number(t.task.eventMessage()) !== tid && this.tasks.has(Number(t.task.eventMessage()))) return this.takeOverLeader(t, Number(t.task.eventMessage()), status);
        this.images.delete(t.task.mem);
        if ([...this.tasks.values()].some((o) => o !== t && o.task.mem === t.task.mem)) t.task.mem = new AddressSpace(t.tid);
        else t.task.mem.reset(t.tid);
        t.task.tgid = t.tid;
        ptraceRaw(PTRACE.SYSCALL, t.tid, 0, 0);
        return;
      case PTRACE_EVENT.FORK:
      case PTRACE_EVENT.VFORK:
      case PTRACE_EVENT.CLONE:
        return this.onCloneEvent(t, ev);
      case PTRACE_EVENT.EXIT:
        return this.onExitEvent(t);
      case PTRACE_EVENT.STOP:
        if (t.state === 'new') {
          t.state = 'ready';
          this.ptrace.atFirstStop(t);
        } else if (STOP_SIGNALS.has(sig) && this.ptrace.atGroupStop(t, sig)) return; // its own tracer sees it
        else if (STOP_SIGNALS.has(sig)) {
          // Group-stop (SIGSTOP, SIGTSTP...): the thread stays stopped, as natively, until a
          // SIGCONT; PTRACE_LISTEN lets the kernel wake it then (and the parent's wait see it).
          t.state = 'stopped';
          if (this.current === t) this.current = undefined;
          ptraceRaw(PTRACE.LISTEN, t.tid, 0, 0);
        } else if (this.ptrace.atInterruptStop(t)) return;
        else if (t.state === 'running') {
          // A probe's PTRACE_INTERRUPT that another stop came before (preempt.ts): the kernel
          // reports it once the thread goes on. It stands in user code, between its boundaries:
          // it goes on, and a signal that stops it here is still one to hold back.
          ptraceRaw(PTRACE.CONT, t.tid, 0, 0);
        } else this.continueOrYield(t); // the end of a group-stop, or a stop trr asked for
        return;
      case PTRACE_EVENT.VFORK_DONE:
        // Only asked for when the program's own tracer may want it (see PtraceEmulation.onClone).
        if (!this.ptrace.atVforkDone(t)) ptraceRaw(PTRACE.SYSCALL, t.tid, 0, 0);
        return;
    }
    this.onSignal(t, sig);
  }

  private onSyscallEntry(t: RecTask): void {
    if (this.ptrace.atSyscallEntry(t)) return;
    const regs = t.task.regs();
    const nrv = regs.syscallNo;
    const args = regs.syscallArgs();
    if (regs.ip === STUB_SYSCALL_END) {
      throw new UnsupportedError(
        `thread ${t.tid} stopped at a syscall of trr's syscall buffer, which trr's seccomp filter lets through without a stop (a seccomp filter of the program's own traced it?); recording it would record it twice. Record the program with \`trr record -n\` (no syscall buffer).`,
      );
    }
    t.buffer?.take(t.tid, true);
    if (nrv === TRR_CALL_INIT || nrv === TRR_CALL_DIVERGE) return this.onBufferInit(t, regs, nrv, args);
    t.injected = undefined; // a re-sent signal still pending here was consumed by the last syscall (sigwait, signalfd)
    if (nrv === TRR_CALL_SIGNAL) return this.onSignalPoint(t, regs);
    const sem = semanticsOf(nrv);
    if (inVsyscallPage(regs.ip)) return this.onVsyscall(t, regs, nrv, args);
    const impossible = this.cannotRecord(t, nrv, args);
    if (impossible) throw new UnsupportedError(`thread ${t.tid} called ${syscallName(nrv)}: ${impossible}`);
    if (nrv === nr('prctl') && (args[0] === PR_GET_TSC || args[0] === PR_SET_TSC)) return this.virtualiseTsc(t, regs, args);
    if (nrv === nr('arch_prctl') && (args[0] === ARCH_GET_CPUID || args[0] === ARCH_SET_CPUID) && this.options.cpuidFaulting) {
      // trr's own faulting mode stays on: the program's is one trr keeps for it (see onSignal).
      if (args[0] === ARCH_SET_CPUID) t.ownCpuidFaulting = args[1] === 0n;
      return this.answerInstead(t, regs, nrv, args[0] === ARCH_SET_CPUID ? 0n : t.ownCpuidFaulting ? 0n : 1n);
    }
    if (!sem || QUIET_ENOSYS.has(nrv) || this.refuse(nrv, args)) {
      const what = nrv === nr('ioctl') ? `ioctl request 0x${(args[1]! & 0xffffffffn).toString(16)}` : undefined;
      return this.answerEnosys(t, regs, nrv, what);
    }
    const entry = nrv === nr('restart_syscall') ? t.restartOf : sem.atEntry?.(t.task.mem, args);
    const p: PendingSyscall = { nr: nrv, regs: regs.clone(), args, sem, entry, flushed: false };
    if (nrv === nr('clone') && (args[0]! & CLONE.UNTRACED) !== 0n) {
      // The child must be recorded too: run the clone without CLONE_UNTRACED (replay does the same).
      const stripped = regs.clone();
      stripped.set('rdi', args[0]! & ~CLONE.UNTRACED);
      t.task.setRegs(stripped);
      p.restoreArgs = true;
    }
    p.strings = this.stringArgs(t, nrv, args);
    p.segvAction = this.segv.actionAtEntry(t.task, nrv, args);
    if (nrv === nr('shmdt')) p.shmSize = this.tracked.shmSizeAt(t.task, args[0]!);
    if (nrv === nr('execve') || nrv === nr('execveat')) {
      const pathArg = nrv === nr('execve') ? args[0]! : args[1]!;
      p.exec = { path: t.task.mem.readCString(pathArg), argv: this.readStringArray(t, nrv === nr('execve') ? args[1]! : args[2]!) };
    }
    if (sem.sent || sem.transfer) {
      const fd = Number(BigInt.asIntN(32, args[sem.transfer ? sem.transfer.outFd : (sem.fdArg ?? 0)]!));
      p.stdio = fd >= 0 ? stdioStreamOf(t.tid, fd) : 0;
      p.fileDest = this.tracked.trackedFd(t.task, fd);
      const procMem = fd >= 0 ? procMemWriteAt(t.tid, nrv, fd, args) : undefined;
      if (procMem && 'unsupported' in procMem) throw new UnsupportedError(`thread ${t.tid} called ${syscallName(nrv)}: ${procMem.unsupported}`);
      p.procMem = procMem;
      if ((p.stdio || p.fileDest) && sem.transfer) p.transfer = transferSourceAtEntry(t.tid, t.task.mem, args, sem.transfer);
    }
    // Replay runs each thread's user code up to its next event in trace order,
    // so an earlier entry of another thread must be in the trace before this one.
    for (const other of this.unflushed) this.flushEntry(other);
    t.pending = p;
    this.unflushed.push(t);
    if (t.deferred.length > 0) {
      // Re-send a held-back signal now: it interrupts this syscall if it blocks, and is delivered at its exit.
      const info = t.deferred.shift()!;
      t.injected = info;
      tgkill(t.task.tgid, t.tid, info.readInt32LE(0));
    }
    t.state = 'in-syscall';
    if (this.ptrace.beforeRun(t, p) === 'hold') {
      if (this.current === t) this.current = undefined;
      return;
    }
    if (ptraceRaw(PTRACE.SYSCALL, t.tid, 0, 0) < 0) return;
    // An exiting thread stays current until it is gone (see onExitEvent).
    const isClone = nrv === nr('clone') || nrv === nr('clone3') || nrv === nr('vfork');
    const vfork = isClone && (cloneFlagsOf(nrv, args, t.task.mem) & CLONE.VFORK) !== 0n;
    // A write to trr's stdout/stderr keeps the thread current until it returns:
    // no other thread's write can then reach the kernel first, so the trace
    // holds the writes in the order their bytes came out, which is the order
    // replay echoes them in.
    if ((sem.mayBlock && !p.stdio) || vfork) {
      if (this.current === t) this.current = undefined;
    }
  }

  /**
   * The preload library's init call announces a thread's buffer: trr
   * answers 0 (record) and writes the header, or ENOSYS to leave buffering
   * off. The call never reaches the kernel; the trace keeps it, for replay
   * to answer the library with "replay".
   */
  private onBufferInit(t: RecTask, regs: Registers, nrv: number, args: bigint[]): void {
    let result = -38n;
    if (nrv === TRR_CALL_INIT && this.options.syscallBuffer && !t.ownSeccomp && !t.sharedTls) {
      const b = initBuffer(t.task.mem, args, this.noBufferedWrites);
      if (b) {
        t.buffer = b;
        result = INIT_RECORD;
      }
    }
    this.answerInstead(t, regs, nrv, result);
  }

  /**
   * The library's signal point, right after a buffered call during which a
   * signal arrived (the recorder held it back in the stub, see onSignal):
   * re-sent here, it is delivered at this call's return, before the
   * program goes on, as natively at the buffered call's return.
   */
  private onSignalPoint(t: RecTask, regs: Registers): void {
    if (t.deferred.length > 0) {
      const info = t.deferred.shift()!;
      t.injected = info;
      tgkill(t.task.tgid, t.tid, info.readInt32LE(0));
    }
    this.answerInstead(t, regs, TRR_CALL_SIGNAL, 0n);
  }

  /** Turns buffering off (on) in the buffers of these threads. */
  private setBuffering(threads: Iterable<RecTask>, on: boolean): void {
    for (const o of threads) o.buffer?.setWord(HDR.disabled, on ? 0 : 1);
  }

  /** Syscalls trr refuses even though the table knows them. */
  private refuse(nrv: number, args: readonly bigint[]): boolean {
    // An ioctl whose effect on memory trr does not know could not be replayed faithfully.
    if (nrv === nr('ioctl') && !ioctlKnown(Number(args[1]! & 0xffffffffn))) return true;
    return false;
  }

  /**
   * Why a syscall the table knows cannot be recorded exactly in this use, if
   * it cannot: recording then stops with that reason rather than answering
   * ENOSYS, which would make the program behave differently from a native run.
   */
  private cannotRecord(t: RecTask, nrv: number, args: readonly bigint[]): string | undefined {
    if (nrv === nr('userfaultfd')) {
      return 'a userfaultfd lets the program resolve its own page faults, which happen in the middle of user code where trr records nothing; this program cannot be recorded yet.';
    }
    if (nrv === nr('memfd_secret')) {
      return 'secret memory is hidden even from /proc/PID/mem, so trr could neither record nor restore what the program keeps in it; this program cannot be recorded.';
    }
    if (nrv === nr('process_vm_writev') && Number(BigInt.asIntN(32, args[0]!)) !== t.task.tgid) {
      return `it writes into the memory of process ${Number(BigInt.asIntN(32, args[0]!))}. trr replays each process on its own and cannot make one process's write appear in another's memory at the right point, so this program cannot be recorded yet (writing its own memory is supported).`;
    }
    if (nrv === nr('keyctl') && !keyctlKnown(Number(BigInt.asIntN(32, args[0]!)))) {
      return `keyctl command ${Number(BigInt.asIntN(32, args[0]!))} is one whose writes to memory trr does not know, so replay could not give the program the same memory; this program cannot be recorded yet.`;
    }
    if ((nrv === nr('quotactl') || nrv === nr('quotactl_fd')) && !quotactlKnown(Number(args[nrv === nr('quotactl') ? 0 : 1]! & 0xffffffffn))) {
      return `quotactl command 0x${(args[nrv === nr('quotactl') ? 0 : 1]! & 0xffffffffn).toString(16)} is one whose writes to memory trr does not know, so replay could not give the program the same memory; this program cannot be recorded yet.`;
    }
    return undefined;
  }

  private answerEnosys(t: RecTask, regs: Registers, nrv: number, what = `${syscallName(nrv)} (syscall ${nrv})`): void {
    if (!QUIET_ENOSYS.has(nrv) && !this.warned.has(what)) {
      this.warned.add(what);
      this.warn(`the program called ${what}, which trr does not support yet; trr answered it with ENOSYS instead of running it, and the recording shows that.`);
    }
    this.answerInstead(t, regs, nrv, -38n);
  }

  /** Skips the syscall the thread is entering and gives it `result` (and `mem`) instead; replay applies the record. */
  private answerInstead(t: RecTask, regs: Registers, nrv: number, result: bigint, mem?: MemoryWrite[]): void {
    const r = regs.clone();
    r.set('orig_rax', -1n);
    r.set('rax', result);
    t.task.setRegs(r);
    for (const [addr, data] of mem ?? []) t.task.mem.write(addr, data);
    this.append({ kind: 'syscall', tid: t.tid, nr: nrv, regs: regs.raw, result, mem, extra: { emulated: true } });
    if (!this.ptrace.afterSyscallExit(t)) this.continueOrYield(t);
  }

  /** A call through the legacy vsyscall page: the kernel gives no exit stop, so trr answers it (see vsyscall.ts). */
  private onVsyscall(t: RecTask, regs: Registers, nrv: number, args: readonly bigint[]): void {
    const answer = answerVsyscall(t.tid, t.task.mem, nrv, args);
    if ('fault' in answer) throw new UnsupportedError(`thread ${t.tid} called ${syscallName(nrv)} through the vsyscall page at 0x${regs.ip.toString(16)}: ${answer.fault}; natively the kernel raises SIGSEGV there, which trr does not reproduce.`);
    this.answerInstead(t, regs, nrv, answer.result, answer.mem.length ? answer.mem : undefined);
  }

  /**
   * trr itself runs every thread in PR_TSC_SIGSEGV mode to trap rdtsc, so the
   * program's own PR_SET_TSC/PR_GET_TSC act on a mode trr keeps per thread
   * (see onSignal: an rdtsc in SIGSEGV mode faults as natively).
   */
  private virtualiseTsc(t: RecTask, regs: Registers, args: readonly bigint[]): void {
    const EINVAL = -22n;
    const EFAULT = -14n;
    if (args[0] === PR_SET_TSC) {
      const mode = Number(args[1]);
      if (mode !== PR_TSC_ENABLE && mode !== PR_TSC_SIGSEGV) return this.answerInstead(t, regs, nr('prctl'), EINVAL);
      t.tscMode = mode;
      return this.answerInstead(t, regs, nr('prctl'), 0n);
    }
    const out = Buffer.alloc(4);
    out.writeInt32LE(t.tscMode);
    if (t.task.mem.readPartial(args[1]!, 4).length < 4) return this.answerInstead(t, regs, nr('prctl'), EFAULT);
    this.answerInstead(t, regs, nr('prctl'), 0n, [[args[1]!, out]]);
  }

  private stringArgs(t: RecTask, nrv: number, args: readonly bigint[]): [number, string][] | undefined {
    const info = SYSCALLS.get(nrv);
    if (!info?.args) return undefined;
    let out: [number, string][] | undefined;
    info.args.forEach((a, i) => {
      if ((a.type === 'path' || a.type === 'str') && args[i]) (out ??= []).push([i, t.task.mem.readCString(args[i]!, 4096)]);
    });
    return out;
  }

  private readStringArray(t: RecTask, ptr: bigint): string[] {
    const out: string[] = [];
    for (let i = 0; ptr !== 0n && i < 4096; i++) {
      // A bad pointer is the program's error (execve fails with EFAULT), not trr's.
      const word = t.task.mem.readPartial(ptr + BigInt(i * 8), 8);
      if (word.length < 8) break;
      const p = word.readBigUInt64LE(0);
      if (p === 0n) break;
      out.push(t.task.mem.readCString(p));
    }
    return out;
  }

  private sentHash(t: RecTask, p: PendingSyscall, result: bigint): Buffer {
    const h = createHash('sha1');
    for (const [a, l] of p.sem.sent!(t.task.mem, p.args, result)) h.update(t.task.mem.readPartial(a, l));
    return h.digest();
  }

  private readRanges(t: RecTask, ranges: readonly Range[]): MemoryWrite[] {
    const out: MemoryWrite[] = [];
    for (const [a, l] of ranges) {
      if (a === 0n || l <= 0) continue;
      const data = t.task.mem.readPartial(a, l);
      if (data.length > 0) out.push([a, data]);
    }
    return out;
  }

  private onSyscallExit(t: RecTask): void {
    const p = t.pending;
    if (p) this.finishWakers(t);
    if (!p) {
      // A syscall-exit stop we did not ask for (e.g. after PTRACE_EVENT_VFORK_DONE); just go on.
      return this.continueOrYield(t);
    }
    if (p.restoreArgs) {
      // The program sees the arguments it passed, not the ones trr ran the syscall with.
      const back = t.task.regs().clone();
      SYSCALL_ARG_REGS.forEach((reg, i) => back.set(reg, p.args[i]!));
      t.task.setRegs(back);
    }
    this.ptrace.atSyscallExit(t, p);
    let regs = t.task.regs();
    if (this.virtualiseSeccomp(t, p, regs.result)) regs = t.task.regs();
    this.virtualiseAffinity(t, p, regs.result);
    const result = regs.result;
    this.segv.afterSyscall(t.task, p.nr, result, p.segvAction);
    if (p.exec && result === 0n) return this.recordExec(t, p);
    if (p.exec && !this.started) this.execErrno = Number(-result);
    if (p.child !== undefined && this.tasks.get(p.child)?.pending?.exec) {
      // A vfork parent wakes while its child is still inside execve; replay can
      // only let it go after the exec, so the exec must be recorded first.
      t.heldExit = true;
      return;
    }
    this.noteRestartBlock(t, p, result);
    const extra: { -readonly [K in keyof SyscallExtra]: SyscallExtra[K] } = {};
    let mem: MemoryWrite[] | undefined;
    if (p.sem.outputs && (result >= 0n || p.sem.outputsOnError)) {
      mem = this.readRanges(t, p.sem.outputs(t.task.mem, p.args, result, p.entry));
    }
    if (p.sem.sent) extra.hash = this.sentHash(t, p, result);
    if (p.procMem && result > 0n) mem = this.procMemWritten(t, p.procMem, Number(result), extra);
    if (p.transfer && result > 0n) extra.echo = transferredBytes(p.transfer, p.nr, Number(result));
    if (p.stdio && (extra.hash || extra.echo)) extra.stdio = p.stdio;
    if (p.strings) extra.strings = p.strings;
    if (p.child !== undefined) {
      extra.child = p.child;
      if (p.childIsThread) extra.thread = true;
      if (p.childOwnTid !== undefined) extra.childOwnTid = p.childOwnTid;
    }
    if (p.nr === nr('mmap') && result >= 0n) {
      const file = this.mappedFile(t, p.args);
      if (file) {
        extra.file = file.blob;
        extra.path = file.path;
        const tracked = file.tracked;
        if (tracked) {
          extra.tracked = tracked;
          if (!this.noBufferedWrites) {
            // Writes to a file mapped shared must change the mapping in replay: they stay traced from now on.
            this.noBufferedWrites = true;
            for (const o of this.tasks.values()) o.buffer?.setWord(HDR.noWrites, 1);
          }
        }
      }
    } else if (p.nr === nr('shmat') && result >= 0n) {
      const seg = this.tracked.onShmat(t.task, p.args[0]!, result, (data, name) => this.writer.storeData(data, name));
      Object.assign(extra, { file: seg.blob, tracked: seg.key, shmSize: seg.size });
    } else if (p.nr === nr('shmdt') && result === 0n && p.shmSize) {
      extra.shmSize = p.shmSize;
    } else if (p.fileDest && result > 0n) {
      const fd = Number(BigInt.asIntN(32, p.args[p.sem.transfer ? p.sem.transfer.outFd : (p.sem.fdArg ?? 0)]!));
      const outOff = p.sem.transfer?.outOff === undefined ? 0n : p.args[p.sem.transfer.outOff]!;
      const after = outOff ? t.task.mem.readU64(outOff) : undefined;
      extra.fileWrite = [p.fileDest, this.tracked.writeOffset(t.task, p.nr, p.args, result, fd, after)];
    } else if (result === 0n && RESIZES.has(p.nr)) {
      const byPath = p.nr === nr('truncate');
      const key = byPath ? this.tracked.trackedPath(t.task, p.strings?.[0]?.[1] ?? '') : this.tracked.trackedFd(t.task, Number(BigInt.asIntN(32, p.args[0]!)));
      if (key) {
        // A mode that changes the contents (punch, zero, collapse, insert): replay does the same to its copy.
        if (p.nr === nr('fallocate') && (p.args[1]! & ~1n) !== 0n) extra.fileAllocate = [key, Number(p.args[1]!), p.args[2]!, p.args[3]!];
        extra.fileSize = [key, this.tracked.sizeOf(t.task, byPath ? undefined : Number(BigInt.asIntN(32, p.args[0]!)), byPath ? p.strings?.[0]?.[1] : undefined)];
      }
    }
    this.ptrace.atSyscallResult(t, p, result);
    if (p.tracee) extra.tracee = p.tracee;
    const names = this.threadNames.after(t.tid, t.task.tgid, p.nr, p.args, result, p.strings?.[0]?.[1]);
    if (names) extra.names = names;
    this.finishSyscall(t, p, result, mem, Object.keys(extra).length ? extra : undefined);
    // sched_yield gives the other threads their turn, as a kernel with one CPU would.
    if (!this.ptrace.afterSyscallExit(t)) this.continueOrYield(t, p.nr === SCHED_YIELD || this.newChildFirst(p));
  }

  /**
   * The program must not see trr's own seccomp filter: PR_GET_SECCOMP answers
   * 2 (filter mode) only once the program installed a filter itself, else 0.
   * Returns true when it changed the result.
   */
  private virtualiseSeccomp(t: RecTask, p: PendingSyscall, result: bigint): boolean {
    const installs = (p.nr === nr('seccomp') && p.args[0] === SECCOMP_SET_MODE_FILTER) || (p.nr === nr('prctl') && p.args[0] === PR_SET_SECCOMP && p.args[1] === 2n);
    if (installs && result === 0n) {
      const tsync = p.nr === nr('seccomp') && (p.args[1]! & SECCOMP_FILTER_FLAG_TSYNC) !== 0n;
      for (const o of this.tasks.values()) {
        if (o === t || (tsync && o.task.tgid === t.task.tgid)) {
          o.ownSeccomp = true;
          this.setBuffering([o], false); // the program's filter sees the buffer's syscalls too
        }
      }
    }
    if (p.nr !== nr('prctl') || p.args[0] !== PR_GET_SECCOMP || result < 0n) return false;
    const r = t.task.regs().clone();
    r.set('rax', t.ownSeccomp ? 2n : 0n);
    t.task.setRegs(r);
    return true;
  }

  /**
   * trr keeps every recorded thread on one CPU (see cli/record.ts), which
   * the program must not see: sched_getaffinity answers the mask the thread
   * would have (trr's own, or what the program set), and after a
   * sched_setaffinity the thread goes back to that one CPU.
   */
  private virtualiseAffinity(t: RecTask, p: PendingSyscall, result: bigint): void {
    const get = p.nr === nr('sched_getaffinity');
    if ((!get && p.nr !== nr('sched_setaffinity')) || result < 0n || this.options.cpu === undefined) return;
    const pid = Number(BigInt.asIntN(32, p.args[0]!));
    const target = pid === 0 ? t : this.tasks.get(pid);
    if (!target) return;
    if (get) {
      const mask = Buffer.alloc(Number(result));
      (target.affinity ?? this.cpusAllowed).copy(mask);
      t.task.mem.write(p.args[2]!, mask);
    } else {
      target.affinity = t.task.mem.readPartial(p.args[2]!, Math.min(Number(p.args[1]!), 128));
      pinCpu(target.tid, this.options.cpu);
    }
  }

  /** Follows the kernel's per-thread restart block, which restart_syscall continues. */
  private noteRestartBlock(t: RecTask, p: PendingSyscall, result: bigint): void {
    if (result === ERESTART_RESTARTBLOCK) {
      if (p.nr !== nr('restart_syscall')) t.restartOf = { nr: p.nr, sem: p.sem, args: p.args, entry: p.entry };
    } else if (p.nr === nr('rt_sigreturn')) {
      t.restartOf = undefined; // sigreturn resets it: restart_syscall then fails with EINTR
    }
  }

  private finishSyscall(t: RecTask, p: PendingSyscall, result: bigint, mem?: MemoryWrite[], extra?: SyscallExtra): void {
    this.dropUnflushed(t);
    t.pending = undefined;
    const m = mem && mem.length ? mem : undefined;
    if (p.flushed) this.append({ kind: 'syscall-exit', tid: t.tid, nr: p.nr, result, mem: m, extra });
    else this.append({ kind: 'syscall', tid: t.tid, nr: p.nr, regs: p.regs.raw, result, mem: m, extra });
  }

  /**
   * The bytes a write through /proc/PID/mem left in the memory it names, as
   * the record's memory writes: the thread's own process's, or (extra.memOf)
   * another recorded process's, which replay writes at the same point (that
   * process is stopped meanwhile). A process outside the recording is not
   * replayed, and the write to it is emulated like any other.
   */
  private procMemWritten(t: RecTask, w: ProcMemWrite, length: number, extra: { memOf?: number }): MemoryWrite[] | undefined {
    const target = this.tasks.get(w.tid);
    if (!target) return undefined;
    if (target.task.tgid !== t.task.tgid) extra.memOf = target.task.tgid;
    return [[w.address, target.task.mem.readPartial(w.address, length)]];
  }

  /** The blob of the file an mmap mapped, and its tracked-file key when it is one (then the trace keeps a copy of its own). */
  private mappedFile(t: RecTask, args: readonly bigint[]): { blob: string; path: string; tracked: string | undefined } | undefined {
    const flags = Number(args[3]!);
    const fd = Number(BigInt.asIntN(32, args[4]!));
    if (flags & 0x20 /* MAP_ANONYMOUS */ || fd < 0) return undefined;
    const link = `/proc/${t.tid}/fd/${fd}`;
    let target = '';
    try {
      target = readlinkSync(link);
    } catch {
      return undefined;
    }
    if (target === '/dev/zero') return undefined;
    const tracked = this.tracked.onMmap(t.task, fd);
    try {
      return { blob: this.writer.storeFile(link, target, tracked !== undefined), path: target, tracked };
    } catch (e) {
      if (this.writer.failure) throw this.writer.failure; // the trace could not be written (a full disk)
      throw new UnsupportedError(`the program mapped ${target} into memory and trr could not save a copy of it (${(e as Error).message}); mappings of devices are not supported.`);
    }
  }

  private recordExec(t: RecTask, p: PendingSyscall): void {
    this.started = true;
    const tid = t.tid;
    const mapsText = readMapsText(tid);
    const maps = parseMaps(mapsText);
    const regs = t.task.regs();
    const exeTarget = readlinkSync(`/proc/${tid}/exe`);
    const exe = this.writer.storeFile(`/proc/${tid}/exe`, exeTarget);
    const files: [string, string][] = [];
    const seen = new Set<string>();
    for (const m of maps) {
      if (!m.path.startsWith('/') || m.inode === 0 || seen.has(m.path)) continue;
      seen.add(m.path);
      // Through the process's root: it may live in a mount namespace of its own.
      files.push([m.path, m.path === exeTarget ? exe : this.writer.storeFile(`/proc/${tid}/root${m.path}`, m.path)]);
    }
    const stack = maps.find((m) => m.path === '[stack]');
    if (!stack) throw new UnsupportedError(`process ${tid} has no [stack] mapping after execve`);
    const stackData = t.task.mem.read(regs.sp, Number(stack.end - regs.sp));
    const vdso = maps.find((m) => m.path === '[vdso]');
    if (vdso) t.task.mem.syscallInstruction = patchVdso(t.task.mem, vdso.start, vdso.end).syscallInstruction;
    if (this.options.cpuidFaulting) enableCpuidFaulting(t.task); // exec turned it off
    t.ownCpuidFaulting = false;
    this.segv.onExec(t.task);
    this.dropUnflushed(t);
    t.pending = undefined;
    const former = this.formerTids.get(t);
    this.formerTids.delete(t);
    this.append({
      kind: 'exec', tid: former ?? tid, ...(former !== undefined ? { leaderTid: tid } : {}), entryRegs: p.regs.raw, regs: regs.raw, path: p.exec!.path, argv: p.exec!.argv, exe, files,
      stack: [regs.sp, stackData], maps: mapsText, ...(this.options.cpuidFaulting ? { cpuidFaulting: true } : {}),
    });
    this.releaseBuffer(t); // after the exec record, which its last buffered calls precede
    for (const parent of this.tasks.values()) {
      if (parent.heldExit && parent.pending?.child === tid) {
        parent.heldExit = false;
        this.onSyscallExit(parent);
      }
    }
    if (!this.ptrace.afterExec(t)) this.continueOrYield(t);
  }

  /** Threads that took over their leader's tid in an execve, by their former tid (see takeOverLeader). */
  private readonly formerTids = new Map<RecTask, number>();

  /**
   * An execve by a thread other than the leader: the kernel killed the other
   * threads, the leader too, and the execve'ing thread goes on with the
   * leader's tid (its own is gone, without an event). The leader's exit is
   * recorded (if its exit event did not come first); the exec record names
   * the thread by its former tid and says which tid it takes (`leaderTid`).
   */
  private takeOverLeader(leader: RecTask, former: number, status: number): void {
    const execer = this.tasks.get(former)!;
    if (!execer.pending?.exec) throw new UnsupportedError(`thread ${former} took over the tid of process ${leader.tid} in an execve trr did not see it enter; the recording cannot go on.`);
    if (leader.pending) {
      this.flushEntry(leader);
      this.dropUnflushed(leader);
      leader.pending = undefined;
    }
    this.recordExit(leader, 0);
    this.tasks.delete(leader.tid);
    this.tasks.delete(former);
    const moved = new RecTask(new Task(leader.tid, leader.tid, execer.task.mem));
    moved.state = execer.state;
    moved.pending = execer.pending;
    moved.boundary = execer.boundary;
    moved.deferred.push(...execer.deferred);
    moved.injected = execer.injected;
    moved.runningSince = execer.runningSince;
    moved.ownSeccomp = execer.ownSeccomp;
    moved.tscMode = execer.tscMode;
    moved.ownCpuidFaulting = execer.ownCpuidFaulting;
    moved.nsInit = execer.nsInit;
    this.tasks.set(leader.tid, moved);
    this.formerTids.set(moved, former);
    const i = this.unflushed.indexOf(execer);
    if (i >= 0) this.unflushed[i] = moved;
    if (this.current === execer || this.current === leader) this.current = moved;
    this.onStop(leader.tid, status);
  }

  private onCloneEvent(parent: RecTask, ev: number): void {
    const childTid = Number(parent.task.eventMessage());
    const p = parent.pending;
    const flags = p ? cloneFlagsOf(p.nr, p.args, parent.task.mem) : ev === PTRACE_EVENT.CLONE ? CLONE.VM | CLONE.THREAD : 0n;
    const shareVm = (flags & CLONE.VM) !== 0n;
    const tgid = (flags & CLONE.THREAD) !== 0n ? parent.task.tgid : childTid;
    const mem = shareVm ? parent.task.mem : new AddressSpace(childTid);
    if (!shareVm) mem.inheritFrom(parent.task.mem); // a copy of the parent's memory, vDSO and all
    const child = new RecTask(new Task(childTid, tgid, mem));
    child.ownSeccomp = parent.ownSeccomp;
    child.tscMode = parent.tscMode;
    child.ownCpuidFaulting = parent.ownCpuidFaulting;
    this.segv.onClone(parent.task, child.task);
    // A PID namespace's init is a process: its threads share what the kernel does for it
    // (signals without a handler dropped, an exit that waits for the namespace to empty).
    const own = innermostTid(childTid);
    child.nsInit = (flags & CLONE.THREAD) !== 0n ? parent.nsInit : own === 1;
    child.affinity = parent.affinity;
    // Without CLONE_SETTLS a CLONE_VM child uses its parent's thread-local storage, where the
    // library keeps its buffer pointer: a buffer of its own would be the parent's too.
    child.sharedTls = shareVm && (flags & CLONE.SETTLS) === 0n;
    if (parent.buffer && (flags & CLONE.SETTLS) === 0n) {
      // The child keeps the parent's thread pointer, so its library uses the same buffer address:
      // a copy of it after fork; the same memory with CLONE_VM (vfork), where buffering stops while both live.
      if (shareVm) {
        child.buffer = parent.buffer;
        this.setBuffering([parent], false);
      } else child.buffer = new ThreadBuffer(child.task.mem, parent.buffer.addr);
    }
    this.tasks.set(childTid, child);
    if (p) {
      p.child = childTid;
      p.childIsThread = (flags & CLONE.THREAD) !== 0n;
      if (own !== childTid) p.childOwnTid = own;
    }
    // The parent's own tracer may see this event: the parent then stays at it until that tracer resumes it.
    const held = this.ptrace.onClone(parent, child, ev, (flags & CLONE.UNTRACED) !== 0n);
    const early = this.earlyStops.get(childTid);
    if (early !== undefined) {
      this.earlyStops.delete(childTid);
      this.onStop(childTid, early);
    }
    if (!held) ptraceRaw(PTRACE.SYSCALL, parent.tid, 0, 0);
  }

  private onExitEvent(t: RecTask): void {
    const status = Number(t.task.eventMessage() & 0xffffffffn);
    t.buffer?.take(t.tid, false);
    if (this.ptrace.atExitEvent(t, status)) return;
    const p = t.pending;
    if (p) {
      if (p.nr === nr('exit') || p.nr === nr('exit_group')) this.finishSyscall(t, p, 0n);
      else {
        this.flushEntry(t);
        this.dropUnflushed(t);
        t.pending = undefined;
      }
    }
    // Killed while running its own code, at a syscall trr never saw: by the program's seccomp filter.
    const byFilter = !p && t.state === 'running' && waitStatus.signaled(status) && waitStatus.termSig(status) === SIG.SYS;
    this.recordExit(t, status, byFilter);
    t.state = 'exiting';
    if (this.current === t) this.current = undefined;
    if (ptraceRaw(PTRACE.CONT, t.tid, 0, 0) < 0) return;
    // The kernel clears the thread's clear_child_tid word and wakes joiners as
    // it dies: let that finish before any other thread runs, as replay does.
    const alone = ![...this.tasks.values()].some((o) => o !== t && o.task.tgid === t.task.tgid && o.state !== 'exiting');
    // A PID namespace's init is not gone before every other process of its
    // namespace is: their deaths come to the main loop, and so does its own.
    if ((t.tid !== t.task.tgid || alone) && !t.nsInit) {
      for (;;) {
        const w = waitpid(t.tid, WAIT.__WALL);
        if (!w) break;
        if (!waitStatus.stopped(w.status)) return this.onGone(t, w.status);
        ptraceRaw(PTRACE.CONT, t.tid, 0, 0);
      }
    }
  }

  private recordExit(t: RecTask, status: number, byFilter = false): void {
    if (t.exitRecorded) return;
    t.exitRecorded = true;
    this.append(byFilter ? { kind: 'exit', tid: t.tid, status, byFilter } : { kind: 'exit', tid: t.tid, status });
  }

  private onGone(t: RecTask, status: number): void {
    if (t.pending) {
      this.flushEntry(t);
      this.dropUnflushed(t);
      t.pending = undefined;
    }
    this.recordExit(t, status);
    this.releaseBuffer(t);
    this.tasks.delete(t.tid);
    this.segv.onGone(t.task);
    this.ptrace.onGone(t, status);
    t.task.mem.close();
    if (![...this.tasks.values()].some((o) => o.task.tgid === t.task.tgid)) this.dying.delete(t.task.tgid);
    if (t.tid === this.rootPid) this.rootStatus = status;
    if (this.current === t) this.current = undefined;
  }

  // ---- signals ----------------------------------------------------------

  private onSignal(t: RecTask, sig: number): void {
    let info = t.task.sigInfo();
    const regs = t.task.regs();
    const code = info.readInt32LE(8);
    if (sig === SIG.SYS && code === SYS_SECCOMP && info.readInt32LE(4) === I386_TRAP_DATA) {
      throw new UnsupportedError(
        `thread ${t.tid} made a 32-bit system call (int $0x80, i386 syscall number ${info.readInt32LE(24)}) at 0x${info.readBigUInt64LE(16).toString(16)}. trr records only the 64-bit system call interface, and a 32-bit call means something else under the same number, so recording stops here rather than record it wrongly.`,
      );
    }
    if (sig === SIG.SEGV && code === SI_KERNEL) {
      const len = rdtscLengthAt(t.task.mem, regs.ip);
      // In the program's own PR_TSC_SIGSEGV mode, rdtsc faults as it would natively.
      if (len && t.tscMode === PR_TSC_ENABLE) return this.emulateRdtsc(t, regs, len);
      // Likewise cpuid in the program's own faulting mode.
      if (this.options.cpuidFaulting && !t.ownCpuidFaulting && cpuidAt(t.task.mem, regs.ip)) return this.emulateInstruction(t, regs, afterCpuid(regs), 'cpuid');
    }
    // A SIGSYS from the program's own seccomp filter is raised by the syscall instruction itself.
    const fromFilter = sig === SIG.SYS && code === SYS_SECCOMP;
    const sync = (isSyncSignal(sig, code) || fromFilter) && !(t.injected && t.injected.readInt32LE(0) === sig);
    if (!sync) {
      if (t.injected && t.injected.readInt32LE(0) === sig) {
        t.task.setSigInfo(t.injected);
        info = t.injected;
        t.injected = undefined;
      }
      if (!t.boundary || !regs.equals(t.boundary)) {
        // In the middle of user code: hold it back until the thread's next syscall.
        // The library makes its next call a traced one, so a buffered stretch does not delay it.
        if (t.deferred.length === 0) t.deferredSince = Date.now();
        // A standard signal already pending is not queued twice (the kernel would merge them too).
        if (sig >= 32 || !t.deferred.some((d) => d.readInt32LE(0) === sig)) t.deferred.push(info);
        t.buffer?.setWord(HDR.forceTraced, 1);
        ptraceRaw(PTRACE.CONT, t.tid, 0, 0);
        return;
      }
    }
    if (sync) t.buffer?.take(t.tid, true);
    this.deliver(t, sig, info, regs, sync);
  }

  private deliver(t: RecTask, sig: number, info: Buffer, regs: Registers, sync: boolean): void {
    if (this.ptrace.interceptSignal(t, sig, info, sync)) return; // its own tracer sees it first
    let action: SignalAction = signalDisposition(t.tid, sig);
    if ((action === 'terminate' || action === 'stop') && t.nsInit && sig !== SIG.KILL && sig !== SIG.STOP) {
      // A namespace's init ignores signals it has no handler for, and the kernel drops
      // them after this stop; only a fault kills it, and only while it is not traced.
      if (sync) return this.dieOfFault(t, sig, { kind: 'signal', tid: t.tid, signo: sig, sync, info, regs: regs.raw, action });
      action = 'ignore';
    }
    const base = { kind: 'signal' as const, tid: t.tid, signo: sig, sync, info, regs: regs.raw, action };
    if (action === 'terminate') {
      this.append(base);
      this.dying.add(t.task.tgid);
      t.state = 'exiting';
      if (this.current === t) this.current = undefined;
      ptraceRaw(PTRACE.CONT, t.tid, 0, sig);
      return;
    }
    if (action === 'ignore' || action === 'stop') {
      // A stopped thread stays inside the kernel's signal loop, where an interrupted
      // syscall is not yet restarted: the next signal (SIGCONT) is delivered at the same
      // registers. Replay restarts it when no signal follows (see ReplaySession.applySignal).
      const after = action === 'stop' ? regs : restartAdjusted(regs);
      this.append({ ...base, after: after.raw });
      t.task.invalidate();
      if (action === 'ignore' && this.current !== undefined && this.current !== t) {
        t.state = 'ready'; // passed on by its tracer while another thread runs: it runs when its turn comes
        return;
      }
      t.boundary = after;
      t.state = 'running';
      // A stopping signal goes to the kernel, which stops the whole process (group-stop).
      ptraceRaw(PTRACE.CONT, t.tid, 0, action === 'stop' ? sig : 0);
      return;
    }
    // A handler: single-step into it so the kernel builds the frame and stops at the handler's first instruction.
    if (ptraceRaw(PTRACE.SINGLESTEP, t.tid, 0, sig) < 0) return;
    const w = waitpid(t.tid, WAIT.__WALL);
    if (!w) return;
    if (!waitStatus.stopped(w.status) || waitStatus.stopSig(w.status) !== SIG.TRAP || waitStatus.event(w.status) !== 0) {
      if (this.frameFailed(t, regs, w.status)) return this.onFrameFailed(t, base, w.status);
      this.append(base);
      return this.onStop(w.tid, w.status);
    }
    t.task.invalidate();
    const after = t.task.regs().clone();
    after.set('eflags', after.get('eflags') & ~0x10100n); // the single-step's TF and RF are ours, not the program's
    t.task.setRegs(after);
    this.segv.afterHandlerEntry(t.task);
    const [start, len] = frameRange(t.task.mem, regs, after);
    const mem = len > 0 ? [[start, t.task.mem.readPartial(start, len)] as const] : undefined;
    this.append({ ...base, after: after.raw, mem });
    t.state = 'ready';
    if (this.current === t || this.current === undefined) this.resumeUser(t);
  }

  /**
   * Whether the kernel could not build the handler's frame (an overflowed
   * stack, a bad stack pointer): it then changes no register and raises
   * SIGSEGV instead, either fatally (the thread's next stop is its exit) or
   * as a signal of its own (a SIGSEGV handler on an alternate stack).
   */
  private frameFailed(t: RecTask, before: Registers, status: number): boolean {
    t.task.invalidate();
    if (!waitStatus.stopped(status)) return false;
    const now = t.task.regs();
    if (now.ip !== before.ip || now.sp !== before.sp) return false;
    if (waitStatus.event(status) === PTRACE_EVENT.EXIT) {
      const exit = Number(t.task.eventMessage() & 0xffffffffn);
      return waitStatus.signaled(exit) && waitStatus.termSig(exit) === SIG.SEGV;
    }
    return waitStatus.event(status) === 0 && waitStatus.stopSig(status) === SIG.SEGV && t.task.sigInfo().readInt32LE(8) === SI_KERNEL;
  }

  /**
   * Records a delivery whose frame the kernel could not build (noFrame) and
   * the SIGSEGV the kernel raised instead: delivered where the thread stands
   * (not sync: no instruction raised it), or the thread's death.
   */
  private onFrameFailed(t: RecTask, base: SignalRecord, status: number): void {
    this.append({ ...base, noFrame: true });
    if (waitStatus.event(status) !== 0) return this.onStop(t.tid, status);
    this.deliver(t, SIG.SEGV, t.task.sigInfo(), t.task.regs(), false);
  }

  /**
   * A fault in a namespace's init: natively it dies of it, but the kernel
   * keeps a traced init alive (the fault repeats forever). trr lets it go
   * (PTRACE_DETACH), so that it faults again untraced and dies, and records
   * that death now; replay, where it is no init, sees it die of the signal.
   */
  private dieOfFault(t: RecTask, sig: number, record: SignalRecord): void {
    this.append(record);
    if (this.current === t) this.current = undefined;
    ptraceRaw(PTRACE.DETACH, t.tid, 0, 0);
    this.onGone(t, sig);
  }

  private emulateRdtsc(t: RecTask, regs: Registers, len: number): void {
    const after = regs.clone();
    let tsc: bigint;
    if (len === 3) {
      const r = rdtscp();
      tsc = r.tsc;
      after.set('rcx', BigInt(r.aux));
    } else tsc = rdtsc();
    after.set('rax', tsc & 0xffffffffn);
    after.set('rdx', tsc >> 32n);
    after.set('rip', regs.ip + BigInt(len));
    this.emulateInstruction(t, regs, after, 'rdtsc');
  }

  /** Goes on after an instruction that trapped (its SIGSEGV suppressed) as if it had run and left `after`. */
  private emulateInstruction(t: RecTask, regs: Registers, after: Registers, kind: 'rdtsc' | 'cpuid'): void {
    t.buffer?.take(t.tid, true);
    t.task.setRegs(after);
    this.segv.restoreAfterFault(t.task);
    this.append({ kind, tid: t.tid, regs: regs.raw, after: after.raw });
    t.boundary = after;
    ptraceRaw(PTRACE.CONT, t.tid, 0, 0);
  }

  /**
   * The current thread has run user code without a stop for a while: if a
   * signal is held for it, or another thread waits while its slice is up,
   * take an asynchronous point where replay can find it again (preempt.ts).
   */
  private checkStarvation(): void {
    const cur = this.current;
    if (!cur || cur.state !== 'running') return;
    const now = Date.now();
    const forSignal = cur.deferred.length > 0 && now - cur.deferredSince >= SIGNAL_GRACE_MS;
    const forSwitch = this.hasReady(cur) && this.sched.preemptDue(now - this.sched.sliceStart, now - cur.runningSince);
    if ((!forSignal && !forSwitch) || now < cur.nextProbe) return;
    const result = probe(cur.task, { unsafeAt: (ip) => this.inPreload(cur, ip), exclusions: (regs) => this.exclusions(cur, regs) });
    if (ASYNC_LOG) process.stderr.write(`[async] thread ${cur.tid} for ${forSignal ? 'a signal' : 'a switch'}: ${result.kind}${'status' in result ? ` 0x${result.status.toString(16)}` : ''}${'regs' in result ? ` at 0x${result.regs.ip.toString(16)}` : ''}\n`);
    if (result.kind === 'stopped') return this.onStop(cur.tid, result.status);
    if (result.kind === 'later') {
      cur.nextProbe = Date.now() + PROBE_BACKOFF_MS;
      return;
    }
    const sig = forSignal ? cur.deferred[0]!.readInt32LE(0) : 0;
    // No cheap point: after a while, a teleport point (not while the interval has buffered syscalls, which replay must run).
    const waited = forSignal ? now - cur.deferredSince : now - this.sched.sliceStart;
    const teleport = result.kind === 'costly' && waited >= (forSignal ? SIGNAL_TELEPORT_MS : SWITCH_TELEPORT_MS) && !cur.buffer?.hasRecords();
    if (result.kind === 'costly' && !teleport) {
      cur.nextProbe = Date.now() + PROBE_BACKOFF_MS;
      ptraceRaw(PTRACE.CONT, cur.tid, 0, 0);
      return;
    }
    cur.buffer?.take(cur.tid, true);
    let image: Map<bigint, Buffer> | undefined;
    if (teleport) {
      image = this.images.get(cur.task.mem);
      if (!image) this.images.set(cur.task.mem, (image = new Map()));
    }
    this.append(asyncPointRecord(cur.task, cur.tid, result.regs, forSignal ? 'signal' : 'preempt', this.exclusions(cur, result.regs), image, result.kind === 'point' ? result.memHash : undefined));
    cur.nextProbe = 0;
    if (forSignal) {
      // Deliver it here: re-sent, it stops the thread at once, at these registers (see onSignal).
      const info = cur.deferred.shift()!;
      cur.deferredSince = Date.now();
      cur.injected = info;
      cur.boundary = result.regs;
      tgkill(cur.task.tgid, cur.tid, sig);
      ptraceRaw(PTRACE.CONT, cur.tid, 0, 0);
      return;
    }
    cur.state = 'ready';
    this.current = undefined;
    this.previous = cur;
  }

  /** Whether ip is in trr's preload library or its syscall stub, whose record and replay paths differ. */
  private inPreload(t: RecTask, ip: bigint): boolean {
    if (ip >= STUB_ADDR && ip < STUB_ADDR + 4096n) return true;
    if (t.buffer && t.buffer.mem.readPartial(t.buffer.addr + BigInt(HDR.busy), 4).readUInt32LE(0) !== 0) return true;
    const m = parseMaps(readMapsText(t.task.tgid)).find((x) => x.start <= ip && ip < x.end);
    return m === undefined || m.path.includes('trr_preload');
  }

  /** What the memory fingerprint leaves out (see fingerprint.ts): trr's buffers, and the threads' dead stack. */
  private exclusions(t: RecTask, regs: Registers): MemoryExclusions {
    const ranges: [bigint, bigint][] = [[STUB_ADDR, 4096n]];
    const otherStackPointers: bigint[] = [];
    for (const o of this.tasks.values()) {
      if (o.task.mem !== t.task.mem || o.state === 'exiting') continue;
      if (o.buffer) ranges.push([o.buffer.addr, BUFFER_BYTES]);
      if (o === t) continue;
      try {
        otherStackPointers.push(o.pending?.regs.sp ?? o.task.regs().sp);
      } catch {
        // not stopped (new): no stack yet
      }
    }
    return { ranges, stackPointer: regs.sp, otherStackPointers };
  }

  // ---- writing ----------------------------------------------------------

  private flushEntry(t: RecTask): void {
    const p = t.pending;
    if (!p || p.flushed) return;
    p.flushed = true;
    this.writeBatch(t.tid);
    this.writer.append({ kind: 'syscall-entry', tid: t.tid, nr: p.nr, regs: p.regs.raw });
  }

  /** The thread's buffered syscalls since its last record go into the trace before its next one. */
  private writeBatch(tid: number): void {
    const batch = this.tasks.get(tid)?.buffer?.drain();
    if (batch) this.writer.append({ kind: 'syscall-batch', tid, count: batch.count, data: batch.data });
  }

  /** The thread's buffer is gone (exec, exit); a vfork parent sharing it buffers again. */
  private releaseBuffer(t: RecTask): void {
    const b = t.buffer;
    if (!b) return;
    t.buffer = undefined;
    const sharers = [...this.tasks.values()].filter((o) => o !== t && o.buffer === b && o.state !== 'exiting');
    if (sharers.length === 1 && !sharers[0]!.ownSeccomp) this.setBuffering(sharers, true);
  }

  private dropUnflushed(t: RecTask): void {
    const i = this.unflushed.indexOf(t);
    if (i >= 0) this.unflushed.splice(i, 1);
  }

  /**
   * Another thread in the middle of a futex wake (its entry seen, not yet
   * written) may be what woke `t`, and a FUTEX_WAKE_OP has written memory
   * by then. Such a call does not block: its exit is waited for briefly and
   * recorded before t's, so that replay gives its effects before t runs on
   * (otherwise its entry goes first as a blocked call, and its written
   * memory only at an exit after t's next events, or never).
   */
  private finishWakers(t: RecTask): void {
    for (const other of [...this.unflushed]) {
      const op = other.pending?.nr === FUTEX ? Number(BigInt.asIntN(32, other.pending.args[1]!)) & 0x7f : -1;
      if (other === t || !FUTEX_WAKES.has(op)) continue;
      const w = waitpid(other.tid, WAIT.__WALL, WAKER_WAIT_MS);
      if (w) this.killedUnderUs(w.tid, () => this.onStop(w.tid, w.status));
    }
  }

  /** Appends a record; entries of other threads' unfinished syscalls go first, in order. */
  private append(rec: TraceRecord): void {
    for (const other of this.unflushed) if (other.tid !== rec.tid) this.flushEntry(other);
    if (rec.kind !== 'end') this.writeBatch(rec.tid);
    this.writer.append(rec);
  }
}
