// The stops gdb's catchpoints ask of the timeline: a caught syscall's entry
// and return (which syscalls: SyscallCatch) and the debuggee's forks and
// vforks (fork-events.ts), found as the Debugger's session replays. It works
// on the Debugger's session and position through CatchHost; reverse.ts uses
// the same answers to find these stops going backwards.
import type { TraceReader } from '../trace/trace-stream.js';
import type { StopReason } from './debugger.js';
import { forkEventAt } from './fork-events.js';
import type { ReplaySession, StepResult } from './replay-session.js';
import { SyscallCatch } from './syscall-catch.js';

/** What the catchpoints need of the Debugger. */
export interface CatchHost {
  readonly trace: TraceReader;
  readonly pid: number;
  /** The debugger's own session (the one the user sees). */
  readonly session: ReplaySession;
  midRun: boolean;
  currentTid: number;
  /** The stop a step of the debugger's session means (breakpoint, watchpoint, exec), if any. */
  stopFor(r: StepResult): StopReason | undefined;
}

export class CatchStops {
  /** The syscalls to stop at (gdb's catch syscall). */
  readonly syscalls = new SyscallCatch();
  /** Whether forks and vforks of the debuggee are stops (gdb's fork-events, for `catch fork` and to detach the child). */
  reportForks = false;
  /** A stop at the same position that comes after the one just reported (a caught syscall's return after its fork). */
  pending: StopReason | undefined;

  constructor(private readonly host: CatchHost) {}

  takePending(): StopReason | undefined {
    const p = this.pending;
    this.pending = undefined;
    return p;
  }

  /** After step `r` of the debugger's session: the fork or vfork it replayed (see fork-events.ts), if forks are reported. */
  forkStop(r: StepResult): StopReason | undefined {
    const s = this.host.session;
    if (!this.reportForks || r.kind !== 'event' || s.position === 0) return undefined;
    const rec = this.host.trace.recordAt(s.position - 1);
    if (!this.ofDebuggee(s, rec.tid)) return undefined;
    const fork = forkEventAt(this.host.trace, s.position - 1, s.liveTask(rec.tid)!.mem);
    if (!fork) return undefined;
    this.pending = this.caughtReturn(r); // natively the fork comes first, then the syscall's return
    this.host.currentTid = rec.tid;
    return { kind: fork.kind, tid: rec.tid, child: fork.child };
  }

  /** The caught syscall whose entry is in the next record of `s`, when it is the debuggee's and `s` is not held there yet. */
  caughtEntry(s: ReplaySession): number | undefined {
    if (s.heldAtEntry !== undefined) return undefined;
    const r = s.nextRecord();
    const n = this.syscalls.entryIn(r);
    return n !== undefined && this.ofDebuggee(s, r!.tid) ? n : undefined;
  }

  /** After `r`, a step of the debugger's session: the return of a caught syscall, if that is what it replayed. */
  caughtReturn(r: StepResult): StopReason | undefined {
    const pos = this.returnHere(this.host.session, r);
    if (pos === undefined) return undefined;
    const rec = this.host.trace.recordAt(pos - 1);
    this.host.currentTid = rec.tid;
    return { kind: 'syscall-return', tid: rec.tid, nr: this.syscalls.returnAfter(rec)! };
  }

  /** Whether step `r` of `s` just replayed the return of a caught syscall of the debuggee: the position after it. */
  returnHere(s: ReplaySession, r: StepResult): number | undefined {
    if (r.kind !== 'event' || s.position === 0) return undefined;
    const rec = this.host.trace.recordAt(s.position - 1);
    return this.syscalls.returnAfter(rec) !== undefined && this.ofDebuggee(s, rec.tid) ? s.position : undefined;
  }

  private ofDebuggee(s: ReplaySession, tid: number): boolean {
    const t = s.liveTask(tid);
    return t !== undefined && t.tgid === s.liveTask(this.host.pid)?.tgid;
  }

  /** Runs the next record's thread to its (caught) syscall's entry: that stop, or a breakpoint or watchpoint on the way. */
  holdAtCaughtEntry(): StopReason | undefined {
    const s = this.host.session;
    const r = s.holdAtEntry();
    if (r.kind !== 'held') return this.host.stopFor(r);
    const rec = s.nextRecord()!;
    this.host.midRun = true;
    this.host.currentTid = rec.tid;
    return { kind: 'syscall-entry', tid: rec.tid, nr: this.syscalls.entryIn(rec)! };
  }
}
