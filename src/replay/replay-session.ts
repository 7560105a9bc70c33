// ReplaySession: re-executes a recorded program tree event by event.
//
// For each trace record it runs the record's thread to the matching point
// (its next syscall, the instruction that faulted, ...), checks that the
// registers there are the recorded ones, and applies the record: emulated
// syscalls are skipped and get the recorded result and memory; syscalls that
// shape the address space or create tasks run for real (mmap at the recorded
// address, from the trace's copy of the file); signals are reproduced by
// writing the recorded frame and registers. Nothing the program does in
// replay reaches files, sockets or other processes; writes to stdout and
// stderr are echoed from the program's memory. The session emits nothing but
// typed results: front ends (autopilot, gdb) decide what to show.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Registers, SYSCALL_ARG_REGS, type RegisterName } from '../arch/registers.js';
import { PTRACE, PTRACE_EVENT, WAIT, kill, pinCpu, ptraceBuffer, ptraceRaw, spawnTracee, waitpid, waitStatus } from '../native/native.js';
import { semanticsOf, type SyscallSemantics } from '../syscalls/semantics.js';
import { nr, signalName, syscallName } from '../syscalls/names.js';
import { SYSCALLS } from '../syscalls/table.generated.js';
import { AddressSpace, Task } from '../task/task.js';
import { parseMaps, readMapsText } from '../task/procfs.js';
import { patchVdso } from '../task/vdso.js';
import { ARCH_SET_CPUID, CLONE, SIG, cloneTidPointers, handlerEntryXstate, isRestartRequest, restartAdjusted, robustListDeaths } from '../task/kernel-abi.js';
import type {
  AsyncPointRecord,
  ExecRecord, MemoryWrite, SignalRecord, SyscallBatchRecord, SyscallEntryRecord, SyscallExitRecord, SyscallExtra, SyscallRecord, TraceRecord, TraceeEffect,
} from '../trace/format.js';
import type { TraceReader } from '../trace/trace-stream.js';
import { DivergenceError, UnsupportedError } from '../util/errors.js';
import { couldUseCpuRandomness } from '../arch/cpuid.js';
import { EmulatedFiles } from './emulated-files.js';
import { HDR, HDR_SIZE, INIT_RECORD, INIT_REPLAY, TRR_CALL_INIT } from '../syscallbuf/layout.js';
import { ProcessImaging, type TasksImage } from './process-images.js';
import { matchesPoint, searchPoint, teleport, type AsyncSearchHost } from './async-points.js';
import { dropsAliases } from './watch-alias.js';
import { sameState } from '../task/fingerprint.js';
import { BreakpointStop, InterruptStop, ReplayTask, TRACE_LOG, WatchFault, type SplitSyscall, type StepResult } from './task-control.js';
import { describe, fmt, u32, writeAll } from './session-util.js';
import { syscallEntered } from './syscall-catch.js';
import { ThreadNameBook } from './thread-names.js';

export type { StepResult } from './task-control.js';
export { describe } from './session-util.js';


export interface ReplayOptions {
  /** Echo what the program wrote to stdout/stderr (autopilot). */
  readonly echo: boolean;
}

const POSITION_REGS: readonly RegisterName[] = ['rip', 'rsp', 'orig_rax', 'rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9', 'fs_base'];
const MAP_FIXED = 0x10n;
const MAP_SHARED = 0x1n;
const MAP_PRIVATE = 0x2n;
const MAP_ANONYMOUS = 0x20n;
const O_RDWR = 2n;

/** A replay frozen at an event boundary (or a stop between two), to go back to. Holds live processes: dispose() it. */
export interface SessionImage {
  readonly pos: number;
  readonly tasks: TasksImage;
  readonly exitStatus: number | undefined;
  readonly checkedFiles: readonly string[];
  readonly held: number | undefined;
  readonly names: ThreadNameBook;
}

export class ReplaySession extends ProcessImaging {
  private pos = 0;

  private readonly checkedFiles = new Set<string>();
  /** stdout/stderr whose reader went away: their echo stops there. */
  private readonly closedEcho = new Set<number>();

  /** The replay's copies of files that change while mapped. */
  private files = new EmulatedFiles();

  /** Wait status of the initial process, once replay reached the end. */
  exitStatus: number | undefined;

  constructor(
    private readonly trace: TraceReader,
    private readonly options: ReplayOptions,
  ) {
    super();
  }

  get position(): number {
    return this.pos;
  }

  get eventCount(): number {
    return this.trace.eventCount;
  }

  get atEnd(): boolean {
    return this.pos >= this.trace.eventCount;
  }

  /** Starts the initial process, stopped before its first recorded event. */
  start(): void {
    const first = this.trace.eventCount > 0 ? this.trace.recordAt(0) : undefined;
    if (!first || first.kind !== 'exec') throw new DivergenceError(`the trace does not start with the program's execve; nothing to replay.`);
    const h = this.trace.header;
    const pid = spawnTracee({
      path: this.trace.blobPath(first.exe),
      argv: h.argv,
      env: h.env,
      cwd: h.cwd,
      stackLimit: h.stackLimit === 'unlimited' ? undefined : BigInt(h.stackLimit),
    });
    if (h.cpu !== undefined) pinCpu(pid, h.cpu); // when it cannot, warnCpuDifferences said so
    const root = new ReplayTask(first.tid, new Task(pid, pid, new AddressSpace(pid)));
    root.state = 'running';
    this.tasks.set(first.tid, root);
  }

  /** Freezes a copy of the replay as it stands (see imageBlocker() for when it cannot). */
  image(): SessionImage {
    return { pos: this.pos, tasks: this.captureTasks(this.files), exitStatus: this.exitStatus, checkedFiles: [...this.checkedFiles], held: this.held, names: this.names.copy() };
  }

  /** A new session that goes on from a copy of `image` (which stays as it is). */
  static restore(trace: TraceReader, options: ReplayOptions, image: SessionImage): ReplaySession {
    const s = new ReplaySession(trace, options);
    s.pos = image.pos;
    s.exitStatus = image.exitStatus;
    s.held = image.held;
    s.names = image.names.copy();
    for (const f of image.checkedFiles) s.checkedFiles.add(f);
    if (image.tasks.files) s.files = image.tasks.files.snapshot();
    try {
      s.rebuildTasks(image.tasks);
    } catch (e) {
      s.close();
      throw e;
    }
    return s;
  }

  override close(): void {
    super.close();
    this.files.close();
  }

  protected override emulatedFilesDir(): string | undefined {
    return this.files.directory;
  }

  /** Replays up to the end of the trace; returns the recorded exit status. */
  runToEnd(): number {
    while (!this.atEnd) this.step();
    return this.exitStatus ?? 0;
  }

  /** Replays one record. */
  step(): StepResult {
    const index = this.pos;
    const record = this.trace.recordAt(index);
    if (TRACE_LOG) process.stderr.write(`[replay] ${index} ${describe(record)}\n`);
    const stop = this.applying(index, record, () => {
      this.apply(record, index);
      const t = this.tasks.get(record.tid);
      if (t) this.checkBatchTaken(t, record);
    });
    if (stop) return stop;
    this.pos++;
    this.held = undefined;
    if (record.kind === 'syscall' || record.kind === 'syscall-exit') this.names.recorded(record.extra?.names);
    const mem = this.tasks.get(record.tid)?.task.mem;
    if (mem && record.kind === 'exec') this.breakpoints.reinsert(mem);
    else if (mem && (record.kind === 'syscall' || record.kind === 'syscall-exit') && record.nr === nr('mmap')) this.breakpoints.insertPending(mem);
    return { kind: 'event' };
  }

  /** Runs `f`, which applies (part of) record `index`; a breakpoint or watch fault inside it is returned. */
  private applying(index: number, record: TraceRecord, f: () => void): StepResult | undefined {
    try {
      f();
    } catch (e) {
      if (e instanceof BreakpointStop) return { kind: 'breakpoint', tid: e.tid, address: e.address };
      if (e instanceof WatchFault) return { kind: 'watch-fault', tid: e.tid, address: e.address };
      if (e instanceof InterruptStop) return { kind: 'interrupted', tid: e.tid };
      if (e instanceof DivergenceError && !e.message.startsWith('replay diverged')) {
        const h = this.trace.header;
        const hint = couldUseCpuRandomness(h.features, h.cpuid)
          ? ' The recording did not trap cpuid (its CPU has no CPUID faulting, or TRR_NO_CPUID_FAULTING=1 was set), so trr could not hide RDRAND and RDSEED from the program, and random numbers it took from them are not in the trace: a likely cause.'
          : '';
        throw new DivergenceError(`replay diverged from the recording at event ${index} (${describe(record)}): ${hint ? `${e.message.replace(/\.$/, '')}.${hint}` : e.message}`);
      }
      throw e;
    }
    return undefined;
  }

  /** Each thread's name (comm) at the current event. */
  private names = new ThreadNameBook();

  threadName(recTid: number): string | undefined {
    return this.names.get(recTid);
  }

  /** The record whose thread holdAtEntry() left at its syscall's entry stop (the record is not applied yet). */
  private held: number | undefined;

  get heldAtEntry(): number | undefined {
    return this.held === this.pos ? this.held : undefined;
  }

  /**
   * The next record is a syscall (or its entry half, or an execve): runs its
   * thread to the syscall's entry stop and holds it there, as a debugger
   * stopping at the syscall's entry sees it. The next step() applies the
   * record from there. A breakpoint or watch fault on the way is returned
   * instead (call again to go on).
   */
  holdAtEntry(): StepResult | { readonly kind: 'held' } {
    const index = this.pos;
    const r = this.trace.recordAt(index);
    const nrv = syscallEntered(r);
    const t = this.tasks.get(r.tid);
    if (nrv === undefined || !t || (r.kind !== 'syscall' && r.kind !== 'syscall-entry' && r.kind !== 'exec')) throw new DivergenceError(`internal error: event ${index} (${describe(r)}) is not the entry of a syscall`);
    if (this.held === index) return { kind: 'held' };
    const stop = this.applying(index, r, () => {
      const found = this.reachEntry(t, nrv, r.kind === 'exec' ? r.entryRegs : r.regs, r.kind !== 'exec');
      t.split = { nr: nrv, args: found.syscallArgs(), regs: found };
      t.state = 'at-entry';
    });
    if (stop) return stop;
    this.held = index;
    return { kind: 'held' };
  }

  /** The next record to replay, if any. */
  nextRecord(): TraceRecord | undefined {
    return this.atEnd ? undefined : this.trace.recordAt(this.pos);
  }

  /**
   * Executes one instruction of the thread that runs next (it must stand in
   * user code). If the instruction reaches the thread's next event (a
   * syscall), that event is replayed as well.
   */
  stepInstruction(recTid: number): StepResult {
    const t = this.tasks.get(recTid)!;
    if (this.deliversWhereItStands(t)) return this.step();
    // At a watch fault the instruction runs with its page unprotected.
    const r = t.state === 'at-watch' ? this.stepOverWatchFault(t) : this.singleStep(t);
    if (r.trapped) return { kind: 'stepped' };
    t.pendingStatus = r.status;
    t.state = 'running';
    return this.step();
  }

  /**
   * Whether t's next record happens where t stands, without an instruction:
   * a signal delivered there (at an asynchronous point or a syscall
   * boundary), or the asynchronous point t already stands at (a debugger
   * stop at its instruction, in its state). A single step then replays that
   * record, as a native stepi with a signal pending enters the handler: it
   * must not run the instruction the recording stopped in front of.
   */
  private deliversWhereItStands(t: ReplayTask): boolean {
    const r = this.nextRecord();
    if (!r || r.tid !== t.recTid || (t.state !== 'ready' && t.state !== 'at-breakpoint')) return false;
    if (r.kind === 'signal') return !r.sync;
    return r.kind === 'async-point' && r.teleport === undefined && sameState(t.task.regs(), new Registers(r.regs));
  }

  // ---- applying records ------------------------------------------------

  private apply(r: TraceRecord, index: number): void {
    if (r.kind === 'end') {
      this.exitStatus = r.status;
      return;
    }
    const t = this.tasks.get(r.tid);
    if (!t) throw new DivergenceError(`event ${index} belongs to thread ${r.tid}, which does not exist in the replay`);
    if (r.kind === 'syscall-exit' && this.killedProcesses.has(t.task.tgid)) return this.exitAfterDeath(t, r);
    switch (r.kind) {
      case 'syscall':
        return this.applySyscall(t, r);
      case 'syscall-entry':
        return this.applyEntry(t, r);
      case 'syscall-exit':
        return this.applyExit(t, r);
      case 'exec':
        return this.applyExec(t, r);
      case 'signal':
        return this.applySignal(t, r);
      case 'rdtsc':
      case 'cpuid': {
        const stop = this.runToStop(t, SIG.SEGV, true);
        if (stop.kind !== 'signal' || stop.sig !== SIG.SEGV) throw this.unexpected(t, stop, `an ${r.kind} instruction`);
        this.checkRegs(t, new Registers(r.regs), `at the ${r.kind} instruction`);
        t.task.setRegs(new Registers(r.after));
        t.state = 'ready';
        return;
      }
      case 'ptrace-stop': {
        if (r.entry) {
          // Its tracer changes it at this syscall entry: hold it there (its syscall's record follows).
          const regs = new Registers(r.regs);
          const found = this.reachEntry(t, regs.syscallNo, r.regs);
          t.split = { nr: found.syscallNo, args: found.syscallArgs(), regs: found };
          t.state = 'at-entry';
          return;
        }
        // A fault of a thread the program ptraces: it stops there for its tracer, undelivered.
        if (r.step) {
          // Its tracer single-stepped it: one instruction, which trapped (or faulted) as it did.
          if (t.state !== 'ready') throw new DivergenceError(`thread ${t.recTid} is not stopped where its tracer single-stepped it`);
          const st = this.singleStep(t);
          if (!st.trapped) {
            t.pendingStatus = st.status;
            t.state = 'running';
          }
        }
        const stop = r.step && t.state === 'ready' ? { kind: 'signal' as const, sig: SIG.TRAP, info: Buffer.alloc(0) } : this.runToStop(t, r.signo, !r.step);
        if (stop.kind !== 'signal' || stop.sig !== r.signo) throw this.unexpected(t, stop, `signal ${signalName(r.signo)} (for its tracer)`);
        this.checkRegs(t, new Registers(r.regs), `when ${signalName(r.signo)} was raised`, true);
        t.state = 'ready';
        return;
      }
      case 'syscall-batch':
        return this.applyBatch(t, r);
      case 'async-point':
        return this.applyAsyncPoint(t, r);
      case 'exit':
        return this.applyExitRecord(t, r.byFilter === true);
    }
  }

  /** Processes (live tgids) a fatal signal killed: replay killed them at once. Not their memory: CLONE_VM processes share it and live on. */
  private readonly killedProcesses = new Set<number>();

  /**
   * The exit of a syscall of a thread whose process a fatal signal was
   * already killing: natively the thread died without running user code
   * again, so the result does not matter; but output it wrote could not be
   * shown, since replay killed the process at the signal.
   */
  private exitAfterDeath(t: ReplayTask, r: SyscallExitRecord): void {
    if (r.extra?.stdio) {
      throw new DivergenceError(`thread ${t.recTid} finished a ${syscallName(r.nr)} to trr's ${r.extra.stdio === 1 ? 'stdout' : 'stderr'} after its process was killed by a signal; replay killed the process at the signal and cannot show that output`);
    }
    t.split = undefined;
  }

  /**
   * Buffered syscalls of t's next stretch of user code: written into its
   * buffer for the library to hand back (t stands at its last event, outside
   * the library's buffer code). The event that ended the stretch checks they
   * were all taken (checkBatchTaken).
   */
  private applyBatch(t: ReplayTask, r: SyscallBatchRecord): void {
    if (t.buffer === undefined) throw new DivergenceError(`thread ${t.recTid} has buffered syscalls in the recording but no syscall buffer in the replay`);
    const h = Buffer.alloc(16);
    h.writeUInt32LE(r.count, 0); // count
    h.writeUInt32LE(r.data.length, 4); // used
    // consumed, consumed bytes: 0
    t.task.mem.write(t.buffer + BigInt(HDR_SIZE), r.data);
    t.task.mem.write(t.buffer + BigInt(HDR.count), h);
    t.batchCount = r.count;
  }

  /** After t's event that ended a buffered stretch: the library must have taken every record of it. */
  private checkBatchTaken(t: ReplayTask, r: TraceRecord): void {
    if (t.batchCount === undefined || r.kind === 'syscall-batch' || r.kind === 'exit' || t.buffer === undefined) return;
    const expected = t.batchCount;
    t.batchCount = undefined;
    if (t.state === 'gone') return;
    const taken = t.task.mem.readU32(t.buffer + BigInt(HDR.consumed));
    if (taken !== expected) {
      throw new DivergenceError(`thread ${t.recTid} made ${taken} buffered syscalls before this event where the recording has ${expected}`);
    }
  }

  /**
   * Checks that t stands where the recording says. The registers that define
   * the point (instruction and stack pointers, the syscall and its
   * arguments, the thread pointer) must match exactly. Other registers may
   * legitimately differ where the CPU gave different values that the program
   * ignores (rdtsc cannot be trapped on every machine, and the dynamic
   * loader reads it); a difference that matters shows up at a later event.
   */
  private checkRegs(t: ReplayTask, expected: Registers, where: string, ignoreOrigRax = false, syscallNo?: number): void {
    const found = t.task.regs();
    let keys = ignoreOrigRax ? POSITION_REGS.filter((r) => r !== 'orig_rax') : POSITION_REGS;
    const argCount = syscallNo === undefined ? undefined : SYSCALLS.get(syscallNo)?.args?.length;
    if (argCount !== undefined) keys = keys.filter((k) => !SYSCALL_ARG_REGS.includes(k) || SYSCALL_ARG_REGS.indexOf(k) < argCount);
    const bad = keys.filter((k) => found.get(k) !== expected.get(k));
    if (bad.length > 0) {
      const details = bad.map((k) => `${k}: expected 0x${expected.get(k).toString(16)}, found 0x${found.get(k).toString(16)}`);
      throw new DivergenceError(`thread ${t.recTid} ${where} is not where the recording says: ${details.join('; ')}`);
    }
  }

  /** Runs t to the entry of the recorded syscall and checks it. */
  private reachEntry(t: ReplayTask, nrv: number, regs: Buffer | undefined, checkAll = true): Registers {
    if (t.state === 'at-entry' && t.split?.nr === nrv) {
      // Already there: the entry was a separate record (execve after vfork, ...).
      t.split = undefined;
      return t.task.regs();
    }
    const stop = this.runToStop(t, 0, true);
    if (stop.kind !== 'seccomp') throw this.unexpected(t, stop, `the entry of ${syscallName(nrv)}`);
    const found = t.task.regs();
    if (found.syscallNo !== nrv) throw this.unexpected(t, stop, `the entry of ${syscallName(nrv)}`);
    if (regs && checkAll) this.checkRegs(t, new Registers(regs), `at the entry of ${syscallName(nrv)}`, false, nrv);
    return found;
  }

  private applySyscall(t: ReplayTask, r: SyscallRecord): void {
    const regs = this.reachEntry(t, r.nr, r.regs);
    const args = regs.syscallArgs();
    if (r.nr === TRR_CALL_INIT && r.result === INIT_RECORD) {
      // The library buffered in the recording: in replay it hands back what trr writes into its buffer.
      t.buffer = args[0]!;
      t.batchCount = undefined;
      this.emulate(t, r.nr, args, INIT_REPLAY, undefined, undefined, undefined);
      return;
    }
    const sem = semanticsOf(r.nr);
    if (r.extra?.emulated || !sem || sem.policy === 'emulate') {
      this.emulate(t, r.nr, args, r.result, r.mem, r.extra, sem);
      return;
    }
    const result = this.execute(t, r.nr, args, r.result, r.extra, r.extra?.child, false);
    this.finishExecuted(t, r.nr, args, sem, result, r.result, r.mem);
  }

  private applyEntry(t: ReplayTask, r: SyscallEntryRecord): void {
    const regs = this.reachEntry(t, r.nr, r.regs);
    const split: SplitSyscall = { nr: r.nr, args: regs.syscallArgs(), regs };
    t.split = split;
    t.state = 'at-entry';
    const sem = semanticsOf(r.nr);
    if (!sem || sem.policy === 'emulate') return;
    if (r.nr === nr('exit') || r.nr === nr('exit_group') || r.nr === nr('execve') || r.nr === nr('execveat')) return;
    // Syscalls replay runs for real run now; vfork leaves the parent blocked in the kernel until the child execs.
    const vfork = r.nr === nr('vfork') || ((r.nr === nr('clone') || r.nr === nr('clone3')) && (cloneTidPointers(r.nr, split.args, t.task.mem).flags & CLONE.VFORK) !== 0n);
    const exit = this.findExit(t);
    const isClone = r.nr === nr('clone') || r.nr === nr('clone3') || r.nr === nr('fork') || r.nr === nr('vfork');
    // A recording cut off (SIGKILL) before this clone returned has no record of its child, and
    // nothing more of this thread: it stays at the entry, where the replay of the trace ends.
    if (isClone && !exit && this.nextRecordOf(t) === undefined && this.trace.incomplete) return;
    split.executedResult = this.execute(t, r.nr, split.args, undefined, exit?.extra, exit?.extra?.child, vfork);
  }

  private applyExit(t: ReplayTask, r: SyscallExitRecord): void {
    const split = t.split;
    if (!split || split.nr !== r.nr) throw new DivergenceError(`thread ${t.recTid} has no pending ${syscallName(r.nr)} to finish`);
    t.split = undefined;
    const sem = semanticsOf(r.nr);
    if (r.extra?.emulated || !sem || sem.policy === 'emulate') {
      this.emulate(t, r.nr, split.args, r.result, r.mem, r.extra, sem);
      return;
    }
    if (r.nr === nr('exit') || r.nr === nr('exit_group')) {
      this.execute(t, r.nr, split.args, r.result, undefined, undefined, false);
      return;
    }
    if ((r.nr === nr('execve') || r.nr === nr('execveat')) && split.executedResult === undefined && t.state === 'at-entry') {
      // An execve that failed, recorded apart from its entry (another thread's event came between): made
      // here, as when entry and exit are one record (applyEntry leaves an execve at its entry).
      const result = this.execute(t, r.nr, split.args, r.result, r.extra, undefined, false);
      this.finishExecuted(t, r.nr, split.args, sem, result, r.result, r.mem);
      return;
    }
    let result = split.executedResult;
    const inKernel = t.state === 'in-kernel';
    if (inKernel) {
      const stop = this.runToStop(t);
      if (stop.kind !== 'syscall-exit') throw this.unexpected(t, stop, `the exit of ${syscallName(r.nr)}`);
      result = t.task.regs().result;
    }
    // A clone replay ran to its end at the entry wrote the child's tid then; the child may have cleared it since
    // (CLONE_CHILD_CLEARTID: it ran and exited before its parent's clone returned, as in the recording).
    if (r.extra?.child !== undefined) result = this.fixCloneParent(t, r.nr, split.args, r.extra.child, r.result, inKernel ? undefined : result);
    this.finishExecuted(t, r.nr, split.args, sem, result!, r.result, r.mem);
  }

  /** The exit record of the syscall t entered (it is t's next record). */
  private findExit(t: ReplayTask): SyscallExitRecord | undefined {
    const r = this.nextRecordOf(t);
    return r?.kind === 'syscall-exit' ? r : undefined;
  }

  /**
   * t's next record after the one being applied. The scan stops there: it
   * is usually a few records ahead, in a frame already decoded. It goes
   * further only while t is blocked and others run, and to the end of the
   * trace only when t has no later record (a cut-off trace), which can
   * happen once per thread, since t then has nothing more to replay.
   */
  private nextRecordOf(t: ReplayTask): TraceRecord | undefined {
    for (const { record } of this.trace.scan(this.pos + 1)) if (record.tid === t.recTid) return record;
    return undefined;
  }

  /** Skips the syscall t is stopped at and makes it return the recorded result and memory. */
  private emulate(t: ReplayTask, nrv: number, args: bigint[], result: bigint, mem: readonly MemoryWrite[] | undefined, extra: SyscallRecord['extra'], sem: SyscallSemantics | undefined): void {
    this.writeMemory(this.memoryOf(t, extra?.memOf), mem); // first: what a syscall sends can depend on what it wrote (sendmmsg's msg_len)
    if (extra?.tracee) this.applyTraceeEffect(extra.tracee);
    let sent = extra?.echo;
    if (extra?.hash && sem?.sent) {
      const h = createHash('sha1');
      const chunks: Buffer[] = [];
      for (const [a, l] of sem.sent(t.task.mem, args, result)) {
        const data = t.task.mem.readPartial(a, l);
        h.update(data);
        chunks.push(data);
      }
      if (!h.digest().equals(extra.hash)) {
        throw new DivergenceError(`thread ${t.recTid} wrote different data with ${syscallName(nrv)} than it did in the recording`);
      }
      sent = Buffer.concat(chunks);
    }
    if (sent && extra?.stdio && this.options.echo && !this.closedEcho.has(extra.stdio) && !writeAll(extra.stdio, sent)) this.closedEcho.add(extra.stdio);
    if (extra?.fileWrite) this.files.write(extra.fileWrite[0], extra.fileWrite[1], sent ?? Buffer.alloc(0));
    if (extra?.fileAllocate) this.files.allocate(...extra.fileAllocate);
    if (extra?.fileSize) this.files.resize(extra.fileSize[0], extra.fileSize[1]);
    let regs = t.task.regs().clone();
    regs.set('rax', result);
    if (isRestartRequest(result) && !this.signalDeliveredNext(t)) {
      // The kernel restarted the interrupted syscall because no signal was
      // delivered here (the recorder held it back): the thread re-executes
      // its syscall instruction, and the next record is that new entry.
      regs.set('orig_rax', BigInt(nrv));
      regs = restartAdjusted(regs);
    }
    regs.set('orig_rax', -1n);
    t.task.setRegs(regs);
    t.state = 'ready';
  }

  /**
   * The program's ptrace changed its (emulated) tracee: do the same to it. The
   * tracee stands where it stood in the recording (stopped after its last
   * event: the recorder refuses changes at points where replay's tracee would not).
   */
  private applyTraceeEffect(effect: TraceeEffect): void {
    const c = this.tasks.get(effect.tid);
    if (!c || c.state === 'gone') throw new DivergenceError(`thread ${effect.tid}, which the program's ptrace changes, does not exist in the replay`);
    this.writeMemory(c.task.mem, effect.mem);
    if (effect.regs) {
      const regs = new Registers(Buffer.from(effect.regs));
      if (c.state === 'at-entry' && c.split) {
        // At a syscall entry (a ptrace-stop with entry): the syscall is now the one the tracer set.
        c.task.setRegs(regs);
        if (regs.get('orig_rax') === BigInt.asUintN(64, -1n)) {
          c.split = undefined; // cancelled: the kernel skips it
          c.state = 'ready';
        } else c.split = { nr: regs.syscallNo, args: regs.syscallArgs(), regs };
      } else {
        regs.set('orig_rax', -1n); // as for signals: never let the kernel act on a syscall number we set
        c.task.setRegs(regs);
      }
    }
    if (effect.fpregs) ptraceBuffer(PTRACE.SETFPREGS, c.tid, 0, Buffer.from(effect.fpregs));
    for (const [offset, value] of effect.user ?? []) ptraceRaw(PTRACE.POKEUSER, c.tid, offset, value);
    if (effect.xstate) c.task.setXstate(Buffer.from(effect.xstate));
  }

  /** The memory a record of t writes: t's own, or that of recorded process `memOf` (a write through /proc/PID/mem). */
  private memoryOf(t: ReplayTask, memOf: number | undefined): AddressSpace {
    if (memOf === undefined) return t.task.mem;
    const target = [...this.tasks.values()].find((o) => o.state !== 'gone' && o.task.tgid === this.tasks.get(memOf)?.task.tgid);
    if (!target) throw new DivergenceError(`thread ${t.recTid} wrote into the memory of process ${memOf} through /proc/${memOf}/mem, which does not exist in the replay`);
    return target.task.mem;
  }

  /** Whether t's next record is a signal delivered where it stands. */
  private signalDeliveredNext(t: ReplayTask): boolean {
    const r = this.nextRecordOf(t);
    return r?.kind === 'signal' && !r.sync;
  }

  private writeMemory(mem: AddressSpace, writes: readonly MemoryWrite[] | undefined): void {
    if (!writes) return;
    for (const [addr, data] of writes) mem.write(addr, data);
  }

  /**
   * Runs the syscall t is stopped at for real, adjusted so that it has the
   * recorded effect (fixed addresses, the trace's file copies). Returns the
   * result, or undefined when it left t blocked in the kernel (vfork).
   */
  private execute(t: ReplayTask, nrv: number, args: bigint[], recorded: bigint | undefined, mapping: SyscallExtra | undefined, child: number | undefined, leaveBlocked: boolean): bigint {
    const isClone = nrv === nr('clone') || nrv === nr('clone3') || nrv === nr('fork') || nrv === nr('vfork');
    if (dropsAliases(nrv)) this.dropWatchAliases(t); // a shared page must not reach a child or a changed memory map
    // A clone that failed in the recording (bad flags, no memory...) creates nothing in replay either.
    if (isClone && recorded !== undefined && recorded < 0n) return this.skipWith(t, recorded);
    const regs = t.task.regs().clone();
    let substituted = false;
    if (nrv === nr('mmap')) {
      substituted = true;
      if (recorded !== undefined && recorded < 0n) return this.skipWith(t, recorded);
      let flags = args[3]!;
      if (recorded !== undefined) {
        regs.set('rdi', recorded);
        flags |= MAP_FIXED;
      }
      const file = mapping?.file;
      if (file && mapping.tracked) {
        // A file that changes while mapped: the replay's own copy, shared as the original was.
        regs.set('r8', this.mappedFileFd(t, this.files.pathFor(mapping.tracked, this.trace.blobPath(file)), O_RDWR));
      } else if (file) {
        regs.set('r8', this.mappedFileFd(t, this.trace.blobPath(file)));
        if (flags & MAP_SHARED) flags = (flags & ~0x3n) | MAP_PRIVATE;
      } else if (!(flags & MAP_ANONYMOUS)) {
        flags = (flags & ~0x3n) | MAP_PRIVATE | MAP_ANONYMOUS; // e.g. /dev/zero
        regs.set('r8', -1n);
      }
      regs.set('r10', flags);
      t.task.setRegs(regs);
    } else if (nrv === nr('shmat') || nrv === nr('shmdt')) {
      // System V shared memory: replay maps (unmaps) its own copy of the segment where the recording had it.
      const size = mapping?.shmSize;
      if (recorded === undefined || recorded < 0n || !size) return this.skipWith(t, recorded ?? -22n);
      substituted = true;
      if (nrv === nr('shmat')) {
        const SHM_RDONLY = 0o10000n;
        const SHM_EXEC = 0o100000n;
        const readOnly = (args[2]! & SHM_RDONLY) !== 0n;
        if (!mapping.tracked || !mapping.file) throw new DivergenceError(`the recording of shmat has no copy of the segment`);
        const fd = this.mappedFileFd(t, this.files.pathFor(mapping.tracked, this.trace.blobPath(mapping.file)), readOnly ? 0n : O_RDWR);
        const prot = (readOnly ? 1n : 3n) | (args[2]! & SHM_EXEC ? 4n : 0n);
        [recorded, size, prot, MAP_SHARED | MAP_FIXED, fd, 0n].forEach((v, i) => regs.set(SYSCALL_ARG_REGS[i]!, v));
        regs.set('orig_rax', BigInt(nr('mmap')));
      } else {
        regs.set('rsi', size);
        regs.set('orig_rax', BigInt(nr('munmap')));
      }
      t.task.setRegs(regs);
    } else if (nrv === nr('mremap') && recorded !== undefined && recorded >= 0n && (args[3]! & 1n) /* MAYMOVE */) {
      // It must end where it did: moved to the recorded address, or resized in place.
      substituted = true;
      if (recorded === args[0]) regs.set('r10', args[3]! & ~1n);
      else {
        regs.set('r10', args[3]! | 2n /* FIXED */);
        regs.set('r8', recorded);
      }
      t.task.setRegs(regs);
    }
    if (nrv === nr('clone') && (args[0]! & CLONE.UNTRACED) !== 0n) {
      substituted = true; // as in the recording: the child stays traced
      regs.set('rdi', args[0]! & ~CLONE.UNTRACED);
      t.task.setRegs(regs);
    }
    if (nrv === nr('exit') || nrv === nr('exit_group')) {
      // A thread whose exit_group's exit comes after another thread's death may be gone
      // already: replay killed that other thread (and so the process) at its exit record.
      ptraceRaw(PTRACE.CONT, t.tid, 0, 0);
      t.invalidateRegs();
      t.state = 'exiting';
      return 0n;
    }
    this.resume(t, 'syscall');
    if (isClone) {
      const stop = this.runToStop(t);
      if (stop.kind !== 'event' || ![PTRACE_EVENT.CLONE, PTRACE_EVENT.FORK, PTRACE_EVENT.VFORK].includes(stop.event as 1 | 2 | 3)) {
        throw this.unexpected(t, stop, `the creation of a new task by ${syscallName(nrv)}`);
      }
      if (child === undefined) throw new DivergenceError(`the recording has no child for ${syscallName(nrv)}`);
      this.adoptChild(t, nrv, args, child, Number(t.task.eventMessage()), mapping?.childOwnTid ?? child);
      this.resume(t, 'syscall');
      if (leaveBlocked) {
        t.state = 'in-kernel';
        return 0n;
      }
    }
    const stop = this.runToStop(t);
    if (stop.kind !== 'syscall-exit') throw this.unexpected(t, stop, `the exit of ${syscallName(nrv)}`);
    t.state = 'ready';
    let result = t.task.regs().result;
    if (isClone && child !== undefined) result = this.fixCloneParent(t, nrv, args, child, recorded);
    if (substituted) {
      // The program must see its own arguments in the registers, not the ones replay substituted.
      const after = t.task.regs().clone();
      SYSCALL_ARG_REGS.forEach((reg, i) => after.set(reg, args[i]!));
      t.task.setRegs(after);
    }
    return result;
  }

  private skipWith(t: ReplayTask, result: bigint): bigint {
    let regs = t.task.regs().clone();
    regs.set('rax', result);
    // A clone that found a signal pending (-ERESTARTNOINTR) and that the kernel restarted, no signal
    // delivered here: the thread re-executes it, and the next record is its new entry.
    const restart = isRestartRequest(result) && !this.signalDeliveredNext(t);
    if (restart) regs = restartAdjusted(regs);
    regs.set('orig_rax', -1n);
    t.task.setRegs(regs);
    t.state = 'ready';
    // Back in user code, in front of the syscall instruction (not at an entry stop, where a checkpoint would inject its fork).
    if (restart) this.leaveSyscallEntry(t);
    return result;
  }

  /** Checks or overrides the result of a syscall replay ran for real. */
  private finishExecuted(t: ReplayTask, nrv: number, args: readonly bigint[], sem: SyscallSemantics, result: bigint, recorded: bigint, mem: readonly MemoryWrite[] | undefined): void {
    this.afterMemorySyscall(t, nrv, args, result);
    if (nrv === nr('set_tid_address')) t.clearChildTid = args[0]!;
    if (nrv === nr('set_robust_list') && result === 0n) t.robustList = [args[0]!, args[1]!];
    if ((nrv === nr('clone') || nrv === nr('clone3')) && mem) this.replacePidfds(t, mem);
    if (sem.policy === 'override' || nrv === nr('rt_sigreturn')) {
      if (sem.policy === 'override') {
        const regs = t.task.regs().clone();
        regs.set('rax', recorded);
        t.task.setRegs(regs);
        this.writeMemory(t.task.mem, mem);
      }
      return;
    }
    if (result !== recorded) {
      throw new DivergenceError(`${syscallName(nrv)} returned ${fmt(result)} in replay but ${fmt(recorded)} in the recording (thread ${t.recTid})`);
    }
  }

  private adoptChild(parent: ReplayTask, nrv: number, args: bigint[], recChild: number, liveChild: number, ownTid: number): void {
    const { flags } = cloneTidPointers(nrv, args, parent.task.mem);
    const shareVm = (flags & CLONE.VM) !== 0n;
    const tgid = (flags & CLONE.THREAD) !== 0n ? parent.task.tgid : liveChild;
    const mem = shareVm ? parent.task.mem : new AddressSpace(liveChild);
    if (!shareVm) mem.inheritFrom(parent.task.mem); // a copy of the parent's memory, vDSO and all
    const task = new Task(liveChild, tgid, mem);
    const child = new ReplayTask(recChild, task);
    if ((flags & CLONE.SETTLS) === 0n) child.buffer = parent.buffer; // it keeps the parent's thread pointer, so the library uses the same buffer address
    child.state = 'running';
    this.tasks.set(recChild, child);
    this.names.cloned(parent.recTid, recChild);
    const stop = this.runToStop(child);
    if (stop.kind !== 'event' || stop.event !== PTRACE_EVENT.STOP) throw this.unexpected(child, stop, 'its first stop');
    child.state = 'ready';
    const { childTid } = cloneTidPointers(nrv, args, parent.task.mem);
    if (flags & CLONE.CHILD_SETTID && childTid) task.mem.write(childTid, u32(ownTid));
    if (flags & CLONE.CHILD_CLEARTID) child.clearChildTid = childTid;
  }

  /** The descriptor the replayed process maps `path` through, opened once (see AddressSpace.mappedFileFds). */
  private mappedFileFd(t: ReplayTask, path: string, accessMode = 0n): bigint {
    const key = `${accessMode}:${path}`;
    let fd = t.task.mem.mappedFileFds.get(key);
    if (fd === undefined) {
      fd = this.openInTracee(t, path, accessMode);
      t.task.mem.mappedFileFds.set(key, fd);
    }
    return fd;
  }

  /**
   * After clone returned in the parent: the program sees the recorded child
   * tid, not the live one (the recorded result, which differs from the
   * child's recorded tid when the child is in another PID namespace).
   */
  /** onlyIf: the parent's tid word is rewritten only if it still holds this (what an earlier fix wrote). */
  private fixCloneParent(t: ReplayTask, nrv: number, args: bigint[], recChild: number, recorded: bigint | undefined, onlyIf?: bigint): bigint {
    const seen = recorded !== undefined && recorded > 0n ? recorded : BigInt(recChild);
    const { flags, parentTid } = cloneTidPointers(nrv, args, t.task.mem);
    const still = onlyIf === undefined || (parentTid !== 0n && t.task.mem.readU32(parentTid) === Number(BigInt.asUintN(32, onlyIf)));
    if (flags & CLONE.PARENT_SETTID && parentTid && still) t.task.mem.write(parentTid, u32(Number(seen)));
    const regs = t.task.regs().clone();
    regs.set('rax', seen);
    t.task.setRegs(regs);
    return seen;
  }

  /**
   * clone with CLONE_PIDFD gave the replayed parent a pidfd of its own: close
   * it, and give the program the recorded one (every later use of it is emulated).
   */
  private replacePidfds(t: ReplayTask, mem: readonly MemoryWrite[]): void {
    for (const [addr, data] of mem) {
      const live = t.task.mem.readU32(addr) | 0;
      if (live >= 0) this.injectSyscall(t, nr('close'), [BigInt(live)]);
      t.task.mem.write(addr, data);
    }
  }

  private applyExec(t: ReplayTask, r: ExecRecord): void {
    const nrv = new Registers(r.entryRegs).syscallNo;
    const regs = this.reachEntry(t, nrv, r.entryRegs, false).clone();
    const exe = this.trace.blobPath(r.exe);
    const scratch = (regs.sp - 256n - 4096n) & ~15n;
    t.task.mem.write(scratch, Buffer.from(exe + '\0'));
    if (nrv === nr('execveat')) {
      regs.set('rdi', -100n);
      regs.set('rsi', scratch);
      regs.set('r8', regs.get('r8') & ~0x1000n);
    } else regs.set('rdi', scratch);
    t.task.setRegs(regs);
    this.resume(t, 'syscall');
    this.reapExecVictims(t);
    if (r.leaderTid !== undefined) t = this.takeLeaderTid(t, r.leaderTid);
    this.names.exec(t.recTid, r.path);
    const s1 = this.runToStop(t);
    if (s1.kind !== 'event' || s1.event !== PTRACE_EVENT.EXEC) throw this.unexpected(t, s1, `the execve of ${r.path}`);
    this.newAddressSpace(t);
    t.clearChildTid = undefined; // exec drops both
    t.robustList = undefined;
    t.buffer = undefined;
    t.batchCount = undefined;
    this.resume(t, 'syscall');
    const s2 = this.runToStop(t);
    if (s2.kind !== 'syscall-exit') throw this.unexpected(t, s2, `the end of the execve of ${r.path}`);
    this.checkLoadedFiles(r);
    const maps = parseMaps(readMapsText(t.tid));
    const shape = (text: ReturnType<typeof parseMaps>) =>
      text.filter((m) => m.path !== '[stack]').map((m) => `${m.start.toString(16)}-${m.end.toString(16)} ${m.perms} ${m.offset.toString(16)}`).join('\n');
    const want = shape(parseMaps(r.maps));
    const got = shape(maps);
    if (want !== got) {
      throw new DivergenceError(`after execve of ${r.path}, the memory layout differs from the recording:\nrecorded:\n${want}\nreplay:\n${got}`);
    }
    const vdso = maps.find((m) => m.path === '[vdso]');
    if (vdso) t.task.mem.syscallInstruction = patchVdso(t.task.mem, vdso.start, vdso.end).syscallInstruction;
    t.task.mem.write(r.stack[0], r.stack[1]);
    t.task.setRegs(new Registers(r.regs));
    t.state = 'ready';
    t.atSyscallEntry = false; // it stands at the new program's first instruction
    if (r.cpuidFaulting) this.enableCpuidFaulting(t, r.path);
  }

  /** Makes t's cpuid instructions fault, as they did when recording (the recorded answers are `cpuid` records). */
  private enableCpuidFaulting(t: ReplayTask, path: string): void {
    const r = this.injectSyscall(t, nr('arch_prctl'), [ARCH_SET_CPUID, 0n]);
    if (r !== 0n) {
      throw new UnsupportedError(
        `${path} was recorded with CPUID faulting (trr trapped its cpuid instructions and recorded their answers), but this machine cannot make cpuid fault (arch_prctl(ARCH_SET_CPUID) failed with errno ${-r}; AMD CPUs and some hypervisors lack it), so the program would see this CPU's answers instead of the recorded ones. Replay it on a machine with CPUID faulting (most Intel CPUs), or record it here.`,
      );
    }
  }

  /**
   * The kernel loads the program's dynamic loader itself, from the system's
   * file, not from the trace: it must be the recorded one.
   */
  private checkLoadedFiles(r: ExecRecord): void {
    for (const [path, blob] of r.files) {
      if (blob === r.exe || this.checkedFiles.has(path)) continue;
      const copy = this.trace.blobPath(blob); // checked, when the trace holds it by reference or link
      let same = copy === path; // held by reference: blobPath checked it
      if (!same) {
        try {
          same = readFileSync(path).equals(readFileSync(copy));
        } catch {
          same = false;
        }
      }
      if (!same) {
        throw new DivergenceError(
          `${path}, which the kernel loads for ${r.path}, is not the file that was loaded during recording (it changed or is gone since). trr replays the program's own binary and libraries from the trace, but cannot yet replace the system's dynamic loader.`,
        );
      }
      this.checkedFiles.add(path);
    }
  }

  /** After execve the task has a fresh address space (a vfork parent keeps the old one). */
  private newAddressSpace(t: ReplayTask): void {
    this.aliases.forget(t.task.mem);
    const shared = [...this.tasks.values()].some((o) => o !== t && o.task.mem === t.task.mem && o.state !== 'gone');
    if (shared) t.task.mem = new AddressSpace(t.tid);
    else t.task.mem.reset(t.tid);
    t.task.tgid = t.tid;
  }

  private applySignal(t: ReplayTask, r: SignalRecord): void {
    const recorded = new Registers(r.regs);
    if (r.sync) {
      const stop = this.runToStop(t, r.signo, true);
      if (stop.kind !== 'signal' || stop.sig !== r.signo) throw this.unexpected(t, stop, `signal ${signalName(r.signo)}`);
      this.checkRegs(t, recorded, `when ${signalName(r.signo)} was raised`, true);
    } else {
      if (t.state !== 'ready' && t.state !== 'at-breakpoint') throw new DivergenceError(`thread ${t.recTid} is not stopped where ${signalName(r.signo)} was delivered`);
      this.checkRegs(t, recorded, `when ${signalName(r.signo)} was delivered`, true);
    }
    if (r.noFrame) {
      // The kernel could not build the frame and changed nothing; the SIGSEGV it raised instead is the next record.
      t.state = 'ready';
      return;
    }
    if (r.action === 'terminate') {
      this.killedProcesses.add(t.task.tgid);
      kill(t.task.tgid, SIG.KILL);
      t.state = 'exiting';
      return;
    }
    this.writeMemory(t.task.mem, r.mem);
    let after = new Registers(r.after!);
    // The end of a group-stop with no signal to deliver: the kernel restarts the syscall.
    if (r.action === 'stop' && !this.signalDeliveredNext(t)) after = restartAdjusted(after);
    after.set('orig_rax', -1n); // never let the kernel act on a syscall number we set
    t.task.setRegs(after);
    if (r.action === 'handler') t.task.setXstate(handlerEntryXstate(t.task.xstate())); // as the kernel does; the frame holds the state to return to
    t.state = 'ready';
    t.atSyscallEntry = false; // it stands at the handler (or restarts its syscall)
  }

  /**
   * A teleport point puts the thread in its recorded state without running
   * the interval before it, in every replay alike, so positions stay
   * consistent; but a debugger cannot stop inside that interval: say so once
   * when it has breakpoints or watchpoints armed there.
   */
  private noteTeleport(t: ReplayTask): void {
    if (this.warnedTeleport || (this.breakpoints.inserted(t.task.mem).length === 0 && (this.watches.get(t.task.mem)?.watches.length ?? 0) === 0)) return;
    this.warnedTeleport = true;
    process.stderr.write(`trr: thread ${t.recTid} computed without system calls before event ${this.pos}, where the recording preempted it at a point replay restores rather than re-executes; breakpoints and watchpoints do not stop in such stretches.\n`);
  }

  private warnedTeleport = false;

  /** Runs t to the asynchronous point the record describes (see async-points.ts). */
  private applyAsyncPoint(t: ReplayTask, r: AsyncPointRecord): void {
    const pc = new Registers(r.regs).ip;
    const mem = t.task.mem;
    const host: AsyncSearchHost = {
      runToTarget: (task) => {
        const stop = this.runToStop(task, 0, true);
        if (stop.kind !== 'async-hit') return this.unexpected(task, stop, `ip 0x${pc.toString(16)}`);
        // A debugger breakpoint at the same instruction: the debugger sees the hit (the search resumes when it continues).
        if (!mine && (!this.breakpointFilter || this.breakpointFilter(task.recTid, pc, task.task.regs()))) throw new BreakpointStop(task.recTid, pc);
        return 'hit';
      },
      threadsOf: (task) => [...this.tasks.values()].filter((o) => o.task.mem === task.task.mem),
      watchSetOf: (task) => this.watches.get(task.task.mem),
    };
    // Resumed after a debugger stop at this very hit.
    if ((t.state === 'at-breakpoint' || t.state === 'ready') && t.task.regs().ip === pc && matchesPoint(host, t, r) === true) return;
    if (t.state !== 'ready' && t.state !== 'at-breakpoint' && t.state !== 'at-watch') throw new DivergenceError(`thread ${t.recTid} is not in user code, where the recording stopped it asynchronously`);
    this.dropWatchAliases(t); // the memory fingerprint covers private pages only: the watched page must be one again
    if (r.teleport && t.state === 'ready') {
      this.noteTeleport(t);
      // It must stand in user code, not at the entry stop of the syscall before (a checkpoint would inject its fork there).
      this.leaveSyscallEntry(t);
      return teleport(host, t, r, r.teleport);
    }
    const mine = !this.breakpoints.has(mem, pc);
    if (mine) this.breakpoints.add(mem, pc);
    this.asyncTarget = { mem, address: pc };
    try {
      searchPoint(host, t, r);
    } finally {
      this.asyncTarget = undefined;
      if (mine) this.breakpoints.remove(mem, pc);
    }
    if (mine) t.state = 'ready';
    t.atSyscallEntry = false;
  }

  /** Threads whose exit records say they died in another thread's execve, which has not run yet. */
  private readonly execVictims = new Set<ReplayTask>();

  override imageBlocker(): string | undefined {
    const victim = [...this.execVictims][0];
    if (victim) return `thread ${victim.recTid} is about to die in another thread's execve`;
    return super.imageBlocker();
  }

  /** The thread of t's process that stands at the entry of an execve, if any. */
  private execerOf(t: ReplayTask): ReplayTask | undefined {
    const isExec = (n: number | undefined) => n === nr('execve') || n === nr('execveat');
    return [...this.tasks.values()].find((o) => o !== t && o.task.tgid === t.task.tgid && o.state === 'at-entry' && isExec(o.split?.nr));
  }

  /**
   * While t's execve runs, the kernel kills the other threads of its process
   * (each stops at its exit event first): let them die. Their exits are
   * already in the trace, before the exec.
   */
  private reapExecVictims(t: ReplayTask): void {
    for (const v of [...this.execVictims]) {
      if (v.task.tgid !== t.task.tgid || (v.tid === v.task.tgid && t.tid !== t.task.tgid)) continue; // a leader whose tid t takes: see takeLeaderTid
      this.execVictims.delete(v);
      for (;;) {
        let w;
        try {
          w = waitpid(v.tid, WAIT.__WALL);
        } catch {
          break; // already reaped
        }
        if (!w) continue;
        if (!waitStatus.stopped(w.status)) break;
        ptraceRaw(PTRACE.CONT, v.tid, 0, 0);
      }
      v.state = 'gone';
    }
  }

  /**
   * An execve by a thread other than the leader (t, running it): the kernel
   * kills the leader (which stops at its exit event first) and reports the
   * exec under the leader's tid, which t goes on with. Returns t's new self.
   */
  private takeLeaderTid(t: ReplayTask, leaderRecTid: number): ReplayTask {
    const old = this.tasks.get(leaderRecTid);
    if (!old || old.task.tgid !== t.task.tgid || old.tid !== old.task.tgid) {
      throw new DivergenceError(`thread ${t.recTid} took over the tid of thread ${leaderRecTid} in its execve, which is not its process's leader in the replay`);
    }
    const live = old.tid;
    this.execVictims.delete(old);
    old.state = 'gone';
    const nt = new ReplayTask(leaderRecTid, new Task(live, live, t.task.mem));
    nt.state = 'running';
    for (;;) {
      const w = waitpid(live, WAIT.__WALL);
      if (!w) continue;
      if (!waitStatus.stopped(w.status)) throw new DivergenceError(`process ${leaderRecTid} ended during the execve of its thread ${t.recTid}`);
      if (waitStatus.event(w.status) === PTRACE_EVENT.EXEC) {
        nt.pendingStatus = w.status;
        break;
      }
      ptraceRaw(PTRACE.CONT, live, 0, 0); // the old leader at its exit event
    }
    t.state = 'gone';
    this.tasks.delete(t.recTid);
    this.tasks.set(leaderRecTid, nt);
    return nt;
  }

  private applyExitRecord(t: ReplayTask, byFilter: boolean): void {
    if (t.state === 'gone') return;
    // The kernel marks the robust futexes a dying thread holds, by the tid the
    // program knows, which is not the live one: replay does it (the thread stops
    // at its exit event before its memory goes).
    if (t.robustList) for (const [addr, data] of robustListDeaths(t.task.mem, t.robustList[0], t.recTid)) t.task.mem.write(addr, data);
    // A thread killed by another thread's execve dies when that execve runs (applyExec): a
    // SIGKILL would kill the whole process, the execve'ing thread too.
    if (this.execerOf(t)) {
      this.execVictims.add(t);
      return;
    }
    // A stopped thread that did not exit by itself was killed: by another thread's
    // exit_group (the kernel is already killing it), or by a SIGKILL that replay
    // did not send because kill/tgkill are emulated. Kill it for sure, then wait.
    // One that the program's seccomp filter killed runs to that death, as it did.
    if ((t.state === 'ready' || t.state === 'at-entry') && !byFilter) {
      kill(t.tid, SIG.KILL);
      t.state = 'exiting';
    }
    const letGo = () => {
      ptraceRaw(PTRACE.CONT, t.tid, 0, 0);
      t.state = 'exiting';
    };
    for (;;) {
      const stop = this.runToStop(t);
      if (stop.kind === 'gone') break;
      letGo();
      if (stop.kind === 'event' && stop.event === PTRACE_EVENT.EXIT) {
        // Wait for the thread to be gone (its clear_child_tid write done) unless it
        // leads a process whose other threads live on: its status comes only after theirs.
        const others = [...this.tasks.values()].some((o) => o !== t && o.task.tgid === t.task.tgid && o.state !== 'gone' && o.state !== 'exiting');
        if (t.tid === t.task.tgid && others) break;
      }
    }
    t.state = 'gone';
    if (![...this.tasks.values()].some((o) => o.task.mem === t.task.mem && o.state !== 'gone')) t.task.mem.close();
  }
}
