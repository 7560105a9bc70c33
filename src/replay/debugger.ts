// Debugger: the replay as a debugger sees it, protocol-agnostic. It owns the
// breakpoints (so they survive going back in time), moves forwards through a
// ReplaySession, and goes backwards by replaying again from the start:
// replay is deterministic, so a position can be found again. A position is
// (next record, thread, registers) when stopped in the middle of a thread's
// run between two events, or (next record) at an event boundary.
//
// Front ends (the gdb server) translate its typed stop reasons; nothing here
// knows about gdb.
import { Registers } from '../arch/registers.js';
import { nr } from '../syscalls/names.js';
import type { TraceRecord } from '../trace/format.js';
import type { TraceReader } from '../trace/trace-stream.js';
import { ReplaySession, type StepResult } from './replay-session.js';

export type StopReason =
  | { readonly kind: 'start'; readonly tid: number }
  | { readonly kind: 'breakpoint'; readonly tid: number; readonly address: bigint }
  | { readonly kind: 'step'; readonly tid: number }
  /** The debuggee is about to die of this signal (recorded). */
  | { readonly kind: 'signal'; readonly tid: number; readonly signo: number }
  /** The end of the recording for the debuggee: it is about to exit. */
  | { readonly kind: 'end'; readonly tid: number }
  /** Reverse execution reached the start of the recording. */
  | { readonly kind: 'beginning'; readonly tid: number };

interface Position {
  readonly pos: number;
  readonly tid: number;
  /** Registers when stopped in the middle of the thread's run; undefined at an event boundary. */
  readonly regs: Buffer | undefined;
}

export class Debugger {
  private session: ReplaySession;
  /** Recorded pid of the process being debugged (the initial one). */
  readonly pid: number;
  private readonly breakpoints = new Set<bigint>();
  private midRun = false;
  private currentTid: number;
  private reportedSignal = false;

  constructor(private readonly trace: TraceReader) {
    const first = trace.records()[0]!.record;
    this.pid = first.tid;
    this.currentTid = first.tid;
    this.session = this.freshSession();
  }

  get eventIndex(): number {
    return this.session.position;
  }

  get eventCount(): number {
    return this.session.eventCount;
  }

  get thread(): number {
    return this.currentTid;
  }

  set thread(tid: number) {
    this.currentTid = tid;
  }

  threads(): number[] {
    return this.session.liveThreads(this.pid);
  }

  registers(tid: number): Registers | undefined {
    return this.session.liveTask(tid)?.regs();
  }

  fpRegisters(tid: number): Buffer | undefined {
    return this.session.liveTask(tid)?.fpRegs();
  }

  readMemory(address: bigint, length: number): Buffer {
    return this.session.readMemory(this.threads()[0] ?? this.pid, address, length);
  }

  /** /proc/PID/auxv of the live debuggee. */
  liveProcessId(): number | undefined {
    return this.session.liveTask(this.pid)?.tgid;
  }

  addBreakpoint(address: bigint): void {
    this.breakpoints.add(address);
    this.session.setBreakpoint(this.pid, address);
  }

  removeBreakpoint(address: bigint): void {
    this.breakpoints.delete(address);
    this.session.removeBreakpoint(this.pid, address);
  }

  close(): void {
    this.session.close();
  }

  private freshSession(): ReplaySession {
    const s = new ReplaySession(this.trace, { echo: false });
    s.start();
    s.step(); // the initial execve: the debuggee exists from here on
    for (const b of this.breakpoints) s.setBreakpoint(this.pid, b);
    return s;
  }

  private position(): Position {
    const regs = this.midRun ? this.session.liveTask(this.currentTid)?.regs().raw : undefined;
    return { pos: this.session.position, tid: this.currentTid, regs };
  }

  /** Is `r` where the debuggee's life ends? Replay stops before it so it can be inspected. */
  private endsDebuggee(r: TraceRecord | undefined): 'end' | 'signal' | undefined {
    if (!r) return 'end';
    if (!this.session.liveTask(r.tid) || this.session.liveTask(r.tid)!.tgid !== this.session.liveTask(this.pid)?.tgid) return undefined;
    if ((r.kind === 'syscall' || r.kind === 'syscall-entry') && r.nr === nr('exit_group')) return 'end';
    if (r.kind === 'signal' && r.action === 'terminate') return 'signal';
    return undefined;
  }

  private stopFor(r: StepResult): StopReason | undefined {
    if (r.kind === 'breakpoint') {
      this.midRun = true;
      this.currentTid = r.tid;
      return { kind: 'breakpoint', tid: r.tid, address: r.address };
    }
    return undefined;
  }

  private atEnd(): StopReason | undefined {
    const next = this.session.nextRecord();
    const end = this.endsDebuggee(next);
    if (!end) return undefined;
    const tid = next?.tid ?? this.currentTid;
    if (next && this.session.liveTask(tid)) this.currentTid = tid;
    if (end === 'signal' && next?.kind === 'signal' && !this.reportedSignal) {
      this.reportedSignal = true;
      return { kind: 'signal', tid, signo: next.signo };
    }
    return { kind: 'end', tid: this.currentTid };
  }

  /** Runs forwards until a breakpoint or the end of the debuggee's recording. */
  continueForward(): StopReason {
    for (;;) {
      const end = this.atEnd();
      if (end) return end;
      this.reportedSignal = false;
      const stop = this.stopFor(this.session.step());
      if (stop) return stop;
      this.midRun = false;
    }
  }

  /** Executes one instruction of the thread that runs next. */
  stepForward(): StopReason {
    for (;;) {
      const end = this.atEnd();
      if (end) return end;
      const next = this.session.nextRecord()!;
      if (this.session.canSingleStep(next.tid)) {
        this.currentTid = next.tid;
        const r = this.session.stepInstruction(next.tid);
        this.midRun = r.kind === 'stepped';
        return this.stopFor(r) ?? { kind: 'step', tid: next.tid };
      }
      const stop = this.stopFor(this.session.step());
      if (stop) return stop;
      this.midRun = false;
    }
  }

  /** Goes back to the start of the recording (just after the initial execve). */
  restart(): StopReason {
    this.session.close();
    this.session = this.freshSession();
    this.midRun = false;
    this.currentTid = this.pid;
    this.reportedSignal = false;
    return { kind: 'start', tid: this.pid };
  }

  /** Replays a fresh session until it stands at `target`; calls onHit for every breakpoint hit before it. */
  private replayUntil(s: ReplaySession, target: Position, onHit: (tid: number, address: bigint) => void): void {
    const extra = target.regs ? new Registers(target.regs).ip : undefined;
    if (extra !== undefined && !this.breakpoints.has(extra)) s.setBreakpoint(this.pid, extra);
    for (;;) {
      if (!target.regs && s.position >= target.pos) break;
      if (s.atEnd) break;
      const r = s.step();
      if (r.kind !== 'breakpoint') continue;
      if (target.regs && s.position === target.pos && r.tid === target.tid && s.liveTask(r.tid)!.regs().raw.equals(target.regs)) break;
      if (this.breakpoints.has(r.address)) onHit(r.tid, r.address);
    }
    if (extra !== undefined && !this.breakpoints.has(extra)) s.removeBreakpoint(this.pid, extra);
  }

  /** Runs backwards to the previous breakpoint hit, or to the start of the recording. */
  reverseContinue(): StopReason {
    const target = this.position();
    const probe = this.freshSession();
    let hits = 0;
    try {
      this.replayUntil(probe, target, () => hits++);
    } finally {
      probe.close();
    }
    if (hits === 0) {
      this.restart();
      return { kind: 'beginning', tid: this.pid };
    }
    this.session.close();
    this.session = this.freshSession();
    let seen = 0;
    for (;;) {
      const r = this.session.step();
      if (r.kind === 'breakpoint' && this.breakpoints.has(r.address) && ++seen === hits) {
        this.midRun = true;
        this.currentTid = r.tid;
        return { kind: 'breakpoint', tid: r.tid, address: r.address };
      }
    }
  }

  /**
   * Runs backwards by one instruction of the current thread: replays to the
   * start of the thread's current run and single-steps it to just before
   * where it stands.
   */
  reverseStep(): StopReason {
    const target = this.position();
    if (!target.regs) return this.reverseContinueToBoundary(target);
    const count = (s: ReplaySession): number => {
      this.replayToRunStart(s, target);
      let n = 0;
      while (!s.liveTask(target.tid)!.regs().raw.equals(target.regs!)) {
        const r = s.stepInstruction(target.tid);
        if (r.kind !== 'stepped') return -1;
        n++;
      }
      return n;
    };
    const probe = this.freshSession();
    let steps: number;
    try {
      steps = count(probe);
    } finally {
      probe.close();
    }
    if (steps <= 0) return this.reverseContinueToBoundary(target);
    this.session.close();
    this.session = this.freshSession();
    this.replayToRunStart(this.session, target);
    for (let i = 0; i < steps - 1; i++) this.session.stepInstruction(target.tid);
    this.midRun = true;
    this.currentTid = target.tid;
    return { kind: 'step', tid: target.tid };
  }

  /** Replays a fresh session up to the record during which `target`'s thread runs to `target`. */
  private replayToRunStart(s: ReplaySession, target: Position): void {
    for (const b of this.breakpoints) s.removeBreakpoint(this.pid, b);
    while (s.position < target.pos) s.step();
  }

  /** From an event boundary, going back lands at the previous boundary. */
  private reverseContinueToBoundary(target: Position): StopReason {
    if (target.pos <= 1) {
      this.restart();
      return { kind: 'beginning', tid: this.pid };
    }
    this.session.close();
    this.session = this.freshSession();
    for (const b of this.breakpoints) this.session.removeBreakpoint(this.pid, b);
    while (this.session.position < target.pos - 1) this.session.step();
    for (const b of this.breakpoints) this.session.setBreakpoint(this.pid, b);
    this.midRun = false;
    return { kind: 'step', tid: this.currentTid };
  }

  /** Replays to the given event from wherever we are (backwards means from the start). */
  gotoEvent(index: number): StopReason {
    if (index < this.session.position) this.restart();
    for (const b of this.breakpoints) this.session.removeBreakpoint(this.pid, b);
    while (this.session.position < index && !this.session.atEnd && !this.atEnd()) this.session.step();
    for (const b of this.breakpoints) this.session.setBreakpoint(this.pid, b);
    this.midRun = false;
    return { kind: 'step', tid: this.currentTid };
  }
}
