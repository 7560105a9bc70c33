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
//
// This module has the hooks the recorder calls at its tracees' stops; the
// tracer's requests are in ptrace-requests.ts, emulated stops and waits in
// ptrace-reports.ts, the shared model in ptrace-model.ts.
import { PTRACE, PTRACE_EVENT, kill, ptraceRaw, trrPtraceOptions } from '../native/native.js';
import { nr } from '../syscalls/names.js';
import { SIG } from '../task/kernel-abi.js';
import type { PendingSyscall, RecTask } from './rec-task.js';
import { PtraceRequests } from './ptrace-requests.js';
import { ERESTARTSYS, O, SIGCONT, SI_KERNEL, TRAP_FLAG, i32, isChildOf, log, siginfo, type Stop } from './ptrace-model.js';

export type { PtraceHost } from './ptrace-model.js';

export class PtraceEmulation extends PtraceRequests {
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
}
