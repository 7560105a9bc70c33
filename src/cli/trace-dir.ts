// Where traces live: the trace directory ($TRR_TRACE_DIR, else
// $XDG_DATA_HOME/trr, else ~/.local/share/trr), new trace names, the
// latest-trace link, and resolving the TRACE argument of a command.
import { existsSync, mkdirSync, readdirSync, readlinkSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { TrrError } from '../util/errors.js';

export function traceRoot(): string {
  if (process.env.TRR_TRACE_DIR) return resolve(process.env.TRR_TRACE_DIR);
  if (process.env.XDG_DATA_HOME) return join(resolve(process.env.XDG_DATA_HOME), 'trr');
  return join(homedir(), '.local', 'share', 'trr');
}

/** A new, unused trace directory name for a program: PROG-0, PROG-1, ... */
export function newTraceDir(program: string): string {
  const root = traceRoot();
  mkdirSync(root, { recursive: true });
  const base = basename(program).replace(/[^A-Za-z0-9._+-]/g, '_') || 'trace';
  for (let n = 0; ; n++) {
    const dir = join(root, `${base}-${n}`);
    if (!existsSync(dir)) return dir;
  }
}

/** Points latest-trace in the trace root at `dir`. */
export function setLatest(dir: string): void {
  const root = traceRoot();
  mkdirSync(root, { recursive: true });
  const link = join(root, 'latest-trace');
  const tmp = `${link}.${process.pid}`;
  try {
    symlinkSync(resolve(dir), tmp);
    renameSync(tmp, link);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing to clean */
    }
  }
}

/** The directory a command's TRACE argument names (default: the latest trace). */
export function resolveTrace(arg: string | undefined): string {
  if (arg) {
    if (existsSync(arg)) return resolve(arg);
    const inRoot = join(traceRoot(), arg);
    if (existsSync(inRoot)) return inRoot;
    throw new TrrError(`no trace named ${arg} (looked for ${resolve(arg)} and ${inRoot}).`);
  }
  const link = join(traceRoot(), 'latest-trace');
  try {
    return resolve(traceRoot(), readlinkSync(link));
  } catch {
    throw new TrrError(`there is no latest trace in ${traceRoot()}: record one with \`trr record PROGRAM\`, or name a trace directory.`);
  }
}

export function listTraceDirs(): string[] {
  const root = traceRoot();
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((n) => n !== 'latest-trace' && !n.startsWith('.')).map((n) => join(root, n));
}
