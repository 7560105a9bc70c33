// The one module that talks to the C layer (build/libtrr_native.so) and to
// libc through koffi. It exports a typed interface: ptrace requests, waits,
// spawning a seized tracee, rdtsc and cpuid. Failures become PtraceError /
// NativeError named after the call and errno, e.g. "ptrace(PTRACE_CONT, 1234):
// ESRCH". It holds no tracer state and makes no decisions.
import koffi from 'koffi';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errnoName } from '../syscalls/names.js';
import { TrrError } from '../util/errors.js';

const here = dirname(fileURLToPath(import.meta.url));
// dist/src/native -> repo root is three levels up.
const repoRoot = join(here, '..', '..', '..');
const libPath = join(repoRoot, 'build', 'libtrr_native.so');

export class NativeError extends TrrError {
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    super(`${call}: ${errnoName(errno)}`);
  }
}

/** A ptrace request that failed; `pid` is the tracee it named (ESRCH: it is not in a ptrace-stop, or gone). */
export class PtraceError extends NativeError {
  constructor(
    call: string,
    errno: number,
    readonly pid: number,
  ) {
    super(call, errno);
  }
}

function ptraceCheck(req: number, pid: number, r: bigint | number): number {
  const n = Number(r);
  if (n < 0) throw new PtraceError(describe(req, pid), -n, pid);
  return n;
}

export const PTRACE = {
  TRACEME: 0,
  PEEKDATA: 2,
  PEEKUSER: 3,
  POKEDATA: 5,
  POKEUSER: 6,
  CONT: 7,
  KILL: 8,
  SINGLESTEP: 9,
  GETREGS: 12,
  SETREGS: 13,
  GETFPREGS: 14,
  SETFPREGS: 15,
  ATTACH: 16,
  DETACH: 17,
  SYSCALL: 24,
  SETOPTIONS: 0x4200,
  GETEVENTMSG: 0x4201,
  GETSIGINFO: 0x4202,
  SETSIGINFO: 0x4203,
  GETREGSET: 0x4204,
  SETREGSET: 0x4205,
  SEIZE: 0x4206,
  INTERRUPT: 0x4207,
  LISTEN: 0x4208,
  GETSIGMASK: 0x420a,
  SETSIGMASK: 0x420b,
} as const;

export const PTRACE_EVENT = {
  FORK: 1,
  VFORK: 2,
  CLONE: 3,
  EXEC: 4,
  VFORK_DONE: 5,
  EXIT: 6,
  SECCOMP: 7,
  STOP: 128,
} as const;

export const WAIT = { WNOHANG: 1, WUNTRACED: 2, __WALL: 0x40000000, __WNOTHREAD: 0x20000000 } as const;

const REQUEST_NAMES = new Map<number, string>(Object.entries(PTRACE).map(([k, v]) => [v, `PTRACE_${k}`]));

interface Bindings {
  ptrace(req: number, pid: number, addr: bigint | number, data: bigint | number): bigint | number;
  ptraceBuf(req: number, pid: number, addr: bigint | number, buf: Buffer): bigint | number;
  regset(req: number, pid: number, nt: number, buf: Buffer, len: number): bigint | number;
  wait(pid: number, status: Int32Array, options: number, timeoutMs: number): bigint | number;
  spawn(path: string, argv: (string | null)[], envp: (string | null)[], cwd: string | null, stackLimit: number, allowIp: number, failStep: Int32Array, failErrno: Int32Array): bigint | number;
  rdtsc(): bigint | number;
  rdtscTraps(): bigint | number;
  cpuidFaults(): bigint | number;
  rdtscp(aux: Uint32Array): bigint | number;
  cpuid(leaf: number, subleaf: number, out: Uint32Array): void;
  kill(pid: number, sig: number): bigint | number;
  tgkill(tgid: number, tid: number, sig: number): bigint | number;
  shieldSignals(on: number): bigint | number;
  termSender(): bigint | number;
  currentCpu(): bigint | number;
  cpuAllowed(cpu: number): bigint | number;
  pinCpu(pid: number, cpu: number): bigint | number;
  getAffinity(pid: number, buf: Buffer, len: number): bigint | number;
  peekPipe(path: string, buf: Buffer, len: number): bigint | number;
  copyFile(src: string, dst: string, mode: number): bigint | number;
  fallocate(path: string, mode: number, offset: number, len: number): bigint | number;
  gettimeofday(tv: Buffer, tz: Buffer): bigint | number;
  time(): bigint | number;
  ptraceOptions(): bigint | number;
}

let bindings: Bindings | undefined;

function load(): Bindings {
  if (bindings) return bindings;
  if (!existsSync(libPath)) {
    throw new TrrError(`trr's native library ${libPath} is missing: run \`npm install\` (or \`npm run build\`) in ${repoRoot} first.`);
  }
  const lib = koffi.load(libPath);
  bindings = {
    ptrace: lib.func('long trr_ptrace(long, long, uintptr_t, uintptr_t)'),
    ptraceBuf: lib.func('long trr_ptrace_buf(long, long, uintptr_t, _Inout_ uint8_t *buf)'),
    regset: lib.func('long trr_ptrace_regset(long, long, long, _Inout_ uint8_t *buf, long)'),
    wait: lib.func('long trr_wait(long, _Out_ int *status, long, long)'),
    spawn: lib.func('long trr_spawn(const char *, const char **, const char **, const char *, long, unsigned long, _Out_ int *, _Out_ int *)'),
    rdtsc: lib.func('uint64_t trr_rdtsc(void)'),
    rdtscTraps: lib.func('long trr_rdtsc_traps(void)'),
    cpuidFaults: lib.func('long trr_cpuid_faults(void)'),
    rdtscp: lib.func('uint64_t trr_rdtscp(_Out_ uint32_t *)'),
    cpuid: lib.func('void trr_cpuid(uint32_t, uint32_t, _Out_ uint32_t *out)'),
    kill: lib.func('long trr_kill(long, long)'),
    tgkill: lib.func('long trr_tgkill(long, long, long)'),
    shieldSignals: lib.func('long trr_shield_signals(long)'),
    termSender: lib.func('long trr_term_sender(void)'),
    currentCpu: lib.func('long trr_current_cpu(void)'),
    cpuAllowed: lib.func('long trr_cpu_allowed(long)'),
    pinCpu: lib.func('long trr_pin_cpu(long, long)'),
    getAffinity: lib.func('long trr_get_affinity(long, _Out_ uint8_t *buf, long)'),
    peekPipe: lib.func('long trr_peek_pipe(const char *, _Inout_ uint8_t *buf, long)'),
    copyFile: lib.func('long trr_copy_file(const char *, const char *, long)'),
    fallocate: lib.func('long trr_fallocate(const char *, long, long, long)'),
    gettimeofday: lib.func('long trr_gettimeofday(_Out_ uint8_t *tv, _Out_ uint8_t *tz)'),
    time: lib.func('long trr_time(void)'),
    ptraceOptions: lib.func('long trr_ptrace_options(void)'),
  } as unknown as Bindings;
  return bindings;
}

function check(call: () => string, r: bigint | number, ErrorClass: typeof NativeError = NativeError): number {
  const n = Number(r);
  if (n < 0) throw new ErrorClass(call(), -n);
  return n;
}

function describe(req: number, pid: number): string {
  return `ptrace(${REQUEST_NAMES.get(req) ?? req}, ${pid})`;
}

/** ptrace for requests that may fail because the tracee died under us: returns -errno instead of throwing. */
export function ptraceRaw(req: number, pid: number, addr: bigint | number = 0, data: bigint | number = 0): number {
  return Number(load().ptrace(req, pid, addr, data));
}

/** The ptrace options trr seizes every tracee with (TRR_PTRACE_OPTIONS in trr_native.c). */
export function trrPtraceOptions(): number {
  return Number(load().ptraceOptions());
}

export function ptraceBuffer(req: number, pid: number, addr: bigint | number, buf: Buffer): number {
  return ptraceCheck(req, pid, load().ptraceBuf(req, pid, addr, buf));
}

export const NT_X86_XSTATE = 0x202;

/** PTRACE_GETREGSET into buf; returns the number of bytes the kernel filled. */
export function ptraceGetRegset(pid: number, ntType: number, buf: Buffer): number {
  return ptraceCheck(PTRACE.GETREGSET, pid, load().regset(PTRACE.GETREGSET, pid, ntType, buf, buf.length));
}

/** PTRACE_SETREGSET from buf (all of it). */
export function ptraceSetRegset(pid: number, ntType: number, buf: Buffer): void {
  ptraceCheck(PTRACE.SETREGSET, pid, load().regset(PTRACE.SETREGSET, pid, ntType, buf, buf.length));
}

export interface WaitResult {
  readonly tid: number;
  readonly status: number;
}

/**
 * waitpid(pid, &status, options). With timeoutMs > 0 returns undefined when
 * nothing changed in time; with WNOHANG returns undefined when nothing is
 * pending. ECHILD is returned as undefined too when `allowNoChild` is set.
 */
export function waitpid(pid: number, options: number, timeoutMs = 0): WaitResult | undefined {
  const status = new Int32Array(1);
  const r = Number(load().wait(pid, status, options, timeoutMs));
  if (r === 0) return undefined;
  if (r < 0) throw new NativeError(`waitpid(${pid})`, -r);
  return { tid: r, status: status[0]! };
}

export interface SpawnRequest {
  readonly path: string;
  readonly argv: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  /** RLIMIT_STACK soft limit for the child; undefined keeps ours. */
  readonly stackLimit?: bigint;
  /** End of the one syscall instruction the seccomp filter lets through without a stop (the syscall buffer's); none when undefined. */
  readonly allowIp?: number;
}

const SPAWN_STEPS = ['', 'chdir', 'personality(ADDR_NO_RANDOMIZE)', 'prctl(PR_SET_TSC)', 'seccomp filter', 'execve'];

/** Forks a tracee as described by trr_spawn(); returns its pid, seized and stopped at (or before) its execve. */
export function spawnTracee(req: SpawnRequest): number {
  const step = new Int32Array(1);
  const errno = new Int32Array(1);
  let limit = -1;
  if (req.stackLimit !== undefined) limit = req.stackLimit >= 0x7fffffffffffffffn ? -1 : Number(req.stackLimit);
  const pid = check(
    () => `spawning ${req.path}`,
    load().spawn(req.path, [...req.argv, null], [...req.env, null], req.cwd, limit, req.allowIp ?? 0, step, errno),
  );
  if (step[0]) throw new NativeError(`${SPAWN_STEPS[step[0]] ?? 'setup'} in the new process for ${req.path}`, errno[0]!);
  return pid;
}

export function rdtsc(): bigint {
  return BigInt(load().rdtsc());
}

/** Whether PR_SET_TSC really makes rdtsc fault here (some hypervisors ignore it). */
export function rdtscTraps(): boolean {
  return Number(load().rdtscTraps()) === 1;
}

/** Whether arch_prctl(ARCH_SET_CPUID, 0) makes cpuid fault here (CPUID faulting; measured once). */
let cpuidFaulting: boolean | undefined;
export function cpuidFaults(): boolean {
  cpuidFaulting ??= Number(load().cpuidFaults()) === 1;
  return cpuidFaulting;
}

/** trr's own gettimeofday: struct timeval (16 bytes) and struct timezone (8 bytes) as the kernel writes them. */
export function gettimeofday(): { tv: Buffer; tz: Buffer } {
  const tv = Buffer.alloc(16);
  const tz = Buffer.alloc(8);
  const r = Number(load().gettimeofday(tv, tz));
  if (r < 0) throw new NativeError('gettimeofday', -r);
  return { tv, tz };
}

/** trr's own time(NULL). */
export function timeNow(): bigint {
  return BigInt(load().time());
}

export function rdtscp(): { tsc: bigint; aux: number } {
  const aux = new Uint32Array(1);
  const tsc = BigInt(load().rdtscp(aux));
  return { tsc, aux: aux[0]! };
}

export function cpuid(leaf: number, subleaf: number): [number, number, number, number] {
  const out = new Uint32Array(4);
  load().cpuid(leaf, subleaf, out);
  return [out[0]!, out[1]!, out[2]!, out[3]!];
}

export function kill(pid: number, sig: number): number {
  return Number(load().kill(pid, sig));
}

/**
 * While recording: ignore the signals the recorded program's process group
 * may send trr (^C, kill(0, sig)...), and turn SIGTERM into a request read
 * with termSender(). Off again with `false`.
 */
export function shieldSignals(on: boolean): void {
  check(() => 'sigaction', load().shieldSignals(on ? 1 : 0), NativeError);
}

/** Who sent trr SIGTERM since the last call: a pid, -1 for the kernel, 0 for nobody. */
export function termSender(): number {
  return Number(load().termSender());
}

/** The CPU trr runs on now. */
export function currentCpu(): number {
  return check(() => 'sched_getcpu', load().currentCpu());
}

/** Whether trr may run on `cpu` (its affinity allows it). */
export function cpuAllowed(cpu: number): boolean {
  return Number(load().cpuAllowed(cpu)) === 1;
}

/** Confines process `pid` (and the children it makes afterwards) to one CPU; false if it cannot. */
export function pinCpu(pid: number, cpu: number): boolean {
  return Number(load().pinCpu(pid, cpu)) === 0;
}

/** The CPU affinity mask of `pid` (0: trr itself), as sched_getaffinity gives it. */
export function cpuAffinity(pid: number): Buffer {
  const b = Buffer.alloc(128);
  return b.subarray(0, check(() => `sched_getaffinity(${pid})`, load().getAffinity(pid, b, b.length)));
}

/** The first (up to) len bytes waiting in the pipe at `path`, left in the pipe. */
export function peekPipe(path: string, len: number): Buffer {
  const buf = Buffer.alloc(Math.max(0, Math.min(len, 1 << 20)));
  const n = check(() => `peeking into ${path}`, load().peekPipe(path, buf, buf.length));
  return buf.subarray(0, n);
}

/**
 * Copies `src` to a new file `dst` (never through a link, never over a file)
 * with permission bits `mode`: a reflink where possible, else only the parts
 * of the file that hold data, so holes cost nothing.
 */
/** fallocate(2) on a file of trr's own; throws NativeError. */
export function fallocateFile(path: string, mode: number, offset: bigint, len: bigint): void {
  check(() => `fallocate(${path}, 0x${mode.toString(16)})`, load().fallocate(path, mode, Number(offset), Number(len)));
}

export function copyFileSparse(src: string, dst: string, mode: number): void {
  check(() => `copying ${src}`, load().copyFile(src, dst, mode));
}

/** SECCOMP_RET_DATA of the SIGSYS trr's filter raises for a 32-bit (int $0x80) system call. */
export const I386_TRAP_DATA = 0x386;

export function tgkill(tgid: number, tid: number, sig: number): number {
  return Number(load().tgkill(tgid, tid, sig));
}

// Decoding of wait statuses, as the <sys/wait.h> macros do.
export const waitStatus = {
  exited: (s: number) => (s & 0x7f) === 0,
  exitCode: (s: number) => (s >> 8) & 0xff,
  signaled: (s: number) => ((s & 0x7f) + 1) >> 1 > 0 && (s & 0x7f) !== 0x7f && (s & 0x7f) !== 0,
  termSig: (s: number) => s & 0x7f,
  stopped: (s: number) => (s & 0xff) === 0x7f,
  stopSig: (s: number) => (s >> 8) & 0xff,
  /** PTRACE_EVENT_* number of a ptrace event stop, or 0. */
  event: (s: number) => (s >> 16) & 0xff,
};
