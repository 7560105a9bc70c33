// `trr record`: runs a program under recording and writes a trace.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { cpuidFaults, currentCpu, kill, pinCpu, rdtscTraps, shieldSignals, spawnTracee, waitStatus } from '../native/native.js';
import { RecordSession } from '../record/record-session.js';
import { TRACE_FORMAT_VERSION, type Header } from '../trace/format.js';
import { TraceWriter } from '../trace/trace-stream.js';
import { ERRNO, errnoMessage } from '../syscalls/names.js';
import { SIG } from '../task/kernel-abi.js';
import { FileError, TrrError, UsageError, errnoOf } from '../util/errors.js';
import { discardTrace, newTraceDir, prepareOutputDir, setLatest } from './trace-dir.js';
import { STUB_SYSCALL_END, preloadLibrary } from '../syscallbuf/layout.js';
import { TRR_VERSION, cpuidLeaves, currentDir, kernelRelease, stackLimit } from './environment.js';

export interface RecordCommand {
  readonly program: string;
  readonly args: readonly string[];
  readonly output?: string;
  readonly env: readonly string[];
  /** Record until every process has exited, not only PROG. */
  readonly waitForAll?: boolean;
  /** Load the syscall buffer library into PROG (LD_PRELOAD); on unless -n. */
  readonly syscallBuffer?: boolean;
  /** Chaos mode (scheduler.ts): random scheduling from this seed. */
  readonly chaos?: { readonly seed: number };
}

/** The program could not be started; the exit status is the one a shell gives (126 found but not executable, 127 not found). */
export class CannotExecuteError extends TrrError {
  constructor(
    message: string,
    override exitStatus: number,
  ) {
    super(message);
  }
}

/** The message and status a shell would give for running `program` (at `path`) when execve failed with `errno`. */
export function cannotExecute(program: string, path: string, errno: number): CannotExecuteError {
  const status = errno === ERRNO.ENOENT ? 127 : 126;
  let why = errnoMessage(errno);
  if (errno === ERRNO.ENOENT && existsSync(path)) {
    // The file is there: what is missing is the interpreter its #! line names, or an ELF program's dynamic loader.
    const start = readFileSync(path).subarray(0, 256).toString('latin1');
    const interp = start.startsWith('#!') ? start.slice(2).trim().split(/\s+/)[0] : undefined;
    why = `required file not found (${interp ? `its interpreter ${interp} does not exist` : 'the dynamic loader it asks for does not exist'})`;
  } else if (errno === ERRNO.ENOEXEC) {
    why += ' (it is neither a program for this machine nor a script starting with #!)';
  }
  return new CannotExecuteError(`${program}: cannot execute: ${why}.`, status);
}

/** Finds PROG as execvp would: as a path when it has a slash, else on $PATH. */
export function findProgram(program: string): string {
  const isExec = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (program.includes('/')) {
    const p = resolve(program);
    let errno: number | undefined;
    try {
      if (statSync(p).isDirectory()) errno = ERRNO.EISDIR;
      else accessSync(p, constants.X_OK);
    } catch (e) {
      errno = errnoOf(e);
      if (errno === undefined) throw e;
    }
    if (errno !== undefined) throw cannotExecute(program, p, errno);
    return p;
  }
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const p = join(dir || '.', program);
    if (isExec(p)) return isAbsolute(p) ? p : resolve(p);
  }
  throw new CannotExecuteError(`${program}: command not found (searched $PATH).`, 127);
}

export function mergeEnv(base: NodeJS.ProcessEnv, overrides: readonly string[]): string[] {
  const env = new Map<string, string>();
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env.set(k, v);
  for (const o of overrides) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env takes NAME=VALUE, got ${JSON.stringify(o)}.`);
    env.set(o.slice(0, eq), o.slice(eq + 1));
  }
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/** env with the syscall buffer library appended to LD_PRELOAD (after the user's own preloads). */
export function withPreload(env: readonly string[], lib: string): string[] {
  const i = env.findIndex((e) => e.startsWith('LD_PRELOAD='));
  if (i < 0) return [...env, `LD_PRELOAD=${lib}`];
  const old = env[i]!.slice('LD_PRELOAD='.length);
  const out = [...env];
  out[i] = `LD_PRELOAD=${old.trim() ? `${old}:${lib}` : lib}`;
  return out;
}

/** Records the program; returns trr's exit status (the program's, or 128+signal). */
export function record(cmd: RecordCommand, warn: (m: string) => void): number {
  const cwd = currentDir();
  const path = findProgram(cmd.program);
  const dir = cmd.output ? resolve(cmd.output) : newTraceDir(cmd.program);
  const createdDir = cmd.output ? prepareOutputDir(dir) : true;
  const argv = [cmd.program, ...cmd.args];
  let env = mergeEnv(process.env, cmd.env);
  const preload = cmd.syscallBuffer === false ? undefined : preloadLibrary();
  if (cmd.syscallBuffer !== false && !preload) warn('the syscall buffer library (build/libtrr_preload.so) is missing, so every system call is recorded with a ptrace stop; run `npm install` to build it.');
  if (preload) env = withPreload(env, preload);
  const cpuidFaulting = process.env.TRR_NO_CPUID_FAULTING !== '1' && cpuidFaults();
  const header: Header = {
    format: 'trr-trace',
    version: TRACE_FORMAT_VERSION,
    trrVersion: TRR_VERSION,
    created: new Date().toISOString(),
    argv,
    cwd,
    env,
    stackLimit: stackLimit(),
    kernel: kernelRelease(),
    cpuid: cpuidLeaves(),
    features: [...(rdtscTraps() ? ['rdtsc-trapped'] : []), ...(cpuidFaulting ? ['cpuid-faulting'] : []), ...(preload ? ['syscall-buffer'] : [])],
    cpu: currentCpu(),
    ...(cmd.chaos ? { chaosSeed: cmd.chaos.seed } : {}),
  };
  const writer = TraceWriter.create(dir, header);
  if (cmd.chaos) process.stderr.write(`trr: chaos mode, seed ${cmd.chaos.seed} (\`trr record --chaos --seed ${cmd.chaos.seed} ...\` repeats its choices)\n`);
  const undoLatest = cmd.output ? undefined : setLatest(dir, warn);
  // The recorded program gets terminal and process-group signals itself; trr must outlive it to finish the trace.
  shieldSignals(true);
  let pid: number | undefined;
  try {
    pid = spawnTracee({ path, argv, env, cwd, allowIp: preload ? Number(STUB_SYSCALL_END) : undefined });
    const pinned = pinCpu(pid, header.cpu!);
    if (!pinned) warn(`could not confine the program to CPU ${header.cpu}; what it reads of the CPU number (sched_getcpu, rdpid) may differ in replay.`);
    const session = new RecordSession(writer, pid, warn, { waitForAll: cmd.waitForAll === true, syscallBuffer: preload !== undefined, cpu: pinned ? header.cpu : undefined, cpuidFaulting, chaosSeed: cmd.chaos?.seed });
    const { status, execErrno } = session.run();
    if (execErrno !== undefined) {
      // Nothing ran: no trace is left behind, as after a shell's failed exec.
      writer.close();
      discardTrace(dir, createdDir);
      undoLatest?.();
      throw cannotExecute(cmd.program, path, execErrno);
    }
    return waitStatus.exited(status) ? waitStatus.exitCode(status) : 128 + waitStatus.termSig(status);
  } catch (e) {
    // Recording stopped early: the program must not run on unrecorded (trr's exit kills the rest of its tree too).
    if (pid !== undefined) kill(pid, SIG.KILL);
    const failure = writer.failure;
    if (failure && e === failure) {
      const last = writer.eventCount - 1;
      throw new FileError(
        `${failure.message}. Recording stopped ${last >= 0 ? `after event ${last}` : 'before the first event'} and the recorded program was killed. ` +
          (last >= 0 ? `The trace is incomplete: \`trr replay -a ${dir}\` replays it up to its last complete event.` : 'The trace holds nothing to replay.'),
      );
    }
    throw e;
  } finally {
    writer.close();
    shieldSignals(false);
  }
}
