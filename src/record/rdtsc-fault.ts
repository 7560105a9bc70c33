// trr traps rdtsc by running every thread in PR_TSC_SIGSEGV mode (and cpuid
// with CPUID faulting, see cpuid-trap.ts), so such an instruction raises a
// SIGSEGV that trr turns into an emulated instruction. The kernel
// forces that SIGSEGV: when the program blocks or ignores SIGSEGV at that
// moment, the kernel first unblocks it and resets its action to SIG_DFL. The
// program did nothing to deserve that, so trr must put both back. It cannot
// learn them afterwards, so this module follows them as they change: the
// blocked mask after the syscalls that change it and after a handler's
// frame is built, and each process's SIGSEGV action from rt_sigaction.
import { nr } from '../syscalls/names.js';
import { runSyscallIn } from '../task/inject.js';
import type { Task } from '../task/task.js';
import { SIG } from '../task/kernel-abi.js';
import { UnsupportedError } from '../util/errors.js';

const SEGV_BIT = 1n << BigInt(SIG.SEGV - 1);
/** struct kernel_sigaction: handler, flags, restorer, mask. */
const KSIGACTION_SIZE = 32;
const SIG_IGN = 1n;
/** Syscalls after which the thread's blocked mask may differ. */
const MASK_CHANGERS = new Set(['rt_sigprocmask', 'rt_sigreturn', 'rt_sigsuspend', 'ppoll', 'pselect6', 'epoll_pwait', 'epoll_pwait2', 'io_pgetevents'].map(nr));

export class SigsegvState {
  /** Threads that block SIGSEGV now. */
  private readonly blocked = new Set<number>();
  /** Each process's SIGSEGV action, when it is not SIG_DFL. */
  private readonly actions = new Map<number, Buffer>();

  /** The action an rt_sigaction(SIGSEGV, act) is about to set, read at its entry (act may also be where oldact goes). */
  actionAtEntry(task: Task, nrv: number, args: readonly bigint[]): Buffer | undefined {
    if (nrv !== nr('rt_sigaction') || Number(args[0]) !== SIG.SEGV || args[1] === 0n) return undefined;
    const b = task.mem.readPartial(args[1]!, KSIGACTION_SIZE);
    return b.length === KSIGACTION_SIZE ? b : undefined;
  }

  afterSyscall(task: Task, nrv: number, result: bigint, newAction: Buffer | undefined): void {
    if (newAction && result === 0n) {
      if (newAction.readBigUInt64LE(0) === 0n) this.actions.delete(task.tgid);
      else this.actions.set(task.tgid, newAction);
    }
    if (MASK_CHANGERS.has(nrv)) this.readMask(task);
  }

  /** After the kernel built a handler's frame: the handler runs with its sa_mask blocked too. */
  afterHandlerEntry(task: Task): void {
    this.readMask(task);
  }

  onClone(parent: Task, child: Task): void {
    if (this.blocked.has(parent.tid)) this.blocked.add(child.tid);
    const action = this.actions.get(parent.tgid);
    if (child.tgid !== parent.tgid && action) this.actions.set(child.tgid, action);
  }

  /** exec resets handled signals to SIG_DFL; ignored ones stay ignored. */
  onExec(task: Task): void {
    const action = this.actions.get(task.tgid);
    if (action && action.readBigUInt64LE(0) !== SIG_IGN) this.actions.delete(task.tgid);
  }

  onGone(task: Task): void {
    this.blocked.delete(task.tid);
  }

  /**
   * Undoes what the kernel did to the thread's SIGSEGV state when it forced
   * the rdtsc fault. `task` is at the signal-delivery stop with its
   * registers already moved past the instruction.
   */
  restoreAfterFault(task: Task): void {
    const blocked = this.blocked.has(task.tid);
    const action = this.actions.get(task.tgid);
    const ignored = action !== undefined && action.readBigUInt64LE(0) === SIG_IGN;
    if (!blocked && !ignored) return; // the kernel changed nothing
    const mask = task.sigMask() | (blocked ? SEGV_BIT : 0n);
    if (action) this.setAction(task, action);
    task.setSigMask(mask);
  }

  private readMask(task: Task): void {
    if ((task.sigMask() & SEGV_BIT) !== 0n) this.blocked.add(task.tid);
    else this.blocked.delete(task.tid);
  }

  /** Runs rt_sigaction(SIGSEGV, action) in the stopped thread. */
  private setAction(task: Task, action: Buffer): void {
    const cannot = (why: string) =>
      new UnsupportedError(`the program ran rdtsc or cpuid (which trr traps) while it blocked or ignored SIGSEGV; the kernel then reset its SIGSEGV handler, and trr could not put it back (${why}), so recording stops here rather than let the program run on with a handler it did not set.`);
    const scratch = ((task.regs().sp - 128n - BigInt(KSIGACTION_SIZE)) & ~15n) - 64n; // below the red zone
    const old = task.mem.read(scratch, KSIGACTION_SIZE);
    task.mem.write(scratch, action);
    const result = runSyscallIn(task, nr('rt_sigaction'), [BigInt(SIG.SEGV), scratch, 0n, 8n], cannot);
    task.mem.write(scratch, old);
    if (result !== 0n) throw cannot(`rt_sigaction failed with -errno ${-result}`);
  }
}
