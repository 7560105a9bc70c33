// `trr record`: runs a program under recording and writes a trace.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { cpuid, rdtscTraps, spawnTracee, waitStatus } from '../native/native.js';
import { RecordSession } from '../record/record-session.js';
import { TRACE_FORMAT_VERSION, type Header } from '../trace/format.js';
import { TraceWriter } from '../trace/trace-stream.js';
import { UsageError } from '../util/errors.js';
import { newTraceDir, setLatest } from './trace-dir.js';
import { TRR_VERSION, kernelRelease, stackLimit } from './environment.js';

export interface RecordCommand {
  readonly program: string;
  readonly args: readonly string[];
  readonly output?: string;
  readonly env: readonly string[];
  /** Record until every process has exited, not only PROG. */
  readonly waitForAll?: boolean;
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
  const path = findProgram(cmd.program);
  const dir = cmd.output ? resolve(cmd.output) : newTraceDir(cmd.program);
  const argv = [cmd.program, ...cmd.args];
  const env = mergeEnv(process.env, cmd.env);
  const header: Header = {
    format: 'trr-trace',
    version: TRACE_FORMAT_VERSION,
    trrVersion: TRR_VERSION,
    created: new Date().toISOString(),
    argv,
    cwd: process.cwd(),
    env,
    stackLimit: stackLimit(),
    kernel: kernelRelease(),
    cpuid: recordedCpuid(),
    features: rdtscTraps() ? ['rdtsc-trapped'] : [],
  };
  const writer = TraceWriter.create(dir, header);
  if (!cmd.output) setLatest(dir);
  // The recorded program gets terminal signals itself; trr must outlive it to finish the trace.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  process.on('SIGQUIT', ignore);
  try {
    const pid = spawnTracee({ path, argv, env, cwd: process.cwd() });
    const session = new RecordSession(writer, pid, warn, { waitForAll: cmd.waitForAll === true });
    const { status } = session.run();
    return waitStatus.exited(status) ? waitStatus.exitCode(status) : 128 + waitStatus.termSig(status);
  } finally {
    writer.close();
    process.off('SIGINT', ignore);
    process.off('SIGQUIT', ignore);
  }
}
