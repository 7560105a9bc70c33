// Debugger: the replay timeline, as any debugger front end sees it, and
// protocol-neutral. It alone owns the replay sessions, the automatic
// checkpoints (checkpoints.ts), the user's checkpoints, and the breakpoints
// and watchpoints (so that they survive going back in time). Every resume
// names its direction, unit and thread (`Resume`) and returns a typed stop
// (`StopReason`); goto() moves to a place. Forwards it runs its
// ReplaySession; backwards (reverse.ts) it replays again from the latest
// checkpoint before the point to go back from: replay is deterministic, so a
// position can be found again. A position is (next record, thread,
// registers) when stopped in the middle of a thread's run between two
// events, or (next record) at an event boundary. divert() gives a copy of
// the replay for code a front end runs (diversion.ts).
//
// Nothing here knows about gdb: the gdb server (src/gdb) translates packets
// into these calls and stops into stop replies.
import { Registers } from '../arch/registers.js';
import { processStart } from '../trace/processes.js';
import type { TraceReader } from '../trace/trace-stream.js';
import { AutoCheckpoints, CHECKPOINT_LOG } from './checkpoints.js';
import { Diversion } from './diversion.js';
import { ReplaySession, type SessionImage, type StepResult } from './replay-session.js';
import { TrrError } from '../util/errors.js';
import { WatchBook } from './watch-book.js';
import { ReverseExecution, type Position, type TimelineCore } from './reverse.js';
import type { SyscallCatch } from './syscall-catch.js';
import { CatchStops, type CatchHost } from './catch-stops.js';
import type { Watch } from './watchpoints.js';
import { PauseMark, type PauseHost } from './pause-mark.js';
import { DebuggeeEnd, type EndHost } from './debuggee-end.js';

/**
 * A resume, as any front end asks for it: which way, how far, and which
 * thread. Going to a place (the start, an event, a checkpoint) is goto().
 */
export interface Resume {
  readonly direction: 'forward' | 'reverse';
  /** One instruction of the thread, or on to the next hit (breakpoint, watchpoint, signal, end). */
  readonly unit: 'instruction' | 'continue';
  /** The thread that runs; undefined: the one that stopped (forwards: the one whose record is next). */
  readonly thread?: number;
  /**
   * Forwards: whether the other threads' breakpoint and watchpoint hits end
   * the resume ('stop', the default) or are passed over ('pass': gdb's
   * scheduler-locking; those threads still run as recorded, replay cannot
   * hold them back). Backwards, every thread's hits count.
   */
  readonly others?: 'stop' | 'pass';
}

export type Place = { readonly kind: 'start' } | { readonly kind: 'event'; readonly event: number } | { readonly kind: 'checkpoint'; readonly checkpoint: number };

export type StopReason =
  | { readonly kind: 'start'; readonly tid: number }
  | { readonly kind: 'breakpoint'; readonly tid: number; readonly address: bigint }
  | { readonly kind: 'watchpoint'; readonly tid: number; readonly watch: Watch }
  | { readonly kind: 'step'; readonly tid: number }
  /** The debuggee is about to die of this signal (recorded). */
  | { readonly kind: 'signal'; readonly tid: number; readonly signo: number }
  /** The end of the recording for the debuggee: it is about to exit. */
  | { readonly kind: 'end'; readonly tid: number }
  /** Reverse execution reached the start of the recording. */
  | { readonly kind: 'beginning'; readonly tid: number }
  /** The front end asked to stop (gdb's Ctrl-C). */
  | { readonly kind: 'interrupted'; readonly tid: number }
  /** The debuggee executed a new program (`exe`: the trace's copy of it); breakpoints and watches are gone with the old one. */
  | { readonly kind: 'exec'; readonly tid: number; readonly exe: string }
  /** A caught syscall (SyscallCatch): at its entry stop, or just after it returned. */
  | { readonly kind: 'syscall-entry' | 'syscall-return'; readonly tid: number; readonly nr: number }
  /** The debuggee made a new process (recorded pid `child`), when the front end asked for these (reportForks). */
  | { readonly kind: 'fork' | 'vfork'; readonly tid: number; readonly child: number };

export class Debugger {
  private session: ReplaySession;
  /** Recorded pid of the process being debugged (the initial one). */
  readonly pid: number;
  private readonly breakpoints = new Set<bigint>();
  private readonly watches: WatchBook;
  private midRun = false;
  private currentTid: number;
  /** gdb's catchpoints: caught syscalls, forks and vforks (catch-stops.ts). */
  private readonly catches: CatchStops;

  /** The syscalls to stop at (gdb's catch syscall). */
  get syscalls(): SyscallCatch {
    return this.catches.syscalls;
  }

  /** Whether forks and vforks of the debuggee are stops (gdb's fork-events, for `catch fork` and to detach the child). */
  get reportForks(): boolean {
    return this.catches.reportForks;
  }
  set reportForks(on: boolean) {
    this.catches.reportForks = on;
  }

  /** Records to replay before the debuggee exists: its exec (or fork) record is the last of them. */
  private readonly startAfter: number;

  /**
   * Debugs the initial process, or with `process`, the process with that
   * recorded pid from its exec ('exec') or from its fork ('fork').
   */
  constructor(
    private readonly trace: TraceReader,
    process?: { readonly pid: number; readonly from: 'exec' | 'fork' },
    options: { readonly showOutput?: boolean } = {},
  ) {
    this.showOutput = options.showOutput ?? false;
    this.pid = process?.pid ?? trace.recordAt(0).tid;
    this.currentTid = this.pid;
    this.watches = new WatchBook(this.pid);
    this.startAfter = process ? processStart(trace, process.pid, process.from) : 0;
    this.session = this.sessionFrom(undefined);
    const core = this.core();
    this.reverse = new ReverseExecution(core);
    this.catches = new CatchStops(core);
    this.pause = new PauseMark(core);
    this.end = new DebuggeeEnd(core);
  }

  /** Where the debuggee's life ends, which forward replay stops before (debuggee-end.ts). */
  private readonly end: DebuggeeEnd;

  /** Where the latest interrupt stopped a run, to go back from there cheaply (pause-mark.ts). */
  private readonly pause: PauseMark;
  /** The kind of the latest stop reported. */
  private lastStop: StopReason['kind'] = 'start';

  /** Going backwards (reverse.ts), on this debugger's sessions. */
  private readonly reverse: ReverseExecution;

  /** What reverse execution may use of the debugger. */
  private core(): TimelineCore & CatchHost & PauseHost & EndHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    return {
      trace: this.trace,
      pid: this.pid,
      startAfter: this.startAfter,
      breakpoints: this.breakpoints,
      watches: this.watches,
      images: this.images,
      get session() {
        return self.session;
      },
      get midRun() {
        return self.midRun;
      },
      set midRun(v: boolean) {
        self.midRun = v;
      },
      get currentTid() {
        return self.currentTid;
      },
      set currentTid(v: number) {
        self.currentTid = v;
      },
      get syscalls() {
        return self.syscalls;
      },
      get reportForks() {
        return self.reportForks;
      },
      interruptPoll: this.pollInterrupt,
      advanceShown: () => this.advanceShown(),
      position: () => this.position(),
      sessionFrom: (image) => this.sessionFrom(image),
      sessionBefore: (pos, inclusive) => this.sessionBefore(pos, inclusive),
      replaceSession: (s) => this.replaceSession(s),
      advance: (s) => this.advance(s),
      examine: (s, r) => this.examine(s, r),
      interrupted: () => this.interrupted(),
      disarm: (s) => this.disarm(s),
      rearm: (s) => this.rearm(s),
      walkTo: (index) => this.walkTo(index),
      restart: () => this.restart(),
      stopFor: (r: StepResult, only?: number) => this.stopFor(r, only),
      caughtEntry: (s) => this.catches.caughtEntry(s),
      returnHere: (s, r) => this.catches.returnHere(s, r),
      holdAtCaughtEntry: () => this.catches.holdAtCaughtEntry(),
      caughtReturn: (r) => this.catches.caughtReturn(r),
      forkHere: (s) => this.catches.forkHere(s),
      forkStopHere: () => {
        const stop = this.catches.forkStop({ kind: 'event' });
        this.catches.pending = undefined; // the syscall's return, which comes before the fork going backwards
        return stop;
      },
    };
  }

  /** Runs the replay as `r` says and returns where it stopped. */
  resume(r: Resume): StopReason {
    const stop = this.run(r);
    this.lastStop = stop.kind;
    return stop;
  }

  private run(r: Resume): StopReason {
    const thread = r.thread !== undefined && this.session.liveTask(r.thread) ? r.thread : undefined;
    if (r.direction === 'reverse') {
      if (r.unit === 'instruction') return (thread === undefined || thread === this.currentTid ? this.pause.reverseStep() : undefined) ?? this.reverse.reverseStep(thread);
      const back = this.pause.reverseFrom();
      if (back && 'to' in back) {
        this.gotoPosition(back.to);
        return { kind: 'breakpoint', tid: back.to.tid, address: back.address };
      }
      return back ? this.reverse.reverseContinue(back.before) : this.reverse.reverseContinue(undefined, this.pause.standsAt());
    }
    const pass = r.others === 'pass' && thread !== undefined;
    this.reverse.markForward('start'); // for reverse-stepi afterwards (forward-marks.ts)
    if (r.unit === 'instruction') {
      const after = this.pause.beforeStep();
      const stop = this.stepForward(thread, !pass);
      after(stop);
      this.reverse.markForward('step');
      if (stop.kind === 'interrupted' && this.midRun) this.pause.paused(undefined);
      return stop;
    }
    const origin = pass ? undefined : this.pause.originHere(this.lastStop);
    const stop = this.continueForward(pass ? thread : undefined);
    if (stop.kind === 'interrupted' && this.midRun) this.pause.paused(origin);
    return stop;
  }

  /** Goes to a place in the recording (backwards from the latest checkpoint before it); undefined when there is no such checkpoint. */
  goto(place: Place): StopReason | undefined {
    this.reverse.forgetForward();
    const stop = this.gotoPlace(place);
    if (stop) this.lastStop = stop.kind;
    return stop;
  }

  private gotoPlace(place: Place): StopReason | undefined {
    switch (place.kind) {
      case 'start':
        return this.restart();
      case 'event':
        return this.gotoEvent(place.event);
      case 'checkpoint':
        return this.gotoCheckpoint(place.checkpoint);
    }
  }

  /**
   * Whether the program's writes to stdout/stderr are echoed as the
   * debuggee runs forwards (as rr does); each is shown once, the first time
   * replay gets past it, not again when going back and forth.
   */
  private readonly showOutput: boolean;
  private echoing = false;
  /** Events before this one had their output shown. */
  private shownUpTo = 0;
  private readonly sessionOptions = ((dbg: Debugger) => ({
    get echo(): boolean {
      return dbg.echoing;
    },
  }))(this);

  /**
   * advance() of the debugger's own session going forwards for the user:
   * output not shown yet is shown, and the front end's interrupt stops a
   * thread in the middle of its run.
   */
  private advanceShown(): StepResult {
    this.echoing = this.showOutput && this.session.position >= this.shownUpTo;
    const s = this.session;
    s.interruptPoll = this.pollInterrupt;
    try {
      return this.advance(s);
    } finally {
      s.interruptPoll = undefined;
      this.echoing = false;
      this.shownUpTo = Math.max(this.shownUpTo, this.session.position);
    }
  }

  /** stepInstruction() of the debugger's own session, showing output as advanceShown() does. */
  private stepShown(tid: number): StepResult {
    this.echoing = this.showOutput && this.session.position >= this.shownUpTo;
    try {
      return this.session.stepInstruction(tid);
    } finally {
      this.echoing = false;
      this.shownUpTo = Math.max(this.shownUpTo, this.session.position);
    }
  }

  /** Automatic checkpoints, taken by every session the debugger runs forwards. */
  private readonly images = new AutoCheckpoints();

  get eventIndex(): number {
    return this.session.position;
  }

  get eventCount(): number {
    return this.session.eventCount;
  }

  /**
   * Set by a front end: whether the user asked to interrupt (Ctrl-C), which
   * also takes the request. Long runs ask between events, so it must be
   * cheap (the gdb server's reads a flag shared with the thread that owns
   * the socket: see src/gdb/replay-worker.ts).
   */
  interruptRequested: (() => boolean) | undefined;

  /** An interrupt the sessions' interruptPoll took, not reported yet (the thread reached its event first). */
  private interruptTaken = false;

  private interrupted(): boolean {
    if (this.interruptTaken) {
      this.interruptTaken = false;
      return true;
    }
    return this.interruptRequested?.() ?? false;
  }

  /** A session's interruptPoll: whether to stop the thread that runs; the request stays taken until reported. */
  private readonly pollInterrupt = (): boolean => (this.interruptTaken ||= this.interruptRequested?.() ?? false);

  /** How many automatic checkpoints are kept now. */
  get automaticCheckpoints(): number {
    return this.images.count;
  }

  /** The thread the debuggee stopped in (the one whose run a position belongs to); front ends keep their own selection for reading registers. */
  get thread(): number {
    return this.currentTid;
  }

  threads(): number[] {
    return this.session.liveThreads(this.pid);
  }

  /** Thread `tid`'s name (comm) at the current position. */
  threadName(tid: number): string | undefined {
    return this.session.threadName(tid);
  }

  registers(tid: number): Registers | undefined {
    return this.session.liveTask(tid)?.regs();
  }

  fpRegisters(tid: number): Buffer | undefined {
    return this.session.liveTask(tid)?.fpRegs();
  }

  extendedState(tid: number): Buffer | undefined {
    return this.session.liveTask(tid)?.xstate();
  }

  readMemory(address: bigint, length: number): Buffer {
    return this.session.readMemory(this.threads()[0] ?? this.pid, address, length);
  }

  /** /proc/PID/auxv of the live debuggee. */
  liveProcessId(): number | undefined {
    return this.session.liveTask(this.pid)?.tgid;
  }

  /** The live tid of recorded thread `recTid` in the replay, while it lives. */
  liveTid(recTid: number): number | undefined {
    return this.session.liveTask(recTid)?.tid;
  }

  addBreakpoint(address: bigint): void {
    this.breakpoints.add(address);
    this.session.setBreakpoint(this.pid, address);
  }

  removeBreakpoint(address: bigint): void {
    this.breakpoints.delete(address);
    this.session.removeBreakpoint(this.pid, address);
  }

  addWatchpoint(w: Watch): void {
    this.watches.add(w, this.session);
  }

  removeWatchpoint(w: Watch): void {
    this.watches.remove(w, this.session);
  }

  /**
   * A throw-away copy of the replay as it stands, with the breakpoints in
   * it, for code a front end runs and changes it makes (see diversion.ts).
   * The replay itself does not change.
   */
  divert(): Diversion {
    const blocker = this.session.imageBlocker();
    if (blocker) throw new TrrError(`trr cannot change memory or registers or run code here: that happens in a copy of the replay, which cannot be made while ${blocker}. Step or continue a little and try again.`);
    const image = this.session.image();
    try {
      return Diversion.from(image, this.pid, this.breakpoints);
    } finally {
      image.tasks.dispose();
    }
  }

  close(): void {
    this.pause.drop();
    for (const c of this.checkpoints) c.image?.tasks.dispose();
    this.reverse.close();
    this.session.close();
    this.images.dispose();
  }

  /**
   * A new session standing where `image` was taken, or without one, at the
   * debuggee's start (which is then imaged), with the breakpoints and
   * watches armed.
   */
  private sessionFrom(image: SessionImage | undefined): ReplaySession {
    let s: ReplaySession;
    if (image) {
      if (CHECKPOINT_LOG) process.stderr.write(`[checkpoint] replaying from event ${image.pos}\n`);
      s = ReplaySession.restore(this.trace, this.sessionOptions, image);
      this.images.atImage(s);
    } else {
      s = new ReplaySession(this.trace, this.sessionOptions);
      s.start();
      while (s.position <= this.startAfter) s.step(); // from here on the debuggee exists
      this.images.take(s);
    }
    this.rearm(s);
    return s;
  }

  /** A session at the latest checkpoint before event boundary `pos` (or at it, when `inclusive`). */
  private sessionBefore(pos: number, inclusive: boolean): ReplaySession {
    return this.sessionFrom(this.images.latest(pos, inclusive));
  }

  /** Makes the debugger's session `s` (closing the one it had). */
  private replaceSession(s: ReplaySession): ReplaySession {
    this.catches.pending = undefined;
    this.session.close();
    this.session = s;
    return s;
  }

  /** Replays one record of `s` (or up to a stop inside it), taking automatic checkpoints on the way. */
  private advance(s: ReplaySession): StepResult {
    const t0 = performance.now();
    const r = s.step();
    this.images.advanced(s, performance.now() - t0, r.kind === 'event');
    return r;
  }

  /**
   * What a step of session `s` means to the debugger. Watch faults are
   * resolved here: the instruction runs, and it is a hit when a watched value
   * changed (or, for read/access watches, when it touched the range).
   */
  private examine(s: ReplaySession, r: StepResult): StopReason | undefined {
    switch (r.kind) {
      case 'breakpoint':
        return this.breakpoints.has(r.address) ? { kind: 'breakpoint', tid: r.tid, address: r.address } : undefined;
      case 'watch-fault': {
        const touched = this.watches.touchedIn(s, r.address);
        if (!s.completeWatchFault(r.tid)) return undefined;
        const changed = this.watches.changed(s);
        const hit = changed[0] ?? touched.find((w) => w.kind !== 'write');
        return hit ? { kind: 'watchpoint', tid: r.tid, watch: hit } : undefined;
      }
      case 'event': {
        this.watches.arm(s);
        const changed = this.watches.changed(s);
        const tid = s.liveTask(this.currentTid) ? this.currentTid : this.pid;
        return changed.length ? { kind: 'watchpoint', tid, watch: changed[0]! } : undefined;
      }
      default:
        return undefined;
    }
  }

  private position(): Position {
    const regs = this.midRun ? this.session.liveTask(this.currentTid)?.regs().raw : undefined;
    return { pos: this.session.position, tid: this.currentTid, regs, entry: this.session.heldAtEntry !== undefined };
  }

  /**
   * The stop a step of the debugger's session means, if any. With `only`,
   * a breakpoint or watchpoint hit by another thread is passed over (the
   * front end resumed that one thread: the others run as recorded, unseen).
   */
  private stopFor(r: StepResult, only?: number): StopReason | undefined {
    if (r.kind === 'interrupted') {
      this.interruptTaken = false;
      this.midRun = true;
      this.currentTid = r.tid;
      return { kind: 'interrupted', tid: r.tid };
    }
    let stop = this.examine(this.session, r) ?? this.execOfDebuggee(r);
    if (stop && only !== undefined && stop.tid !== only && stop.kind !== 'exec') stop = undefined;
    this.midRun = r.kind !== 'event'; // stopped inside a thread's run, not at an event boundary
    if (stop) this.currentTid = stop.tid;
    return stop;
  }

  /** After the debuggee's exec record: the new program, with the old one's breakpoints and watches dropped. */
  private execOfDebuggee(r: StepResult): StopReason | undefined {
    if (r.kind !== 'event' || this.session.position === 0) return undefined;
    const applied = this.trace.recordAt(this.session.position - 1);
    if (applied.kind !== 'exec' || this.session.liveTask(applied.tid)?.tgid !== this.session.liveTask(this.pid)?.tgid) return undefined;
    for (const b of [...this.breakpoints]) this.removeBreakpoint(b);
    for (const w of [...this.watches.watches]) this.removeWatchpoint(w);
    return { kind: 'exec', tid: applied.tid, exe: this.trace.blobPath(applied.exe) };
  }

  /**
   * Runs forwards until a breakpoint or watchpoint hit, or the end of the
   * debuggee's recording. With `only` (gdb's `vCont;c:THREAD`, as under
   * `set scheduler-locking on`), only that thread's hits stop it: the
   * others run as they did in the recording (replay cannot hold them back
   * without changing the recorded interleaving), and their hits are passed
   * over.
   */
  private continueForward(only?: number): StopReason {
    if (only !== undefined && !this.session.liveTask(only)) only = undefined;
    if (this.catches.pending) return this.catches.takePending()!;
    for (;;) {
      if (this.end.endsDebuggee(this.session.nextRecord())) {
        const stop = this.end.runToEndingInstruction(only);
        if (stop) {
          this.end.reportedSignal = false;
          return stop;
        }
      }
      if (this.catches.caughtEntry(this.session) !== undefined) {
        const stop = this.catches.holdAtCaughtEntry();
        if (stop) return stop;
        continue;
      }
      const end = this.end.atEnd();
      if (end) return end;
      this.end.reportedSignal = false;
      const r = this.advanceShown();
      const stop = this.stopFor(r, only) ?? this.catches.forkStop(r) ?? this.catches.caughtReturn(r);
      if (stop) return stop;
      if (this.interrupted()) return { kind: 'interrupted', tid: this.currentTid };
    }
  }

  /**
   * Executes one instruction of thread `tid` (without it: of the thread
   * that runs next) and reports the stop for that thread. Replay keeps the
   * recorded interleaving, so a thread runs only when its record is the
   * next one: the records of the threads before it are replayed first, as
   * recorded (with `othersStop`, a breakpoint or watchpoint hit by one of
   * them ends the step there, as when gdb lets the other threads run with
   * `vCont;s:T;c`; without it, under scheduler-locking, their hits are passed
   * over). A thread that waits in a blocking syscall finishes it and stops
   * right after it, without running an instruction, as a native single
   * step of a thread blocked in the kernel does.
   */
  private stepForward(tid?: number, othersStop = true): StopReason {
    const want = tid !== undefined && this.session.liveTask(tid) ? tid : undefined;
    if (this.catches.pending) return this.catches.takePending()!;
    if (this.session.heldAtEntry !== undefined && !this.end.endsDebuggee(this.session.nextRecord()) && (want === undefined || this.session.nextRecord()!.tid === want)) {
      // At a syscall's entry stop: the step finishes the syscall.
      const r = this.advanceShown();
      return this.stopFor(r) ?? this.catches.forkStop(r) ?? this.catches.caughtReturn(r) ?? { kind: 'step', tid: this.currentTid };
    }
    for (;;) {
      const end = this.end.atEndingInstruction() ? this.end.atEnd() : undefined; // else the code before the end runs first
      if (end) return end;
      if (want !== undefined && !this.session.liveTask(want)) {
        // The thread ended while the others ran (its exit was its next record).
        if (!this.session.liveTask(this.currentTid)) this.currentTid = this.pid;
        return { kind: 'step', tid: this.currentTid };
      }
      const next = this.session.nextRecord()!;
      const stepped = want ?? next.tid;
      if (next.tid === stepped && this.session.canSingleStep(stepped)) {
        this.currentTid = stepped;
        const r = this.stepShown(stepped);
        const stop = this.stopFor(r) ?? this.examine(this.session, { kind: 'event' }) ?? this.catches.forkStop(r);
        this.midRun = r.kind !== 'event'; // a watch or breakpoint stop is inside the run too
        return stop ?? { kind: 'step', tid: stepped };
      }
      const blocked = want !== undefined && next.tid === want; // its syscall's exit (or another record of its own that runs no instruction)
      const stop = this.stopFor(this.advanceShown(), othersStop ? undefined : want);
      if (stop) return stop;
      if (blocked && this.session.canSingleStep(want)) {
        this.currentTid = want;
        this.midRun = false;
        return { kind: 'step', tid: want };
      }
      if (this.interrupted()) return { kind: 'interrupted', tid: this.currentTid };
    }
  }

  /** Goes back to the start of the recording (just after the initial execve). */
  restart(): StopReason {
    this.reverse.forgetForward();
    this.replaceSession(this.sessionBefore(this.startAfter + 1, true));
    this.midRun = false;
    this.currentTid = this.pid;
    this.end.reportedSignal = false;
    return { kind: 'start', tid: this.pid };
  }

  /** Lifts the debugger's breakpoints and watches from session `s`. */
  private disarm(s: ReplaySession): void {
    for (const b of this.breakpoints) s.removeBreakpoint(this.pid, b);
    this.watches.disarm(s);
  }

  /** Puts the debugger's breakpoints and watches in session `s` (watched values as they are now). */
  private rearm(s: ReplaySession): void {
    for (const b of this.breakpoints) s.setBreakpoint(this.pid, b);
    this.watches.arm(s);
  }

  /**
   * Replays the current session forwards to event `index` (or to the end of
   * the debuggee) with the breakpoints and watches lifted, since they would
   * stop it on the way, and arms them again there.
   */
  private walkTo(index: number): void {
    this.disarm(this.session);
    while (this.session.position < index && !this.session.atEnd && !this.end.atEnd()) this.advance(this.session);
    this.rearm(this.session);
    this.midRun = false;
  }

  /** The user's checkpoints; one inside a run is imaged there, so that going back to it restores the image instead of searching the run. */
  private readonly checkpoints: { readonly at: Position; readonly image: SessionImage | undefined }[] = [];

  /** Saves the current position; returns its number (from 1). */
  checkpoint(): number {
    const at = this.position();
    this.checkpoints.push({ at, image: at.regs && !at.entry && !this.session.imageBlocker() ? this.session.image() : undefined });
    return this.checkpoints.length;
  }

  /** Goes back (or forward) to checkpoint `n` by replaying to it. */
  private gotoCheckpoint(n: number): StopReason | undefined {
    const c = this.checkpoints[n - 1];
    if (!c) return undefined;
    if (c.image) {
      this.replaceSession(this.sessionFrom(c.image));
      this.midRun = true;
      this.currentTid = c.at.tid;
    } else this.gotoPosition(c.at);
    return { kind: 'step', tid: c.at.tid };
  }

  /** Goes to position `target` by replaying to it from the latest image before it. */
  private gotoPosition(target: Position): void {
    this.replaceSession(this.sessionBefore(target.pos, true));
    if (target.entry) {
      this.walkTo(target.pos);
      this.disarm(this.session);
      while (this.session.holdAtEntry().kind !== 'held');
      this.rearm(this.session);
      this.midRun = true;
    } else if (target.regs) {
      this.reverse.toVisit(this.session, target, new Registers(target.regs).ip, Infinity);
      this.rearm(this.session);
      this.midRun = true;
    } else this.walkTo(target.pos);
    this.currentTid = target.tid;
  }

  /** Replays to the given event from wherever we are (backwards means from a checkpoint before it). */
  private gotoEvent(index: number): StopReason {
    if (index < this.session.position) this.replaceSession(this.sessionBefore(Math.max(index, this.startAfter + 1), true));
    this.walkTo(index);
    return { kind: 'step', tid: this.currentTid };
  }
}
