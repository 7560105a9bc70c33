// Process images: frozen copies of the replayed processes, the building
// block of checkpoints (see docs/ARCHITECTURE.md, "Checkpoints").
//
// A replayed process is copied by making it fork: trr injects a clone with
// no exit signal, and the child, which never runs, keeps the process's
// memory as it was then (copy-on-write). That child is the image's template.
// fork copies only the calling thread, so the image also keeps every
// thread's registers, extended (FPU/SSE/AVX) state, replay bookkeeping and
// the two kernel pointers replay relies on (clear_child_tid, which the
// kernel writes at thread exit, and the robust futex list). Restoring forks
// the template again, so one image can be restored any number of times,
// creates the other threads with clone, and gives each thread its state.
//
// Nothing else needs copying: replay emulates files, sockets, signals and
// timers, so the processes hold no other kernel state that replay reads.
// The exception is memory shared between processes (MAP_SHARED anonymous
// mappings), which a fork would share with the image: such processes are
// not imaged. Neither are tasks in the middle of something replay cannot
// re-create (a vfork parent blocked in the kernel, an exiting thread, an
// instruction stopped on a watched page).
import { Registers } from '../arch/registers.js';
import { nr } from '../syscalls/names.js';
import { parseMaps, readMapsText } from '../task/procfs.js';
import { AddressSpace, Task } from '../task/task.js';
import { CLONE } from '../task/kernel-abi.js';
import { TrrError } from '../util/errors.js';
import type { EmulatedFiles } from './emulated-files.js';
import { ReplayTask, TaskControl, killAndReap, type ReplayState, type SplitSyscall } from './task-control.js';

interface ThreadImage {
  readonly recTid: number;
  readonly state: ReplayState;
  readonly regs: Buffer;
  readonly xstate: Buffer;
  readonly split: SplitSyscall | undefined;
  readonly clearChildTid: bigint | undefined;
  readonly robustList: readonly [bigint, bigint] | undefined;
  readonly buffer: bigint | undefined;
  readonly batchCount: number | undefined;
}

interface ProcessImage {
  /** The forked copy that never runs; restoring forks it again. */
  readonly template: ReplayTask;
  readonly threads: readonly ThreadImage[];
}

/** The tasks of a replay at one point, with their live copies. Holds processes: dispose() it. */
export class TasksImage {
  constructor(
    readonly processes: readonly ProcessImage[],
    /** Recorded tids in the replay's order; those in no process were gone. */
    readonly order: readonly number[],
    /** The replay's emulated files as they were (none are mapped while an image is taken). */
    readonly files?: EmulatedFiles,
  ) {}

  dispose(): void {
    killAndReap(this.processes.map((p) => p.template.tid));
    for (const p of this.processes) p.template.task.mem.close();
    this.files?.close();
  }
}

const THREAD_FLAGS = CLONE.VM | CLONE.FS | CLONE.FILES | CLONE.SIGHAND | CLONE.THREAD | 0x40000n; /* CLONE_SYSVSEM */
const IMAGEABLE: readonly ReplayState[] = ['ready', 'at-entry', 'at-breakpoint'];

export class ProcessImaging extends TaskControl {
  /** Why the tasks cannot be imaged now, or undefined when they can. */
  imageBlocker(): string | undefined {
    const live = [...this.tasks.values()].filter((t) => t.state !== 'gone');
    for (const t of live) {
      if (!IMAGEABLE.includes(t.state) || t.pendingStatus !== undefined) return `thread ${t.recTid} is ${t.state}`;
      if (t.task.mem.syscallInstruction === undefined) return `process ${t.task.tgid} has no vDSO`;
      if (live.some((o) => o.task.mem === t.task.mem && o.task.tgid !== t.task.tgid)) return `thread ${t.recTid} shares memory with another process`;
    }
    const emulated = this.emulatedFilesDir();
    for (const pid of new Set(live.map((t) => t.task.tgid))) {
      const maps = parseMaps(readMapsText(pid));
      const mem = live.find((t) => t.task.tgid === pid)!.task.mem;
      if (maps.some((m) => m.perms[1] === 'w' && m.perms[3] === 's' && !this.aliases.isAliasMapping(mem, m.start, m.end))) return `process ${pid} has shared writable memory`;
      // A fork would share the emulated file's pages with the image, which would then change as replay goes on.
      if (emulated && maps.some((m) => m.path.startsWith(emulated))) return `process ${pid} maps a file that changes as the recording goes on`;
    }
    return undefined;
  }

  /** Where the session keeps the files it emulates (see emulated-files.ts), if it has any. */
  protected emulatedFilesDir(): string | undefined {
    return undefined;
  }

  /** Images the live tasks (see imageBlocker). Breakpoints and watchpoints are left out of the copies. */
  protected captureTasks(files?: EmulatedFiles): TasksImage {
    const blocker = this.imageBlocker();
    if (blocker) throw new TrrError(`cannot checkpoint the replay here: ${blocker}`);
    const live = [...this.tasks.values()].filter((t) => t.state !== 'gone');
    for (const mem of new Set(live.map((t) => t.task.mem))) this.dropWatchAliases(live.find((t) => t.task.mem === mem)!); // a fork would share them
    const processes: ProcessImage[] = [];
    try {
      for (const mem of new Set(live.map((t) => t.task.mem))) {
        const threads = live.filter((t) => t.task.mem === mem);
        const template = this.forkPristine(threads[0]!);
        processes.push({
          template,
          threads: threads.map((t) => ({
            recTid: t.recTid,
            state: t.state,
            regs: Buffer.from(t.task.regs().raw),
            xstate: t.task.xstate(),
            split: t.split && { ...t.split, regs: t.split.regs.clone(), args: [...t.split.args] },
            clearChildTid: t.clearChildTid,
            robustList: t.robustList,
            buffer: t.buffer,
            batchCount: t.batchCount,
          })),
        });
      }
    } catch (e) {
      new TasksImage(processes, []).dispose();
      throw e;
    }
    return new TasksImage(processes, [...this.tasks.keys()], files?.snapshot());
  }

  /** Forks t's process with trr's breakpoints and watch protections taken out of the copy. */
  private forkPristine(t: ReplayTask): ReplayTask {
    const mem = t.task.mem;
    const breakpoints = this.breakpoints.inserted(mem);
    const watches = this.watches.get(mem);
    const pages = watches?.watchedPages() ?? [];
    for (const a of breakpoints) this.breakpoints.lift(mem, a);
    for (const p of pages) this.protect(t, p, watches!.programProt.get(p) ?? 3);
    try {
      const pid = this.injectClone(t, 0n); // no CLONE_* flags and no exit signal: a silent fork
      const copy = new ReplayTask(-1, new Task(pid, pid, new AddressSpace(pid)));
      copy.task.mem.inheritFrom(mem);
      return copy;
    } finally {
      for (const a of breakpoints) this.breakpoints.restore(mem, a);
      for (const p of pages) this.protect(t, p, watches!.protectionFor(p));
    }
  }

  /** Makes this (empty) TaskControl's tasks fresh copies of the imaged ones. */
  protected rebuildTasks(image: TasksImage): void {
    if (this.tasks.size !== 0) throw new TrrError('internal error: restoring an image over live tasks');
    const rebuilt = new Map<number, ReplayTask>();
    for (const p of image.processes) {
      this.reapChildren(p.template);
      const pid = this.injectClone(p.template, 0n);
      const mem = new AddressSpace(pid);
      mem.inheritFrom(p.template.task.mem);
      const first = new ReplayTask(p.threads[0]!.recTid, new Task(pid, pid, mem));
      rebuilt.set(first.recTid, first);
      this.tasks.set(first.recTid, first); // so that a failure below kills it
      for (const th of p.threads.slice(1)) {
        const tid = this.injectClone(first, THREAD_FLAGS);
        const t = new ReplayTask(th.recTid, new Task(tid, pid, mem));
        rebuilt.set(t.recTid, t);
        this.tasks.set(t.recTid, t);
      }
      for (const th of p.threads) this.restoreThread(rebuilt.get(th.recTid)!, th);
    }
    // The replay's order (thread lists follow it); threads that were gone stay known as gone.
    this.tasks.clear();
    for (const recTid of image.order) {
      let t = rebuilt.get(recTid);
      if (!t) {
        t = new ReplayTask(recTid, new Task(0, 0, new AddressSpace(0)));
        t.state = 'gone';
      }
      this.tasks.set(recTid, t);
    }
  }

  /**
   * Earlier copies of a template are its children: once killed, they stay
   * zombies until it waits for them, and it never runs by itself.
   */
  private reapChildren(template: ReplayTask): void {
    const WNOHANG_WALL = 1n | 0x40000000n;
    while (this.injectSyscall(template, nr('wait4'), [-1n, 0n, WNOHANG_WALL, 0n]) > 0n);
  }

  private restoreThread(t: ReplayTask, th: ThreadImage): void {
    if (th.clearChildTid !== undefined) this.injectSyscall(t, nr('set_tid_address'), [th.clearChildTid]);
    if (th.robustList) this.injectSyscall(t, nr('set_robust_list'), [...th.robustList]);
    t.clearChildTid = th.clearChildTid;
    t.robustList = th.robustList;
    t.buffer = th.buffer;
    t.batchCount = th.batchCount;
    t.task.setXstate(th.xstate);
    const regs = new Registers(Buffer.from(th.regs));
    // At a syscall's entry stop it must stand there for real (the kernel acts on it when resumed).
    if (th.state === 'at-entry') this.reenterSyscall(t, regs);
    else t.task.setRegs(regs);
    t.split = th.split && { ...th.split, regs: th.split.regs.clone(), args: [...th.split.args] };
    t.state = th.state;
    t.atSyscallEntry = th.state === 'at-entry';
  }
}
