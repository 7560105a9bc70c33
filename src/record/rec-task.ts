// The recorder's view of one traced thread (RecTask) and of the syscall it
// is in (PendingSyscall), shared by RecordSession and the ptrace emulation.
import type { Registers } from '../arch/registers.js';
import type { SyscallSemantics } from '../syscalls/semantics.js';
import type { Task } from '../task/task.js';
import type { RestartOf } from '../syscalls/semantics.js';
import type { TraceeEffect } from '../trace/format.js';
import type { TransferSource } from './transfers.js';
import type { ThreadBuffer } from './syscall-buffers.js';
import type { ProcMemWrite } from './proc-mem.js';

export const PR_TSC_ENABLE = 1;
export const PR_TSC_SIGSEGV = 2;

/** 'emu-stopped': in a ptrace-stop the program's own tracer sees (see ptrace-emulation.ts); trr keeps it stopped. */
export type RecState = 'new' | 'running' | 'in-syscall' | 'ready' | 'stopped' | 'exiting' | 'emu-stopped';

export interface PendingSyscall {
  readonly nr: number;
  readonly regs: Registers;
  readonly args: bigint[];
  readonly sem: SyscallSemantics;
  entry: unknown;
  flushed: boolean;
  strings?: [number, string][];
  exec?: { path: string; argv: string[] };
  child?: number;
  childIsThread?: boolean;
  /** The child's tid as it sees itself, inside a PID namespace. */
  childOwnTid?: number;
  /** rt_sigaction(SIGSEGV): the action it sets (see SigsegvState). */
  segvAction?: Buffer;
  /** shmdt: the size of the segment it detaches. */
  shmSize?: bigint;
  /** Write-family syscalls: 1/2 when the fd is trr's stdout/stderr, else 0. */
  stdio?: number;
  /** In-kernel transfers to trr's stdout/stderr or to a tracked file: where their bytes come from. */
  transfer?: TransferSource;
  /** trr ran the syscall with other arguments: give the program its own back at the exit. */
  restoreArgs?: boolean;
  /** Write-family and transfer syscalls to a tracked file (see shared-mappings.ts): its key. */
  fileDest?: string;
  /** A write through /proc/PID/mem (see proc-mem.ts): where it lands. */
  procMem?: ProcMemWrite;
  /** ptrace: what trr did to the tracee (memory, registers), for replay to do the same. */
  tracee?: TraceeEffect;
}

export class RecTask {
  state: RecState = 'new';
  pending: PendingSyscall | undefined;
  /** Registers when last resumed into user code: a signal stop with equal registers is at a syscall boundary. */
  boundary: Registers | undefined;
  /** Asynchronous signals held back until the next syscall. */
  readonly deferred: Buffer[] = [];
  /** A held-back signal re-sent at a syscall entry, awaiting delivery. */
  injected: Buffer | undefined;
  runningSince = 0;
  /** When the first of the held-back signals came (ms). */
  deferredSince = 0;
  /** No asynchronous point is tried before this time (ms); see RecordSession.checkStarvation. */
  nextProbe = 0;
  exitRecorded = false;
  /** A vfork parent's syscall exit, held until the child's execve is recorded. */
  heldExit = false;
  /** The program installed a seccomp filter of its own on this thread (trr's does not count). */
  ownSeccomp = false;
  /** The program's own PR_SET_TSC mode (trr's PR_TSC_SIGSEGV, which traps rdtsc, does not count). */
  tscMode: number = PR_TSC_ENABLE;
  /** The program's own CPUID faulting mode, ARCH_SET_CPUID(0) (trr's own, which traps cpuid, does not count). */
  ownCpuidFaulting = false;
  /** A thread of the first process of a PID namespace (pid 1 there): signals it has no handler for do not kill it, and its exit waits for the namespace to empty. */
  nsInit = false;
  /** The CPU affinity the program set for this thread (trr keeps it on one CPU; see RecordSession.virtualiseAffinity). */
  affinity: Buffer | undefined;
  /** Created by clone(CLONE_VM) without CLONE_SETTLS: it shares its parent's thread-local storage, so it gets no buffer of its own. */
  sharedTls = false;
  /** This thread's syscall buffer (src/preload), once the library announced it. */
  buffer: ThreadBuffer | undefined;
  /** The syscall the kernel continues if this thread calls restart_syscall (its restart block). */
  restartOf: RestartOf | undefined;
  constructor(readonly task: Task) {}
  get tid(): number {
    return this.task.tid;
  }
}
