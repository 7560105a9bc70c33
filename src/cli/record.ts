// `trr record`: runs a program under recording and writes a trace.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { cpuid, kill, rdtscTraps, spawnTracee, waitStatus } from '../native/native.js';
import { RecordSession } from '../record/record-session.js';
import { TRACE_FORMAT_VERSION, type Header } from '../trace/format.js';
import { TraceWriter } from '../trace/trace-stream.js';
import { SIG } from '../task/kernel-abi.js';
import { FileError, UsageError } from '../util/errors.js';
import { newTraceDir, prepareOutputDir, setLatest } from './trace-dir.js';
import { TRR_VERSION, currentDir, kernelRelease, stackLimit } from './environment.js';

export interface RecordCommand {
  readonly program: string;
  readonly args: readonly string[];
  readonly output?: string;
  readonly env: readonly string[];
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
    if (!isExec(p)) throw new UsageError(`cannot run ${program}: no such executable file.`);
    return p;
  }
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const p = join(dir || '.', program);
    if (isExec(p)) return isAbsolute(p) ? p : resolve(p);
  }
  throw new UsageError(`cannot run ${program}: not found on PATH.`);
}

function recordedCpuid(): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [leaf, sub] of [[0, 0], [1, 0], [7, 0], [0xd, 0], [0xd, 1], [0x80000000, 0], [0x80000001, 0]] as const) {
    out[`${leaf.toString(16)}.${sub}`] = cpuid(leaf, sub);
  }
  return out;
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

/** Records the program; returns trr's exit status (the program's, or 128+signal). */
export function record(cmd: RecordCommand, warn: (m: string) => void): number {
  const cwd = currentDir();
  const path = findProgram(cmd.program);
  const dir = cmd.output ? resolve(cmd.output) : newTraceDir(cmd.program);
  if (cmd.output) prepareOutputDir(dir);
  const argv = [cmd.program, ...cmd.args];
  const env = mergeEnv(process.env, cmd.env);
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
    cpuid: recordedCpuid(),
    features: rdtscTraps() ? ['rdtsc-trapped'] : [],
  };
  const writer = TraceWriter.create(dir, header);
  if (!cmd.output) setLatest(dir, warn);
  // The recorded program gets terminal signals itself; trr must outlive it to finish the trace.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  process.on('SIGQUIT', ignore);
  let pid: number | undefined;
  try {
    pid = spawnTracee({ path, argv, env, cwd });
    const session = new RecordSession(writer, pid, warn);
    const { status } = session.run();
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
    process.off('SIGINT', ignore);
    process.off('SIGQUIT', ignore);
  }
}
