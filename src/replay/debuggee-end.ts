// Where the debuggee's life ends (its exit_group, or the fatal signal that
// kills it): forward replay stops before it, with the thread that ends it
// standing at the instruction that does it, so that the debuggee can be
// inspected there and run backwards from. The Debugger (debugger.ts) asks
// this before each step forwards; it works on the Debugger's session
// through EndHost.
import { Registers } from '../arch/registers.js';
import { nr } from '../syscalls/names.js';
import { SIG } from '../task/kernel-abi.js';
import type { TraceRecord } from '../trace/format.js';
import type { StopReason } from './debugger.js';
import type { ReplaySession, StepResult } from './replay-session.js';

/** What the end of the debuggee needs of the Debugger. */
export interface EndHost {
  readonly pid: number;
  /** The debugger's own session (the one the user sees). */
  readonly session: ReplaySession;
  readonly breakpoints: ReadonlySet<bigint>;
  midRun: boolean;
  currentTid: number;
  /** A step of the debugger's session forwards for the user (output shown, interruptible). */
  advanceShown(): StepResult;
  /** The stop a step of the debugger's session means, if any (`only`: other threads' hits passed over). */
  stopFor(r: StepResult, only?: number): StopReason | undefined;
  interrupted(): boolean;
}

export class DebuggeeEnd {
  /** The fatal signal that ends the debuggee was reported: the next stop there is the end itself. */
  reportedSignal = false;

  constructor(private readonly host: EndHost) {}

  /** Is `r` where the debuggee's life ends? Replay stops before it so it can be inspected. */
  endsDebuggee(r: TraceRecord | undefined): 'end' | 'signal' | undefined {
    if (!r) return 'end';
    if (!this.host.session.liveTask(r.tid) || this.host.session.liveTask(r.tid)!.tgid !== this.host.session.liveTask(this.host.pid)?.tgid) return undefined;
    if ((r.kind === 'syscall' || r.kind === 'syscall-entry') && r.nr === nr('exit_group')) return 'end';
    if (r.kind === 'signal' && r.action === 'terminate') return 'signal';
    return undefined;
  }

  atEnd(): StopReason | undefined {
    const next = this.host.session.nextRecord();
    const end = this.endsDebuggee(next);
    if (!end) return undefined;
    const tid = next?.tid ?? this.host.currentTid;
    if (next && this.host.session.liveTask(tid)) this.host.currentTid = tid;
    if (end === 'signal' && next?.kind === 'signal' && !this.reportedSignal) {
      this.reportedSignal = true;
      return { kind: 'signal', tid, signo: next.signo };
    }
    return { kind: 'end', tid: this.host.currentTid };
  }

  /**
   * The instruction whose execution ends the debuggee at its next record
   * `r` (its exit_group's syscall instruction, or the instruction that
   * faults with the fatal signal), with its thread; undefined when none of
   * its instructions runs before the end (a fatal signal delivered at a
   * syscall, the end of the trace).
   */
  private endingInstruction(r: TraceRecord | undefined): { tid: number; address: bigint } | undefined {
    if (!r || !this.endsDebuggee(r) || !this.host.session.canSingleStep(r.tid)) return undefined;
    if (r.kind === 'syscall' || r.kind === 'syscall-entry') return { tid: r.tid, address: new Registers(r.regs).ip - 2n };
    if (r.kind === 'signal' && r.sync && r.signo !== SIG.TRAP) return { tid: r.tid, address: new Registers(r.regs).ip };
    return undefined;
  }

  /** Whether the thread that ends the debuggee stands at the instruction that does it (or nothing runs before the end). */
  atEndingInstruction(): boolean {
    const ending = this.endingInstruction(this.host.session.nextRecord());
    return !ending || this.host.session.liveTask(ending.tid)!.regs().ip === ending.address;
  }

  /**
   * The debuggee's next record ends it: runs its thread up to the
   * instruction that does it (exit handlers, `_exit`, the code before a
   * crash), stopping at the debugger's breakpoints and watchpoints on the
   * way. Returns such a stop, or undefined once the thread stands there.
   */
  runToEndingInstruction(only?: number): StopReason | undefined {
    const ending = this.endingInstruction(this.host.session.nextRecord());
    if (!ending || this.atEndingInstruction()) return undefined;
    const s = this.host.session;
    const own = !this.host.breakpoints.has(ending.address);
    if (own) s.setBreakpoint(this.host.pid, ending.address);
    s.breakpointFilter = (tid, address) => this.host.breakpoints.has(address) || (tid === ending.tid && address === ending.address);
    try {
      for (;;) {
        const r = this.host.advanceShown();
        if (own && r.kind === 'breakpoint' && r.address === ending.address) {
          this.host.midRun = true;
          this.host.currentTid = ending.tid;
          return undefined;
        }
        const stop = this.host.stopFor(r, only);
        if (stop) return stop;
        if (r.kind === 'event') return undefined;
        if (this.host.interrupted()) return { kind: 'interrupted', tid: this.host.currentTid };
      }
    } finally {
      s.breakpointFilter = undefined;
      if (own) s.removeBreakpoint(this.host.pid, ending.address);
    }
  }
}
