// PtraceReports: the base of the ptrace emulation (see ptrace-emulation.ts).
// It holds which recorded tasks emulated-trace which, puts a tracee into an
// emulated stop (a SIGCHLD for the tracer that handles it), and answers the
// tracer's wait4/waitid with those stops and with the exits of tracees that
// are not its children: at the wait's entry, by holding the wait until a
// report comes, or by interrupting a wait the kernel runs (real children).
import { PTRACE, PTRACE_EVENT, WAIT, ptraceRaw, tgkill, waitpid } from '../native/native.js';
import { nr } from '../syscalls/names.js';
import { SIG } from '../task/kernel-abi.js';
import { signalDisposition } from '../task/procfs.js';
import { UnsupportedError } from '../util/errors.js';
import type { PendingSyscall, RecTask } from './rec-task.js';
import { CLD, O, REQUEST_NAMES, WEXITED, WNOHANG, WNOWAIT, i32, log, ppidOf, siginfo, type ExitReport, type PtraceHost, type Stop, type Tracee } from './ptrace-model.js';

export class PtraceReports {
  protected readonly tracees = new Map<number, Tracee>();
  protected readonly exits: ExitReport[] = [];
  /** Tracers stopped by trr at the entry of a wait that only an emulated report can end. */
  protected readonly held = new Set<number>();
  /** Tracers whose wait trr interrupted (PTRACE_INTERRUPT) to give them an emulated report. */
  protected readonly interrupted = new Set<number>();
  /** Emulated tracees in a vfork, and the vfork's child (the event message of PTRACE_EVENT_VFORK_DONE). */
  protected readonly vforkChild = new Map<number, number>();
  /** The tracee whose signal trr is delivering because its tracer passed it on: no second stop for it. */
  protected delivering: number | undefined;

  constructor(protected readonly host: PtraceHost) {}

  protected fail(what: string): never {
    throw new UnsupportedError(`${what} trr emulates the program's own ptrace, but not this yet, so recording stops here rather than record a run that would differ from a native one.`);
  }

  protected requestName(req: number): string {
    return REQUEST_NAMES.get(req) ?? `ptrace request ${req}`;
  }

  protected syscallCode(tr: Tracee): number {
    return SIG.TRAP | (tr.options & O.TRACESYSGOOD ? 0x80 : 0);
  }

  protected enterStop(t: RecTask, tr: Tracee, stop: Stop): void {
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
  protected notify(tracerTgid: number): void {
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

  protected waitArgs(p: PendingSyscall): { pid: number; any: boolean; options: bigint } {
    if (p.nr === nr('wait4')) {
      const pid = i32(p.args[0]!);
      return { pid, any: pid <= 0, options: p.args[2]! };
    }
    const idtype = Number(p.args[0]!);
    return { pid: i32(p.args[1]!), any: idtype !== 1 /* P_PID */, options: p.args[3]! };
  }

  protected findReport(w: RecTask, p: PendingSyscall): { tid: number; code?: number; status?: number } | undefined {
    const { pid, any, options } = this.waitArgs(p);
    for (const [tid, tr] of this.tracees) {
      if (tr.tracerTgid === w.task.tgid && tr.waitable && tr.stop && (any || pid === tid)) return { tid, code: tr.stop.code };
    }
    if (p.nr === nr('waitid') && !(options & WEXITED)) return undefined;
    const e = this.exits.find((x) => x.tracerTgid === w.task.tgid && (any || pid === x.tid));
    return e ? { tid: e.tid, status: e.status } : undefined;
  }

  protected hasEmulated(w: RecTask): boolean {
    return [...this.tracees.values()].some((tr) => tr.tracerTgid === w.task.tgid) || this.exits.some((e) => e.tracerTgid === w.task.tgid);
  }

  /** Whether w's process has real children (other than emulated tracees it is not the parent of) that the wait could report. */
  protected hasRealChildren(w: RecTask, p: PendingSyscall): boolean {
    const { pid, any } = this.waitArgs(p);
    for (const o of this.host.allTasks()) {
      if (o.tid !== o.task.tgid || (!any && o.tid !== pid)) continue; // an exiting child is a child until reaped
      if (ppidOf(o.tid) === w.task.tgid) return true;
    }
    return false;
  }

  protected waitEntry(w: RecTask, p: PendingSyscall): 'run' | 'hold' {
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
  protected answerWait(w: RecTask, p: PendingSyscall, rep: { tid: number; code?: number; status?: number } | undefined, atExit: boolean): void {
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

  /** Waits trr holds that no emulated report can end any more go to the kernel (which reports real children). */
  protected releaseHeld(tracerTgid: number): void {
    for (const tid of [...this.held]) {
      const w = this.host.task(tid);
      if (!w?.pending || w.task.tgid !== tracerTgid) continue;
      const { pid, any } = this.waitArgs(w.pending);
      if ([...this.tracees].some(([c, tr]) => tr.tracerTgid === tracerTgid && (any || c === pid))) continue;
      this.held.delete(tid);
      ptraceRaw(PTRACE.SYSCALL, tid, 0, 0);
    }
  }

  protected groupStop(tr: Tracee, sig: number): Stop {
    const code = sig | (tr.seized ? PTRACE_EVENT.STOP << 8 : 0);
    return { kind: 'group', code, info: siginfo(sig, 0) };
  }

  /** A task whose first stop (after its creation) has not been seen yet: wait for it, so that it stands somewhere. */
  protected settle(c: RecTask): void {
    while (c.state === 'new') {
      const w = waitpid(c.tid, WAIT.__WALL);
      if (!w) return;
      this.host.onStop(c.tid, w.status);
    }
  }

  protected newTracee(tracer: RecTask, seized: boolean, child: boolean, options: number): Tracee {
    return {
      tracer: tracer.tid, tracerTgid: tracer.task.tgid, seized, child, options, mode: 'cont', stop: undefined, waitable: false,
      queued: [], entryReported: false, exitReported: false, interruptPending: false, groupStopped: false, firstStop: false, listening: false, attachStop: false, eventMsg: 0n, intoSyscall: false,
    };
  }
}
