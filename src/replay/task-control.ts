// TaskControl: how replay drives the live tasks of a replayed program tree,
// beneath the application of trace records (ReplaySession). It runs a task to
// its next stop that matters (swallowing real asynchronous signals, which
// replay never delivers), single-steps it, makes it run syscalls of trr's
// choosing, and implements debugger breakpoints (int3) and watchpoints (page
// protection) in its memory. It knows nothing of the trace.
import { Registers, SYSCALL_ARG_REGS } from '../arch/registers.js';
import { PTRACE, PTRACE_EVENT, WAIT, kill, ptraceRaw, waitpid, waitStatus } from '../native/native.js';
import { nr, signalName, syscallName } from '../syscalls/names.js';
import type { AddressSpace, Task } from '../task/task.js';
import { parseMaps, readMapsText } from '../task/procfs.js';
import { SIG, SI_KERNEL, isSyncSignal } from '../task/kernel-abi.js';
import { DivergenceError, TrrError } from '../util/errors.js';
import { aimAtSyscall } from '../task/inject.js';
import { Breakpoints } from './breakpoints.js';
import { WatchAliases, type AliasHost } from './watch-alias.js';
import { PAGE, WatchSet, type Watch } from './watchpoints.js';
import { TRR_CALL_DIVERGE } from '../syscallbuf/layout.js';

/** The preload library found that a buffered call differs from the recorded one (its TRR_CALL_DIVERGE arguments say how). */
function bufferDivergence(recTid: number, args: readonly bigint[]): DivergenceError {
  const [callNr, index, which, expected, found] = args.map((a) => BigInt.asIntN(64, a)) as [bigint, bigint, bigint, bigint, bigint];
  const call = syscallName(Number(callNr));
  const hex = (v: bigint) => `0x${BigInt.asUintN(64, v).toString(16)}`;
  const what =
    which === -1n ? `the program called ${syscallName(Number(found))} where the recording has ${syscallName(Number(expected))}`
    : which === -2n ? `the program's ${call} sent different data (a different buffer or path) than in the recording`
    : `argument ${which} of ${call} is ${hex(found)} where the recording has ${hex(expected)}`;
  return new DivergenceError(`thread ${recTid} diverged inside a buffered stretch, at buffered syscall ${index} since its last event: ${what}`);
}

const ERESTARTNOINTR = -513n;
const TRAP_FLAG = 0x100n;

export const TRACE_LOG = (process.env.TRR_LOG ?? '').includes('replay');

export type ReplayState =
  | 'running' // resumed; its next stop is awaited
  | 'ready' // stopped where it may simply be continued
  | 'at-entry' // stopped at the entry of a syscall whose exit comes later
  | 'in-kernel' // running a syscall for real (vfork); its exit stop comes later
  | 'exiting'
  | 'at-breakpoint' // stopped at a debugger breakpoint (its int3 already undone)
  | 'at-watch' // stopped at an instruction that faulted on a watched page (not yet executed)
  | 'gone';

export interface SplitSyscall {
  readonly nr: number;
  readonly args: bigint[];
  readonly regs: Registers;
  /** Result of a syscall replay already ran for real at its entry. */
  executedResult?: bigint;
}

export class ReplayTask {
  state: ReplayState = 'ready';
  split: SplitSyscall | undefined;
  /** A wait status already collected (by a debugger single-step) that runToStop must use next. */
  pendingStatus: number | undefined;
  /** Stopped at a syscall's entry (seccomp) stop, where the kernel reads the syscall number again on resume. */
  atSyscallEntry = false;
  /** The kernel's per-thread pointers, set by set_tid_address/CLONE_CHILD_CLEARTID and set_robust_list: a copy of the thread needs them. */
  clearChildTid: bigint | undefined;
  robustList: readonly [bigint, bigint] | undefined;
  /** Address of the thread's syscall buffer (src/preload), as the recording's init call gave it. */
  buffer: bigint | undefined;
  /** Records of the last batch written into the buffer, until the thread's next event checks they were all taken. */
  batchCount: number | undefined;
  /** A PTRACE_INTERRUPT of trr's that another stop came before: the kernel reports it later, and that stop is swallowed. */
  interruptPending = false;
  /** How it was last resumed (resume()), to resume it the same way past a swallowed stop. */
  resumedWith: 'continue' | 'syscall' = 'continue';
  constructor(
    readonly recTid: number,
    readonly task: Task,
  ) {}
  get tid(): number {
    return this.task.tid;
  }
  invalidateRegs(): void {
    this.task.invalidate();
  }
}

export type StopKind =
  | { kind: 'seccomp' }
  | { kind: 'syscall-exit' }
  | { kind: 'signal'; sig: number; info: Buffer }
  | { kind: 'event'; event: number }
  | { kind: 'gone'; status: number }
  /** It reached the breakpoint of an asynchronous point being searched for (see async-points.ts), the trap undone. */
  | { kind: 'async-hit' };

export type StepResult =
  | { readonly kind: 'event' } // a record was replayed
  | { readonly kind: 'stepped' } // one instruction executed (stepInstruction)
  | { readonly kind: 'breakpoint'; readonly tid: number; readonly address: bigint }
  /** An instruction of `tid` is about to access a watched page at `address` (not executed yet). */
  | { readonly kind: 'watch-fault'; readonly tid: number; readonly address: bigint }
  /** The debugger interrupted `tid` in its user code (interruptPoll): it stands there, and the record is applied again on the next step. */
  | { readonly kind: 'interrupted'; readonly tid: number };

/** Thrown inside a record's application when an instruction faults on a watched page. */
export class WatchFault extends Error {
  constructor(
    readonly tid: number,
    readonly address: bigint,
  ) {
    super('watch fault');
  }
}

/** Thrown inside a record's application when the debugger interrupted a thread in its user code (see TaskControl.interruptPoll). */
export class InterruptStop extends Error {
  constructor(readonly tid: number) {
    super('interrupted');
  }
}

/** How often a wait for a thread running user code looks at TaskControl.interruptPoll. */
const INTERRUPT_POLL_MS = 20;

/** The stop PTRACE_INTERRUPT asks for (a seized task's PTRACE_EVENT_STOP with SIGTRAP). */
export function isInterruptStop(status: number): boolean {
  return waitStatus.stopped(status) && waitStatus.event(status) === PTRACE_EVENT.STOP && waitStatus.stopSig(status) === SIG.TRAP;
}

/** Thrown inside a record's application when a thread hits a debugger breakpoint. */
export class BreakpointStop extends Error {
  constructor(
    readonly tid: number,
    readonly address: bigint,
  ) {
    super('breakpoint');
  }
}

/**
 * SIGKILLs traced tasks and waits until each is gone. A killed task stopped
 * in ptrace may still report PTRACE_EVENT_EXIT and must be let go. Only
 * these tids are waited for: trr may have other children, like gdb.
 */
export function killAndReap(tids: readonly number[]): void {
  for (const tid of tids) kill(tid, SIG.KILL);
  for (const tid of tids) {
    for (;;) {
      let w;
      try {
        w = waitpid(tid, WAIT.__WALL);
      } catch {
        break; // ECHILD: already reaped
      }
      if (!w || !waitStatus.stopped(w.status)) break;
      ptraceRaw(PTRACE.CONT, tid, 0, 0);
    }
  }
}

export class TaskControl {
  protected readonly tasks = new Map<number, ReplayTask>();

  /** The live task for a recorded tid, if it is still alive. */
  liveTask(recTid: number): Task | undefined {
    const t = this.tasks.get(recTid);
    return t && t.state !== 'gone' ? t.task : undefined;
  }

  /** Recorded tids of the live threads of the process `recPid`. */
  liveThreads(recPid: number): number[] {
    const leader = this.tasks.get(recPid);
    if (!leader) return [];
    return [...this.tasks.values()].filter((t) => t.state !== 'gone' && t.task.tgid === leader.task.tgid).map((t) => t.recTid);
  }

  /** Where thread recTid stands, as replay sees it (undefined: not created yet). */
  threadState(recTid: number): ReplayState | undefined {
    return this.tasks.get(recTid)?.state;
  }

  /** Whether thread recTid stands in user code (so it can be single-stepped). */
  canSingleStep(recTid: number): boolean {
    const t = this.tasks.get(recTid);
    return t !== undefined && (t.state === 'ready' || t.state === 'at-breakpoint' || t.state === 'at-watch');
  }

  setBreakpoint(recPid: number, address: bigint): void {
    this.breakpoints.add(this.tasks.get(recPid)!.task.mem, address);
  }

  removeBreakpoint(recPid: number, address: bigint): void {
    this.breakpoints.remove(this.tasks.get(recPid)!.task.mem, address);
  }

  /**
   * Watches a range of the process `recPid`'s memory by protecting its pages.
   * Returns false (and does nothing) while the memory is not mapped yet.
   */
  setWatchpoint(recPid: number, w: Watch): boolean {
    const t = this.tasks.get(recPid)!;
    const set = this.watchSet(t.task.mem);
    const maps = parseMaps(readMapsText(t.task.tgid));
    const prots = new Map<bigint, number>();
    for (const page of set.pagesOf(w)) {
      const m = maps.find((x) => x.start <= page && page < x.end);
      if (!m) return false;
      prots.set(page, (m.perms[0] === 'r' ? 1 : 0) | (m.perms[1] === 'w' ? 2 : 0) | (m.perms[2] === 'x' ? 4 : 0));
    }
    for (const [page, prot] of prots) if (!set.programProt.has(page)) set.programProt.set(page, prot);
    set.watches.push(w);
    for (const page of set.pagesOf(w)) this.protect(t, page, set.protectionFor(page));
    return true;
  }

  /**
   * After a watch fault: runs the faulting instruction. Returns true when it
   * executed (the thread stands after it), false when it reached the
   * thread's next event instead (replayed by the next step()).
   */
  completeWatchFault(recTid: number): boolean {
    const t = this.tasks.get(recTid)!;
    const r = this.stepOverWatchFault(t);
    if (r.trapped) return true;
    t.pendingStatus = r.status;
    t.state = 'running';
    return false;
  }

  removeWatchpoint(recPid: number, w: Watch): void {
    const t = this.tasks.get(recPid)!;
    const set = this.watchSet(t.task.mem);
    const i = set.watches.findIndex((x) => x.address === w.address && x.length === w.length && x.kind === w.kind);
    if (i < 0) return;
    set.watches.splice(i, 1);
    for (const page of set.pagesOf(w)) {
      if (!set.isWatchedPage(page)) this.aliases.drop(this.aliasHost(t), page, set.protectionFor(page));
      this.protect(t, page, set.protectionFor(page));
      if (!set.isWatchedPage(page)) set.programProt.delete(page);
    }
  }

  protected readonly watches = new Map<AddressSpace, WatchSet>();

  protected watchSet(mem: AddressSpace): WatchSet {
    let s = this.watches.get(mem);
    if (!s) this.watches.set(mem, (s = new WatchSet()));
    return s;
  }

  protected protect(t: ReplayTask, page: bigint, prot: number): void {
    const r = this.injectSyscall(t, nr('mprotect'), [page, PAGE, BigInt(prot)]);
    if (r < 0n) throw new TrrError(`mprotect of a watched page at 0x${page.toString(16)} failed in the replayed process (errno ${-r})`);
  }

  /** Runs the faulting instruction with its page(s) unprotected, then protects them again. */
  protected stepOverWatchFault(t: ReplayTask): { trapped: boolean; status: number } {
    const set = this.watchSet(t.task.mem);
    const info = t.task.sigInfo();
    const address = info.readBigUInt64LE(16);
    const pages = [address & ~(PAGE - 1n), (address & ~(PAGE - 1n)) + PAGE].filter((p) => set.isWatchedPage(p));
    for (const p of pages) this.protect(t, p, set.programProt.get(p) ?? 3);
    const r = this.singleStep(t);
    for (const p of pages) this.protect(t, p, set.protectionFor(p));
    return r;
  }

  /** After the program changed its memory map itself: breakpoints written into new mappings, watched pages kept protected. */
  protected afterMemorySyscall(t: ReplayTask, nrv: number, args: readonly bigint[], result: bigint): void {
    if (result >= 0n && nrv === nr('mmap')) this.breakpoints.mapped(t.task.mem, result, args[1]!);
    if (result >= 0n && nrv === nr('munmap')) this.breakpoints.unmapped(t.task.mem, args[0]!, args[1]!);
    const set = this.watches.get(t.task.mem);
    if (!set || set.watches.length === 0 || result < 0n) return;
    const unmap = nrv === nr('munmap');
    if (!unmap && nrv !== nr('mprotect') && nrv !== nr('mmap')) return;
    const start = nrv === nr('mmap') ? result : args[0]!;
    for (const page of set.watchedPages()) {
      if (page < start || page >= start + args[1]!) continue;
      if (unmap) set.programProt.delete(page);
      else {
        set.programProt.set(page, Number(args[2]));
        this.protect(t, page, set.protectionFor(page));
      }
    }
  }

  /**
   * Makes a stopped task run a syscall of trr's choosing and restores it.
   * At a syscall entry the task's own syscall instruction is used; elsewhere
   * (user code, a syscall exit), the `syscall` instruction trr put in the
   * patched vDSO.
   */
  protected injectSyscall(t: ReplayTask, nrv: number, args: readonly bigint[]): bigint {
    if (t.atSyscallEntry) return this.remoteSyscall(t, nrv, args);
    const state = t.state;
    const saved = aimAtSyscall(t.task, nrv, args, (why) => new TrrError(`trr cannot run a syscall in the replayed process: ${why}`));
    this.resume(t, 'continue');
    const s1 = this.runToStop(t);
    if (s1.kind !== 'seccomp') throw this.unexpected(t, s1, 'an injected syscall');
    const result = this.runInjected(t);
    t.task.setRegs(saved);
    t.state = state;
    t.atSyscallEntry = false;
    return result;
  }

  /** Live tid of the task created by the last injected clone (at its first stop). */
  private injectedChild: number | undefined;

  /** Runs an injected syscall from its entry stop to its exit stop; returns its result. */
  private runInjected(t: ReplayTask): bigint {
    this.resume(t, 'syscall');
    for (;;) {
      const s = this.runToStop(t);
      if (s.kind === 'event' && (s.event === PTRACE_EVENT.CLONE || s.event === PTRACE_EVENT.FORK)) {
        const child = Number(t.task.eventMessage());
        const w = waitpid(child, WAIT.__WALL);
        if (!w || waitStatus.event(w.status) !== PTRACE_EVENT.STOP) throw new TrrError(`a task trr created in the replayed process did not stop as expected`);
        this.injectedChild = child;
        this.resume(t, 'syscall');
        continue;
      }
      if (s.kind !== 'syscall-exit') throw this.unexpected(t, s, 'the exit of an injected syscall');
      return t.task.regs().result;
    }
  }

  /**
   * Makes t's process create a task with clone(flags) and returns the new
   * task's live tid, stopped before it ran anything (its registers are t's,
   * to be replaced).
   */
  protected injectClone(t: ReplayTask, flags: bigint): number {
    this.injectedChild = undefined;
    let r = ERESTARTNOINTR;
    // A pending signal (SIGCHLD of a replayed child, which replay swallows) makes clone restart; the retry runs once it is gone.
    for (let tries = 0; r === ERESTARTNOINTR && tries < 5; tries++) r = this.injectSyscall(t, nr('clone'), [flags, 0n, 0n, 0n, 0n]);
    const child = this.injectedChild;
    if (r < 0n || child === undefined) throw new TrrError(`clone in the replayed process failed (errno ${-r})`);
    return child;
  }

  /** Reads memory as the program sees it (breakpoint int3 bytes and instructions redirected by watch-alias.ts hidden). */
  readMemory(recTid: number, address: bigint, length: number): Buffer {
    const t = this.tasks.get(recTid)!;
    return this.aliases.hide(t.task.mem, address, this.breakpoints.hide(t.task.mem, address, t.task.mem.readPartial(address, length)));
  }

  /** Watched pages aliased so that stores next to a watched range do not fault (watch-alias.ts). */
  protected readonly aliases = new WatchAliases();

  protected aliasHost(t: ReplayTask): AliasHost {
    const mem = t.task.mem;
    let emptyString: bigint | undefined;
    if (mem.syscallInstruction !== undefined) {
      const page = mem.syscallInstruction & ~(PAGE - 1n);
      const z = mem.readPartial(page, Number(PAGE)).indexOf(0);
      if (z >= 0) emptyString = page + BigInt(z);
    }
    return { inject: (nrv, args) => this.injectSyscall(t, nrv, args), mem, emptyString };
  }

  /** Drops the watch aliases of t's process (before a fork of it, or a change of its memory map). */
  protected dropWatchAliases(t: ReplayTask): void {
    if (!this.aliases.any(t.task.mem)) return;
    const set = this.watchSet(t.task.mem);
    this.aliases.dropAll(this.aliasHost(t), (page) => set.protectionFor(page));
  }

  readonly breakpoints = new Breakpoints();

  /**
   * When set, decides for each breakpoint hit whether replay stops there
   * (true) or steps over it and goes on (false), without leaving the record
   * being replayed. Debuggers use it to count hits cheaply.
   */
  breakpointFilter: ((tid: number, address: bigint, regs: Registers) => boolean) | undefined;

  /** The instruction of the asynchronous point being searched for (see async-points.ts), whose breakpoint hits runToStop returns. */
  protected asyncTarget: { readonly mem: AddressSpace; readonly address: bigint } | undefined;

  /** Kills whatever is left of the replayed processes and reaps them. */
  close(): void {
    const live = [...this.tasks.values()].filter((t) => t.state !== 'gone');
    // Threads first: a leader is reaped only after all its threads.
    killAndReap([...live.filter((t) => t.tid !== t.task.tgid), ...live.filter((t) => t.tid === t.task.tgid)].map((t) => t.tid));
    for (const t of live) {
      t.task.mem.close();
      t.state = 'gone';
    }
  }

  /**
   * Set by the debugger while it runs a session for the user: polled while a
   * thread runs its user code towards its next event (runToStop with
   * `user`). When it says so, the thread is stopped where it is
   * (PTRACE_INTERRUPT) and the record's application ends with InterruptStop;
   * applying the record again resumes it from there.
   */
  interruptPoll: (() => boolean) | undefined;

  /**
   * Resumes t if needed and returns its next stop that matters (real async
   * signals are swallowed). With `user`, t runs its own code to that stop
   * (not a syscall of trr's): the wait can be interrupted (interruptPoll).
   */
  protected runToStop(t: ReplayTask, expectSignal = 0, user = false): StopKind {
    let resumed = false;
    for (;;) {
      let s: number;
      if (t.pendingStatus !== undefined) {
        s = t.pendingStatus;
        t.pendingStatus = undefined;
      } else {
        if (t.state === 'at-breakpoint' || t.state === 'at-watch') {
          const st = t.state === 'at-watch' ? this.stepOverWatchFault(t) : this.singleStep(t);
          if (st.trapped) {
            this.resume(t, 'continue');
            resumed = true;
            continue;
          }
          s = st.status;
        } else {
          if (t.state === 'ready') {
            this.resume(t, 'continue');
            resumed = true;
          } else if (t.state !== 'running' && t.state !== 'in-kernel' && t.state !== 'exiting') {
            throw new DivergenceError(`thread ${t.recTid} is not in a state to run (${t.state})`);
          }
          const w = user && resumed && this.interruptPoll ? this.waitOrInterrupt(t, this.interruptPoll) : waitpid(t.tid, WAIT.__WALL);
          if (!w) continue;
          s = w.status;
        }
      }
      t.task.invalidate();
      if (t.interruptPending && isInterruptStop(s)) {
        // Reported after the stop that came before it: the thread goes on as it was resumed.
        t.interruptPending = false;
        ptraceRaw(t.resumedWith === 'syscall' ? PTRACE.SYSCALL : PTRACE.CONT, t.tid, 0, 0);
        t.state = 'running';
        continue;
      }
      if (TRACE_LOG) process.stderr.write(`[replay]   thread ${t.recTid} (live ${t.tid}) stop 0x${s.toString(16)}\n`);
      if (!waitStatus.stopped(s)) {
        t.state = 'gone';
        return { kind: 'gone', status: s };
      }
      t.state = 'ready'; // stopped; callers refine this
      const ev = waitStatus.event(s);
      const sig = waitStatus.stopSig(s);
      t.atSyscallEntry = ev === PTRACE_EVENT.SECCOMP;
      if (ev === PTRACE_EVENT.SECCOMP) return { kind: 'seccomp' };
      if (sig === (SIG.TRAP | 0x80)) return { kind: 'syscall-exit' };
      if (ev !== 0) return { kind: 'event', event: ev };
      const info = t.task.sigInfo();
      const code = info.readInt32LE(8);
      if (sig === SIG.TRAP && code === SI_KERNEL && this.asyncTarget?.mem === t.task.mem && t.task.regs().ip - 1n === this.asyncTarget.address) {
        const regs = t.task.regs().clone();
        regs.set('rip', regs.ip - 1n);
        t.task.setRegs(regs);
        t.state = 'at-breakpoint';
        return { kind: 'async-hit' };
      }
      if (sig === SIG.TRAP && code === SI_KERNEL && this.breakpoints.has(t.task.mem, t.task.regs().ip - 1n)) {
        // A debugger breakpoint: back up over the int3 and stop replay here; the record is applied again on resume.
        const regs = t.task.regs().clone();
        regs.set('rip', regs.ip - 1n);
        t.task.setRegs(regs);
        t.state = 'at-breakpoint';
        if (this.breakpointFilter && !this.breakpointFilter(t.recTid, regs.ip, regs)) continue; // not wanted: step over it and go on
        throw new BreakpointStop(t.recTid, regs.ip);
      }
      if (sig === SIG.SEGV && code === 2 /* SEGV_ACCERR */) {
        const address = info.readBigUInt64LE(16);
        const watches = this.watches.get(t.task.mem);
        const page = address & ~(PAGE - 1n);
        if (watches?.isWatchedPage(page)) {
          // A store that cannot touch a watched range is redirected or stepped over here (see watch-alias.ts).
          const verdict = this.asyncTarget ? undefined : this.aliases.onFault(this.aliasHost(t), watches, t.task.regs().ip, address, watches.protectionFor(page));
          if (verdict === 'absorbed') continue;
          t.state = 'at-watch';
          if (verdict === 'benign') continue;
          throw new WatchFault(t.recTid, address);
        }
      }
      const isFault = isSyncSignal(sig, code) || (sig === SIG.SEGV && code === SI_KERNEL);
      if (isFault || (expectSignal && sig === expectSignal && code > 0)) return { kind: 'signal', sig, info };
      // A real asynchronous signal (SIGCHLD from a replayed child, ...): replay delivers only recorded ones.
      ptraceRaw(PTRACE.CONT, t.tid, 0, 0);
      t.state = 'running';
    }
  }

  /**
   * Waits for running task t's next stop, looking at `poll` every
   * INTERRUPT_POLL_MS. When it says to stop, interrupts t where it is: at the
   * interrupt's own stop, InterruptStop is thrown (t stands in its user
   * code, 'ready'). A stop that came before the interrupt is returned (the
   * interrupt, reported later, is then swallowed: interruptPending), and
   * `poll` still says to stop, so the caller stops at the next event.
   */
  private waitOrInterrupt(t: ReplayTask, poll: () => boolean): { status: number } | undefined {
    for (;;) {
      const w = waitpid(t.tid, WAIT.__WALL, INTERRUPT_POLL_MS);
      if (w) return w;
      if (!poll()) continue;
      if (ptraceRaw(PTRACE.INTERRUPT, t.tid, 0, 0) < 0) throw new DivergenceError(`thread ${t.recTid} vanished`);
      const stop = waitpid(t.tid, WAIT.__WALL);
      if (!stop) continue;
      if (!isInterruptStop(stop.status)) {
        if (TRACE_LOG) {
          t.task.invalidate();
          const r = t.task.regs();
          process.stderr.write(`[replay]   interrupt of ${t.recTid} met stop 0x${stop.status.toString(16)} at ip 0x${r.ip.toString(16)} orig_rax ${BigInt.asIntN(64, r.get('orig_rax'))} rax ${BigInt.asIntN(64, r.get('rax'))}\n`);
        }
        if (waitStatus.stopped(stop.status) && waitStatus.event(stop.status) === PTRACE_EVENT.SECCOMP) this.flushInterrupt(t);
        else t.interruptPending = waitStatus.stopped(stop.status);
        return stop;
      }
      t.task.invalidate();
      const regs = t.task.regs();
      if (BigInt.asIntN(64, regs.get('orig_rax')) >= 0n) {
        // Inside a syscall the seccomp filter let through (the kernel restarts it): not a place in user code. Try again later.
        ptraceRaw(PTRACE.CONT, t.tid, 0, 0);
        t.state = 'running';
        continue;
      }
      if (TRACE_LOG) process.stderr.write(`[replay]   thread ${t.recTid} interrupted at ip 0x${regs.ip.toString(16)}\n`);
      t.state = 'ready';
      t.atSyscallEntry = false; // in user code, not at the entry stop it came from
      throw new InterruptStop(t.recTid);
    }
  }

  /**
   * t reached a syscall's entry stop before trr's PTRACE_INTERRUPT took
   * effect: the interrupt may still be pending (it fires when t next returns
   * to user code), and a signal-pending flag with it, which would make a
   * syscall replay runs for real, or injects, fail with a restart. Both are
   * spent here: interrupted again, t skips the syscall, stops at the
   * interrupt on its way back to user code, and enters the syscall again, at
   * its entry stop as before.
   */
  private flushInterrupt(t: ReplayTask): void {
    t.task.invalidate();
    const entry = t.task.regs().clone();
    const skip = entry.clone();
    skip.set('orig_rax', -1n);
    t.task.setRegs(skip);
    if (ptraceRaw(PTRACE.INTERRUPT, t.tid, 0, 0) < 0 || ptraceRaw(PTRACE.CONT, t.tid, 0, 0) < 0) throw new DivergenceError(`thread ${t.recTid} vanished`);
    const w = waitpid(t.tid, WAIT.__WALL);
    t.task.invalidate();
    if (!w || !isInterruptStop(w.status)) throw new DivergenceError(`thread ${t.recTid} did not stop where trr interrupted it (wait status 0x${(w?.status ?? 0).toString(16)})`);
    t.state = 'ready';
    t.atSyscallEntry = false;
    this.reenterSyscall(t, entry);
  }

  /**
   * Executes one instruction of a stopped task with any breakpoint at its ip
   * lifted. `trapped` is true when it ended in the single-step trap; otherwise
   * `status` is the stop it reached instead (a syscall entry, a fault, ...).
   */
  protected singleStep(t: ReplayTask): { trapped: boolean; status: number } {
    // At a syscall's entry stop, a step first finishes the syscall: the kernel
    // reports the step's trap at the syscall's exit, before any instruction
    // ran. The instruction is executed by a second step.
    const finishingSyscall = t.atSyscallEntry;
    const ip = t.task.regs().ip;
    const lifted = this.breakpoints.lift(t.task.mem, ip);
    if (ptraceRaw(PTRACE.SINGLESTEP, t.tid, 0, 0) < 0) throw new DivergenceError(`thread ${t.recTid} vanished`);
    t.task.invalidate();
    t.state = 'running';
    const w = waitpid(t.tid, WAIT.__WALL)!;
    if (lifted) this.breakpoints.restore(t.task.mem, ip);
    t.task.invalidate();
    if (t.interruptPending && isInterruptStop(w.status)) {
      t.interruptPending = false; // an interrupt of trr's reported late: the step is still to take
      t.state = 'ready';
      return this.singleStep(t);
    }
    const trapped = waitStatus.stopped(w.status) && waitStatus.stopSig(w.status) === SIG.TRAP && waitStatus.event(w.status) === 0 && t.task.sigInfo().readInt32LE(8) !== SI_KERNEL;
    if (trapped) {
      t.state = 'ready';
      t.atSyscallEntry = false;
      if (finishingSyscall) return this.singleStep(t);
    } else if (waitStatus.stopped(w.status) && waitStatus.event(w.status) === PTRACE_EVENT.SECCOMP) {
      // The step ran a syscall instruction, which copied the flags, trap flag
      // included, into r11: the thread must stand as it would have without
      // the step, or later positions would not match those of other replays.
      const regs = t.task.regs();
      if (regs.get('r11') & TRAP_FLAG) {
        const fixed = regs.clone();
        fixed.set('r11', regs.get('r11') & ~TRAP_FLAG);
        t.task.setRegs(fixed);
      }
    }
    return { trapped, status: w.status };
  }

  /**
   * A task left at a syscall's entry stop (its record replayed there) goes
   * back to user code without running an instruction: the kernel finishes
   * the syscall and reports the single-step trap at its exit.
   */
  protected leaveSyscallEntry(t: ReplayTask): void {
    if (!t.atSyscallEntry) return;
    if (ptraceRaw(PTRACE.SINGLESTEP, t.tid, 0, 0) < 0) throw new DivergenceError(`thread ${t.recTid} vanished`);
    t.task.invalidate();
    const w = waitpid(t.tid, WAIT.__WALL)!;
    t.task.invalidate();
    if (!waitStatus.stopped(w.status) || waitStatus.stopSig(w.status) !== SIG.TRAP || waitStatus.event(w.status) !== 0) {
      throw new DivergenceError(`thread ${t.recTid} did not come back from its syscall to user code (wait status 0x${w.status.toString(16)})`);
    }
    t.atSyscallEntry = false;
    t.state = 'ready';
  }

  /** Resumes a stopped task; its next stop is then awaited with runToStop. */
  protected resume(t: ReplayTask, mode: 'continue' | 'syscall'): void {
    if (ptraceRaw(mode === 'continue' ? PTRACE.CONT : PTRACE.SYSCALL, t.tid, 0, 0) < 0) {
      throw new DivergenceError(`thread ${t.recTid} vanished (live tid ${t.tid})`);
    }
    t.resumedWith = mode;
    t.invalidateRegs();
    t.state = 'running';
  }

  protected unexpected(t: ReplayTask, stop: StopKind, wanted: string): DivergenceError {
    if (stop.kind === 'seccomp' && t.task.regs().syscallNo === TRR_CALL_DIVERGE) return bufferDivergence(t.recTid, t.task.regs().syscallArgs());
    const found =
      stop.kind === 'signal' ? `signal ${signalName(stop.sig)} at ip 0x${t.task.regs().ip.toString(16)}`
      : stop.kind === 'gone' ? `the thread ended (status 0x${stop.status.toString(16)})`
      : stop.kind === 'seccomp' ? `a ${syscallName(t.task.regs().syscallNo)} syscall at ip 0x${t.task.regs().ip.toString(16)}`
      : stop.kind === 'event' ? `ptrace event ${stop.event}`
      : stop.kind === 'async-hit' ? `ip 0x${t.task.regs().ip.toString(16)}`
      : 'a syscall exit';
    return new DivergenceError(`thread ${t.recTid} was expected to reach ${wanted}, but reached ${found} instead`);
  }

  /**
   * Makes t, stopped at a syscall entry, run another syscall first; t is left
   * at the entry of its original syscall again, registers unchanged.
   */
  protected remoteSyscall(t: ReplayTask, nrv: number, args: readonly bigint[]): bigint {
    if (!t.atSyscallEntry) throw new TrrError(`internal error: thread ${t.recTid} is not at a syscall entry`);
    const state = t.state; // e.g. 'at-entry' of a blocked syscall whose exit is a later record
    const saved = t.task.regs().clone();
    const r = saved.clone();
    r.set('orig_rax', BigInt(nrv));
    SYSCALL_ARG_REGS.forEach((reg, i) => r.set(reg, args[i] ?? 0n));
    t.task.setRegs(r);
    const result = this.runInjected(t);
    if (BigInt.asIntN(64, saved.get('orig_rax')) === -1n) {
      // Replay had already answered the syscall in place (orig_rax -1: the kernel skips it and returns to
      // saved.ip, which may be rewound onto its syscall instruction for a restart): from the injected call's
      // exit, the same registers take the thread there.
      t.task.setRegs(saved);
      t.atSyscallEntry = false;
    } else this.reenterSyscall(t, saved);
    t.state = state;
    return result;
  }

  /**
   * Puts t at the entry stop of the syscall `regs` stand at the entry of, by
   * executing its syscall instruction again (t may stand anywhere).
   */
  protected reenterSyscall(t: ReplayTask, regs: Registers): void {
    const back = regs.clone();
    back.set('rip', regs.ip - 2n);
    back.set('rax', regs.get('orig_rax'));
    t.task.setRegs(back);
    this.resume(t, 'continue');
    const stop = this.runToStop(t);
    if (stop.kind !== 'seccomp') throw this.unexpected(t, stop, 'the entry of its syscall again');
    t.task.setRegs(regs);
  }

  /** Opens a trace file inside the tracee (read-only) and returns the fd. */
  protected openInTracee(t: ReplayTask, path: string, accessMode = 0n): bigint {
    const regs = t.task.regs();
    const scratch = ((regs.sp - 256n - 4096n) & ~15n);
    const bytes = Buffer.from(path + '\0');
    const saved = t.task.mem.readPartial(scratch, bytes.length);
    t.task.mem.write(scratch, bytes);
    const fd = this.remoteSyscall(t, nr('openat'), [-100n, scratch, 0x80000n /* O_CLOEXEC */ | accessMode, 0n]);
    t.task.mem.write(scratch, saved);
    if (fd < 0n) throw new TrrError(`cannot open ${path} inside the replayed process (errno ${-fd})`);
    return fd;
  }
}
