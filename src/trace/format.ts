// The trace schema: every record kind trr writes, its fields, and the strict
// validation applied when reading. docs/trace-format.md describes the same
// schema for people; keep the two in step. Bump TRACE_FORMAT_VERSION when an
// existing record changes meaning or a reader of the old version would
// misread a new trace; adding an optional field that old readers may ignore
// does not need a bump. This module does no I/O.
import { TraceFormatError } from '../util/errors.js';

export const TRACE_FORMAT_VERSION = 5;
/** The oldest version this reader replays: version 2 only added record fields, version 3 the ptrace-stop and syscall-batch kinds and fields, version 4 the cpuid and async-point kinds, exec's cpuidFaulting and files.json (blobs held by reference or link). */
export const OLDEST_READABLE_VERSION = 1;
export const EVENTS_MAGIC = Buffer.from('TRREVNT1', 'latin1');
export const JOURNAL_MAGIC = Buffer.from('TRRJRNL1', 'latin1');

/** Memory the kernel (or trr) wrote into the tracee: replay writes it back. */
export type MemoryWrite = readonly [addr: bigint, data: Buffer];

export interface Header {
  readonly format: 'trr-trace';
  readonly version: number;
  readonly trrVersion: string;
  readonly created: string;
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: readonly string[];
  /** RLIMIT_STACK soft limit at record time (decides the mmap layout). */
  readonly stackLimit: string;
  readonly kernel: string;
  /** CPUID leaves: "leaf.subleaf" -> [eax, ebx, ecx, edx]. */
  readonly cpuid: Readonly<Record<string, readonly number[]>>;
  readonly features: readonly string[];
  /** The CPU the recorded program was confined to (absent in traces from before 2026-12-03). */
  readonly cpu?: number;
  /** Recorded in chaos mode (trr record --chaos) with this seed. */
  readonly chaosSeed?: number;
}

interface Base {
  /** Recorded tid of the thread the event belongs to. */
  readonly tid: number;
}

/** A whole syscall, entry to exit, with nothing else recorded in between. */
export interface SyscallRecord extends Base {
  readonly kind: 'syscall';
  readonly nr: number;
  /** Registers at the syscall-entry stop. */
  readonly regs: Buffer;
  readonly result: bigint;
  readonly mem?: readonly MemoryWrite[];
  readonly extra?: SyscallExtra;
}

/** The entry half of a syscall that blocked while other threads ran. */
export interface SyscallEntryRecord extends Base {
  readonly kind: 'syscall-entry';
  readonly nr: number;
  readonly regs: Buffer;
}

/** The exit half, matching the thread's last syscall-entry. */
export interface SyscallExitRecord extends Base {
  readonly kind: 'syscall-exit';
  readonly nr: number;
  readonly result: bigint;
  readonly mem?: readonly MemoryWrite[];
  readonly extra?: SyscallExtra;
}

/** Per-syscall facts beyond result and memory. */
export interface SyscallExtra {
  /** clone/fork/vfork: recorded tid of the new task. */
  readonly child?: number;
  /** clone with CLONE_THREAD: the child is a thread, not a process. */
  readonly thread?: boolean;
  /**
   * clone into a PID namespace: the child's tid as the child itself sees it
   * (what CLONE_CHILD_SETTID writes), when it is not `child`. The tid the
   * parent sees is the syscall's result.
   */
  readonly childOwnTid?: number;
  /** mmap of a file: blob name under files/ holding its contents. */
  readonly file?: string;
  /** mmap of a file: the file's path then (what gdb asks for). Absent in traces from before 2026-11-25. */
  readonly path?: string;
  /** write-family syscall on trr's own stdout (1) or stderr (2). */
  readonly stdio?: number;
  /** SHA-1 of the bytes a write-family syscall wrote. */
  readonly hash?: Buffer;
  /**
   * Bytes that went to trr's stdout/stderr (`stdio`) without passing through
   * the program's memory (sendfile, copy_file_range, splice, tee from another
   * file): replay echoes them. Since version 2.
   */
  readonly echo?: Buffer;
  /**
   * mmap of a file that may change while mapped (mapped from a descriptor open
   * for writing): the key (recording's device:inode) of the file replay
   * emulates for it, created from `file` at its first mapping. Since version 2.
   */
  readonly tracked?: string;
  /**
   * A write to an emulated file: [key, file offset]. The bytes are those the
   * syscall sent from memory (write family), or `echo` (in-kernel copies).
   * Since version 2.
   */
  readonly fileWrite?: readonly [string, bigint];
  /** ftruncate/truncate/fallocate of an emulated file: [key, new size]. Since version 2. */
  readonly fileSize?: readonly [string, bigint];
  /**
   * fallocate of an emulated file with a mode that changes its contents
   * (punching a hole, zeroing, collapsing or inserting a range): [key, mode,
   * offset, length], applied before `fileSize`. Optional.
   */
  readonly fileAllocate?: readonly [string, number, bigint, bigint];
  /** shmat and shmdt of a System V segment: the size of the mapping (shmat also has `file` and `tracked`). Optional. */
  readonly shmSize?: bigint;
  /** NUL-terminated string arguments, by argument index, for `trr dump`. */
  readonly strings?: readonly (readonly [number, string])[];
  /** The names (comm) of the process's threads after a syscall that may have changed one: [tid, name]. Optional; older readers ignore it. */
  readonly names?: readonly (readonly [number, string])[];
  /** trr answered the syscall itself without running it (e.g. ENOSYS). */
  readonly emulated?: boolean;
  /**
   * A write through /proc/PID/mem into another recorded process: the
   * recorded pid whose memory the record's `mem` is written into (without
   * it, `mem` is the thread's own process's). Since version 3.
   */
  readonly memOf?: number;
  /**
   * ptrace of an emulated tracee that changed it (POKEDATA, POKEUSER,
   * SETREGS...): replay does the same to the tracee. Since version 3 (a
   * version 2 reader would ignore it and replay the tracee wrongly).
   */
  readonly tracee?: TraceeEffect;
}

/** What a ptrace request of the program did to its (emulated) tracee. */
export interface TraceeEffect {
  /** Recorded tid of the tracee. */
  readonly tid: number;
  /** The tracee's registers after the request. */
  readonly regs?: Buffer;
  /** Memory written into the tracee. */
  readonly mem?: readonly MemoryWrite[];
  /** The tracee's FXSAVE area (x87/SSE registers, 512 bytes) after the request. */
  readonly fpregs?: Buffer;
  /** The tracee's XSAVE area after the request (PTRACE_SETREGSET NT_X86_XSTATE). */
  readonly xstate?: Buffer;
  /** Words written into the tracee's user area beyond the registers (debug registers): [offset, value]. */
  readonly user?: readonly (readonly [bigint, bigint])[];
}

/** A successful execve: the new program's start state. */
export interface ExecRecord extends Base {
  readonly kind: 'exec';
  /** Registers at the execve entry. */
  readonly entryRegs: Buffer;
  /** Registers at the new program's first instruction. */
  readonly regs: Buffer;
  /** File name as the program passed it to execve. */
  readonly path: string;
  readonly argv: readonly string[];
  /** Blob holding the binary the kernel loaded (/proc/pid/exe). */
  readonly exe: string;
  /** Blobs for every file mapped right after exec (path -> blob). */
  readonly files: readonly (readonly [string, string])[];
  /** The initial stack, [sp, stack top). */
  readonly stack: MemoryWrite;
  /**
   * An execve by a thread other than its process's leader: the tid the
   * thread goes on with (the leader's, which died in the execve); later
   * records name it by that tid.
   */
  readonly leaderTid?: number;
  /** /proc/pid/maps text right after exec, for divergence checks. */
  readonly maps: string;
  /** The new program runs with CPUID faulting (its cpuid instructions are `cpuid` records); replay must turn it on too. */
  readonly cpuidFaulting?: boolean;
}

export type SignalAction = 'handler' | 'ignore' | 'terminate' | 'stop';

/** A signal delivered to a thread. */
export interface SignalRecord extends Base {
  readonly kind: 'signal';
  readonly signo: number;
  /** Raised by the thread's own instruction (fault, trap): replay finds it by running. */
  readonly sync: boolean;
  /** siginfo_t, 128 bytes. */
  readonly info: Buffer;
  /** Registers at delivery. */
  readonly regs: Buffer;
  readonly action: SignalAction;
  /** Registers after delivery (handler entry, or restarted syscall). */
  readonly after?: Buffer;
  /** The signal frame the kernel wrote. */
  readonly mem?: readonly MemoryWrite[];
  /**
   * The kernel could not build the handler's frame (overflowed stack, bad
   * stack pointer): nothing changed; it raised SIGSEGV instead (next record).
   */
  readonly noFrame?: boolean;
}

/** An rdtsc/rdtscp (or, with CPUID faulting, cpuid) instruction trapped and emulated. */
export interface RdtscRecord extends Base {
  readonly kind: 'rdtsc' | 'cpuid';
  readonly regs: Buffer;
  readonly after: Buffer;
}

/**
 * A thread that the program itself ptraces (emulated) raised a signal with
 * an instruction (a breakpoint, a fault): it stopped for its tracer there,
 * before any delivery. Replay runs it to that fault and keeps it stopped.
 * Since version 3.
 */
export interface PtraceStopRecord extends Base {
  readonly kind: 'ptrace-stop';
  readonly signo: number;
  /** Registers at the stop. */
  readonly regs: Buffer;
  /** The tracer single-stepped it (PTRACE_SINGLESTEP): replay executes one instruction, not a run to the fault. */
  readonly step?: boolean;
  /** A syscall-entry stop at which the tracer changed it: replay holds it at the entry of its next syscall. */
  readonly entry?: boolean;
}

/**
 * Syscalls the preload library ran without a ptrace stop (the syscall
 * buffer) since the thread's previous event, in order: `count` records in
 * the library's layout (src/syscallbuf/layout.ts), as `data`. Replay writes
 * them into the thread's buffer, and the library hands them back. Since
 * version 3.
 */
export interface SyscallBatchRecord extends Base {
  readonly kind: 'syscall-batch';
  readonly count: number;
  readonly data: Buffer;
}

/**
 * An asynchronous point: the recorder stopped the thread in the middle of
 * its user code (PTRACE_INTERRUPT), to let another thread run or to deliver
 * a signal there; what it did there is the next records. Replay finds the
 * point again by state: it runs the thread from its previous event with a
 * breakpoint at the recorded instruction and stops at the first hit whose
 * registers, FP/SSE/AVX registers and memory fingerprint equal these.
 * Since version 4.
 */
export interface AsyncPointRecord extends Base {
  readonly kind: 'async-point';
  /** All general registers (fs/gs base included) at the point. */
  readonly regs: Buffer;
  /** SHA-1 of the x87/SSE/AVX register values (see src/task/fingerprint.ts). */
  readonly fp: Buffer;
  /** SHA-1 of the process's writable private memory (see src/task/fingerprint.ts). */
  readonly memHash: Buffer;
  /** Why: 'preempt' (another thread runs next), 'signal' (a signal is delivered here). */
  readonly reason: 'preempt' | 'signal';
  /**
   * The point is in a loop whose state changes at every visit, too often
   * for replay to look at each (see src/record/preempt.ts): the state to
   * put the thread in without running it there. `xstate` is the XSAVE area;
   * `mem` the memory the fingerprint covers that changed since the previous
   * teleport point of the process (all of it at its first). Optional.
   */
  readonly teleport?: { readonly xstate: Buffer; readonly mem: readonly MemoryWrite[] };
}

/** A thread left the trace (exit, exit_group, killed by a signal). */
export interface ExitRecord extends Base {
  readonly kind: 'exit';
  /** Wait status as waitpid reports it. */
  readonly status: number;
  /**
   * The thread died running its own code: a seccomp filter of the program
   * killed it at a syscall. Replay lets it run to that death instead of
   * killing it where it stands. Since version 2.
   */
  readonly byFilter?: boolean;
}

/** The recording finished normally. */
export interface EndRecord extends Base {
  readonly kind: 'end';
  /** Wait status of the initial process. */
  readonly status: number;
}

export type TraceRecord =
  | SyscallRecord
  | SyscallEntryRecord
  | SyscallExitRecord
  | ExecRecord
  | SignalRecord
  | RdtscRecord
  | PtraceStopRecord
  | SyscallBatchRecord
  | AsyncPointRecord
  | ExitRecord
  | EndRecord;

export type RecordKind = TraceRecord['kind'];

// ---- validation ---------------------------------------------------------

type Obj = Record<string, unknown>;

class Check {
  constructor(private readonly where: string) {}
  fail(msg: string): never {
    throw new TraceFormatError(`${this.where}: ${msg}. The trace is corrupt or was written by an incompatible trr.`);
  }
  obj(v: unknown, what: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || Buffer.isBuffer(v)) this.fail(`${what} is not a map`);
    return v as Obj;
  }
  int(o: Obj, k: string, optional = false): number {
    const v = o[k];
    if (v === undefined && optional) return 0;
    if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(`field '${k}' is not an integer`);
    return v as number;
  }
  big(o: Obj, k: string): bigint {
    const v = o[k];
    if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
    if (typeof v !== 'bigint') this.fail(`field '${k}' is not an integer`);
    return v as bigint;
  }
  buf(o: Obj, k: string, size?: number): Buffer {
    const v = o[k];
    if (!(v instanceof Uint8Array)) this.fail(`field '${k}' is not binary data`);
    const b = Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array);
    if (size !== undefined && b.length !== size) this.fail(`field '${k}' has ${b.length} bytes, expected ${size}`);
    return b;
  }
  str(o: Obj, k: string): string {
    const v = o[k];
    if (typeof v !== 'string') this.fail(`field '${k}' is not a string`);
    return v as string;
  }
  strList(o: Obj, k: string): string[] {
    const v = o[k];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) this.fail(`field '${k}' is not a list of strings`);
    return v as string[];
  }
  mem(v: unknown, k: string): MemoryWrite[] | undefined {
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) this.fail(`field '${k}' is not a list`);
    return (v as unknown[]).map((w) => this.memWrite(w, k));
  }
  memWrite(w: unknown, k: string): MemoryWrite {
    if (!Array.isArray(w) || w.length !== 2) this.fail(`an entry of '${k}' is not [address, data]`);
    const [a, d] = w as [unknown, unknown];
    const addr = typeof a === 'number' ? BigInt(a) : a;
    if (typeof addr !== 'bigint' || !(d instanceof Uint8Array)) this.fail(`an entry of '${k}' is not [address, data]`);
    return [addr as bigint, Buffer.isBuffer(d) ? d : Buffer.from(d as Uint8Array)];
  }
  /** [string, integer]. */
  keyed(v: unknown, k: string): [string, bigint] {
    if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || !(typeof v[1] === 'bigint' || Number.isInteger(v[1]))) {
      this.fail(`field '${k}' is not [key, integer]`);
    }
    return [v[0] as string, BigInt(v[1] as number | bigint)];
  }
  pairs(v: unknown, k: string): [string, string][] {
    if (!Array.isArray(v) || !v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string'))
      this.fail(`field '${k}' is not a list of string pairs`);
    return v as [string, string][];
  }
}

const REGS = 216;

function extra(c: Check, v: unknown): SyscallExtra | undefined {
  if (v === undefined) return undefined;
  const o = c.obj(v, 'extra');
  const out: { -readonly [K in keyof SyscallExtra]: SyscallExtra[K] } = {};
  if (o.child !== undefined) out.child = c.int(o, 'child');
  if (o.thread !== undefined) out.thread = o.thread === true;
  if (o.childOwnTid !== undefined) out.childOwnTid = c.int(o, 'childOwnTid');
  if (o.file !== undefined) out.file = c.str(o, 'file');
  if (o.path !== undefined) out.path = c.str(o, 'path');
  if (o.stdio !== undefined) out.stdio = c.int(o, 'stdio');
  if (o.hash !== undefined) out.hash = c.buf(o, 'hash', 20);
  if (o.echo !== undefined) out.echo = c.buf(o, 'echo');
  if (o.tracked !== undefined) out.tracked = c.str(o, 'tracked');
  if (o.fileWrite !== undefined) out.fileWrite = c.keyed(o.fileWrite, 'fileWrite');
  if (o.fileSize !== undefined) out.fileSize = c.keyed(o.fileSize, 'fileSize');
  if (o.shmSize !== undefined) out.shmSize = c.big(o, 'shmSize');
  if (o.fileAllocate !== undefined) {
    const f = o.fileAllocate;
    const integer = (x: unknown) => typeof x === 'bigint' || Number.isInteger(x);
    if (!Array.isArray(f) || f.length !== 4 || typeof f[0] !== 'string' || !f.slice(1).every(integer)) c.fail(`field 'fileAllocate' is not [key, mode, offset, length]`);
    out.fileAllocate = [f[0] as string, Number(f[1]), BigInt(f[2] as number | bigint), BigInt(f[3] as number | bigint)];
  }
  if (o.emulated !== undefined) out.emulated = o.emulated === true;
  if (o.tracee !== undefined) {
    const t = c.obj(o.tracee, 'tracee');
    out.tracee = {
      tid: c.int(t, 'tid'),
      regs: t.regs === undefined ? undefined : c.buf(t, 'regs', REGS),
      mem: c.mem(t.mem, 'tracee mem'),
      fpregs: t.fpregs === undefined ? undefined : c.buf(t, 'fpregs', 512),
      user: t.user === undefined ? undefined : userWords(c, t.user),
      xstate: t.xstate === undefined ? undefined : c.buf(t, 'xstate'),
    };
  }
  if (o.memOf !== undefined) out.memOf = c.int(o, 'memOf');
  if (o.names !== undefined) {
    if (!Array.isArray(o.names) || !o.names.every((p) => Array.isArray(p) && p.length === 2 && Number.isInteger(p[0]) && typeof p[1] === 'string')) c.fail(`field 'names' is not a list of [tid, name]`);
    out.names = o.names as [number, string][];
  }
  if (o.strings !== undefined) {
    if (!Array.isArray(o.strings)) c.fail(`field 'strings' is not a list`);
    out.strings = (o.strings as unknown[]).map((p) => {
      if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'number' || typeof p[1] !== 'string') c.fail(`field 'strings' has a bad entry`);
      return [p[0] as number, p[1] as string] as const;
    });
  }
  return out;
}

function userWords(c: Check, v: unknown): [bigint, bigint][] {
  const big = (x: unknown) => (typeof x === 'bigint' ? x : typeof x === 'number' && Number.isInteger(x) ? BigInt(x) : undefined);
  if (!Array.isArray(v)) c.fail(`field 'user' is not a list`);
  return (v as unknown[]).map((w) => {
    const pair = Array.isArray(w) && w.length === 2 ? [big(w[0]), big(w[1])] : [];
    if (pair[0] === undefined || pair[1] === undefined) c.fail(`an entry of 'user' is not [offset, value]`);
    return [pair[0]!, pair[1]!];
  });
}

function teleportOf(c: Check, v: unknown): { xstate: Buffer; mem: MemoryWrite[] } {
  const o = c.obj(v, 'teleport');
  return { xstate: c.buf(o, 'xstate'), mem: c.mem(o.mem, 'teleport mem') ?? [] };
}

/** Checks a decoded record against the schema and returns it typed. */
export function validateRecord(value: unknown, where: string): TraceRecord {
  const c = new Check(where);
  const o = c.obj(value, 'record');
  const kind = o.kind;
  const tid = c.int(o, 'tid');
  switch (kind) {
    case 'syscall':
      return { kind, tid, nr: c.int(o, 'nr'), regs: c.buf(o, 'regs', REGS), result: c.big(o, 'result'), mem: c.mem(o.mem, 'mem'), extra: extra(c, o.extra) };
    case 'syscall-entry':
      return { kind, tid, nr: c.int(o, 'nr'), regs: c.buf(o, 'regs', REGS) };
    case 'syscall-exit':
      return { kind, tid, nr: c.int(o, 'nr'), result: c.big(o, 'result'), mem: c.mem(o.mem, 'mem'), extra: extra(c, o.extra) };
    case 'exec':
      return {
        kind, tid,
        entryRegs: c.buf(o, 'entryRegs', REGS),
        regs: c.buf(o, 'regs', REGS),
        path: c.str(o, 'path'),
        argv: c.strList(o, 'argv'),
        exe: c.str(o, 'exe'),
        files: c.pairs(o.files, 'files'),
        stack: c.memWrite(o.stack, 'stack'),
        maps: c.str(o, 'maps'),
        ...(o.leaderTid !== undefined ? { leaderTid: c.int(o, 'leaderTid') } : {}),
        ...(o.cpuidFaulting === true ? { cpuidFaulting: true } : {}),
      };
    case 'signal': {
      const action = o.action;
      if (action !== 'handler' && action !== 'ignore' && action !== 'terminate' && action !== 'stop') c.fail(`signal action '${String(action)}' unknown`);
      return {
        kind, tid,
        signo: c.int(o, 'signo'),
        sync: o.sync === true,
        info: c.buf(o, 'info', 128),
        regs: c.buf(o, 'regs', REGS),
        action: action as SignalAction,
        after: o.after === undefined ? undefined : c.buf(o, 'after', REGS),
        mem: c.mem(o.mem, 'mem'),
        ...(o.noFrame === true ? { noFrame: true } : {}),
      };
    }
    case 'rdtsc':
    case 'cpuid':
      return { kind, tid, regs: c.buf(o, 'regs', REGS), after: c.buf(o, 'after', REGS) };
    case 'ptrace-stop':
      return { kind, tid, signo: c.int(o, 'signo'), regs: c.buf(o, 'regs', REGS), ...(o.step === true ? { step: true } : {}), ...(o.entry === true ? { entry: true } : {}) };
    case 'syscall-batch':
      return { kind, tid, count: c.int(o, 'count'), data: c.buf(o, 'data') };
    case 'async-point': {
      const reason = o.reason;
      if (reason !== 'preempt' && reason !== 'signal') c.fail(`async-point reason '${String(reason)}' unknown`);
      return {
        kind, tid,
        regs: c.buf(o, 'regs', REGS),
        fp: c.buf(o, 'fp', 20),
        memHash: c.buf(o, 'memHash', 20),
        reason: reason as 'preempt' | 'signal',
        ...(o.teleport !== undefined ? { teleport: teleportOf(c, o.teleport) } : {}),
      };
    }
    case 'exit':
      return o.byFilter === true ? { kind, tid, status: c.int(o, 'status'), byFilter: true } : { kind, tid, status: c.int(o, 'status') };
    case 'end':
      return { kind, tid, status: c.int(o, 'status') };
    default:
      return c.fail(`record kind '${String(kind)}' is unknown`);
  }
}

/** Strips undefined fields so the encoded record stays small. */
export function compactRecord(r: TraceRecord): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(r)) if (v !== undefined) out[k] = v;
  return out;
}

export function validateHeader(value: unknown, where: string): Header {
  const c = new Check(where);
  const o = c.obj(value, 'header');
  if (o.format !== 'trr-trace') c.fail(`not a trr trace header (format is ${JSON.stringify(o.format)})`);
  const version = c.int(o, 'version');
  if (version < OLDEST_READABLE_VERSION || version > TRACE_FORMAT_VERSION) {
    throw new TraceFormatError(
      `${where}: trace format version ${version} is not supported by this trr, which reads versions ${OLDEST_READABLE_VERSION} to ${TRACE_FORMAT_VERSION}. Record the program again with this trr, or replay it with the trr that recorded it.`,
    );
  }
  return {
    format: 'trr-trace',
    version,
    trrVersion: c.str(o, 'trrVersion'),
    created: c.str(o, 'created'),
    argv: c.strList(o, 'argv'),
    cwd: c.str(o, 'cwd'),
    env: c.strList(o, 'env'),
    stackLimit: c.str(o, 'stackLimit'),
    kernel: c.str(o, 'kernel'),
    cpuid: (o.cpuid ?? {}) as Record<string, number[]>,
    features: Array.isArray(o.features) ? (o.features as string[]) : [],
    ...(typeof o.cpu === 'number' && Number.isInteger(o.cpu) && o.cpu >= 0 ? { cpu: o.cpu } : {}),
    ...(typeof o.chaosSeed === 'number' && Number.isInteger(o.chaosSeed) && o.chaosSeed >= 0 ? { chaosSeed: o.chaosSeed } : {}),
  };
}
