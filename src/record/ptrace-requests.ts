// PtraceRequests: the tracer's ptrace requests in the emulation (see
// ptrace-emulation.ts), performed by trr on the stopped tracee: reads and
// writes of memory and registers (what they change is recorded for replay),
// options, ATTACH/SEIZE/TRACEME, INTERRUPT, LISTEN, and the requests that
// resume it: CONT, SYSCALL, SINGLESTEP, SYSEMU(_SINGLESTEP), DETACH.
import { readFileSync } from 'node:fs';
import { PTRACE, PTRACE_EVENT, WAIT, kill, ptraceBuffer, ptraceRaw, tgkill, waitpid } from '../native/native.js';
import { signalName } from '../syscalls/names.js';
import type { Range } from '../syscalls/semantics.js';
import { SIG } from '../task/kernel-abi.js';
import type { MemoryWrite, TraceeEffect } from '../trace/format.js';
import type { PendingSyscall, RecTask } from './rec-task.js';
import { PtraceReports } from './ptrace-reports.js';
import { ARCH_GET_FS, ARCH_GET_GS, ARCH_PRCTL, ARCH_SET_FS, ARCH_SET_GS, DEBUGREG, E, GET_SYSCALL_INFO, NT_PRFPREG, NT_PRSTATUS, NT_X86_XSTATE, OPTION_NAMES, RESUME_MODES, SI_KERNEL, SUPPORTED_OPTIONS, SYSEMU, SYSEMU_SINGLESTEP, TASK_SIZE_MAX, TRAP_BRKPT, USER_REGS, i32, isChildOf, log, ppidOf, siginfo, type Stop, type Tracee } from './ptrace-model.js';

export class PtraceRequests extends PtraceReports {
  /** Performs P's ptrace request; the result goes into P's registers (the syscall is skipped), its outputs into p.entry. */
  protected request(P: RecTask, p: PendingSyscall): void {
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
  protected syscallInfo(c: RecTask, stop: Stop): Buffer {
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

  protected setOptions(tr: Tracee, data: bigint): bigint {
    const opts = Number(data & 0xffffffffn);
    const bad = OPTION_NAMES.filter(([bit]) => opts & bit).map(([, n]) => n);
    if (bad.length > 0) this.fail(`the program set the ptrace option(s) ${bad.join(', ')}.`);
    if (opts & ~(SUPPORTED_OPTIONS | OPTION_NAMES.reduce((a, [b]) => a | b, 0))) return E.INVAL;
    tr.options = opts;
    return 0n;
  }

  protected traceMe(P: RecTask): bigint {
    if (this.tracees.has(P.tid)) return E.PERM;
    const parent = ppidOf(P.task.tgid);
    const tracer = this.host.task(parent);
    if (!tracer) this.fail(`thread ${P.tid} called ptrace(PTRACE_TRACEME), but its parent (process ${parent}) is not recorded.`);
    this.tracees.set(P.tid, this.newTracee(tracer, false, true, 0));
    return 0n;
  }

  protected attach(P: RecTask, pid: number, seize: boolean, data: bigint): bigint {
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

  protected interrupt(c: RecTask, tr: Tracee): bigint {
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
  protected resumeTracee(c: RecTask, tr: Tracee, sig: number): void {
    const stop = tr.stop!;
    tr.stop = undefined;
    tr.waitable = false;
    tr.intoSyscall = false; // set again by step() if this resume runs it into a syscall
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

  /**
   * t stands after a syscall (run, or skipped for PTRACE_SYSEMU or a tracer
   * that cancelled it): the stop its tracer's last resume asks for there.
   * Returns true when t stays stopped.
   */
  protected afterSyscall(t: RecTask, tr: Tracee): boolean {
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

  /**
   * PTRACE_SYSEMU: c, at its syscall's entry, skips it. rax stays as it was (-ENOSYS, or what the
   * tracer set). The trace says so with a syscall trr answered, which replay
   * applies at the same entry.
   */
  protected skipSyscall(c: RecTask, stop: Stop): void {
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
  protected step(c: RecTask, tr: Tracee): boolean {
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
  protected stepOnce(c: RecTask, tr: Tracee): void {
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
