// Where traces live: the trace directory ($TRR_TRACE_DIR, else
// $XDG_DATA_HOME/trr, else ~/.local/share/trr), new trace names, the
// latest-trace link, and resolving the TRACE argument of a command.
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { ERRNO } from '../syscalls/names.js';
import { TraceReader } from '../trace/trace-stream.js';
import { FileError, TraceFormatError, TrrError, errnoOf, fileError } from '../util/errors.js';

export function traceRoot(): string {
  if (process.env.TRR_TRACE_DIR) return resolve(process.env.TRR_TRACE_DIR);
  if (process.env.XDG_DATA_HOME) return join(resolve(process.env.XDG_DATA_HOME), 'trr');
  return join(homedir(), '.local', 'share', 'trr');
}

/** The trace directory as messages name it: its path and where that came from. */
function rootName(): string {
  const from = process.env.TRR_TRACE_DIR ? '$TRR_TRACE_DIR' : process.env.XDG_DATA_HOME ? '$XDG_DATA_HOME/trr' : '~/.local/share/trr';
  return `the trace directory ${traceRoot()} (${from})`;
}

/**
 * Creates `dir` and its missing parents, like `mkdir -p`. (Node's recursive
 * mkdir spins forever on a path under /proc, where mkdir fails with ENOENT.)
 */
function makeDirs(dir: string, name: string): void {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    const st = statOrUndefined(d, name);
    if (st === undefined && dirname(d) !== d) {
      missing.unshift(d);
      continue;
    }
    if (!st?.isDirectory()) throw new FileError(`cannot use ${name}: ${d} is not a directory.`);
    break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      if (errnoOf(e) !== ERRNO.EEXIST || !statSync(d).isDirectory()) throw fileError(e, d === dir ? `cannot create ${name}` : `cannot create ${d} for ${name}`);
    }
  }
}

/** stat(path), or undefined when nothing is there; other failures are errors about `name`. */
function statOrUndefined(path: string, name: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch (e) {
    if (errnoOf(e) === ERRNO.ENOENT) return undefined;
    throw fileError(e, `cannot use ${name}`);
  }
}

/** A new trace directory for a program, created (empty, private): PROG-0, PROG-1, ... */
export function newTraceDir(program: string): string {
  const root = traceRoot();
  makeDirs(root, rootName());
  const base = basename(program).replace(/[^A-Za-z0-9._+-]/g, '_') || 'trace';
  for (let n = 0; n < 1_000_000; n++) {
    const dir = join(root, `${base}-${n}`);
    try {
      // mkdir fails on anything already there, a dangling symbolic link included: that name is skipped.
      mkdirSync(dir, { mode: 0o700 });
      return dir;
    } catch (e) {
      if (errnoOf(e) !== ERRNO.EEXIST) throw fileError(e, `cannot create a trace in ${rootName()}`);
    }
  }
  throw new FileError(`cannot create a trace in ${rootName()}: every name ${base}-N is taken.`);
}

/**
 * Makes `dir` (the -o argument) ready to hold a new trace: created with its
 * parents when missing; an existing one must be an empty directory, so that
 * no file in it is overwritten. Returns whether it was created.
 */
export function prepareOutputDir(dir: string): boolean {
  const name = `the output directory ${dir}`;
  const st = statOrUndefined(dir, name);
  if (st === undefined) {
    if (lstatSync(dir, { throwIfNoEntry: false })) throw new FileError(`cannot record into ${dir}: it is a symbolic link to nothing; remove it or name another directory with -o.`);
    makeDirs(dir, name);
    return true;
  }
  if (!st.isDirectory()) throw new FileError(`cannot record into ${dir}: it is not a directory. -o names a directory for the trace: a new one, or an empty one.`);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (e) {
    throw fileError(e, `cannot record into ${dir}`);
  }
  if (entries.length > 0) throw new FileError(`refusing to record into ${dir}: the directory is not empty (it holds ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}). -o needs a new or empty directory, so that nothing in it is overwritten.`);
  return false;
}

/** Removes a trace that holds nothing worth keeping: its contents, and the directory itself when trr created it. */
export function discardTrace(dir: string, created: boolean): void {
  if (created) rmSync(dir, { recursive: true, force: true });
  else for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
}

/**
 * Points latest-trace in the trace directory at `dir`, atomically and without
 * following links (a new link renamed over the old one). Returns a function
 * that puts back what it pointed at before.
 */
export function setLatest(dir: string, warn: (m: string) => void): () => void {
  const link = join(traceRoot(), 'latest-trace');
  const existing = lstatSync(link, { throwIfNoEntry: false });
  if (existing && !existing.isSymbolicLink()) {
    warn(`${link} is not a symbolic link, so trr leaves it alone; it does not point at the new trace ${dir}.`);
    return () => {};
  }
  const previous = existing ? readlinkSync(link) : undefined;
  const point = (target: string) => {
    const tmp = join(traceRoot(), `.latest-trace.${process.pid}.${randomBytes(6).toString('hex')}`);
    try {
      symlinkSync(target, tmp);
      renameSync(tmp, link);
    } catch (e) {
      try {
        unlinkSync(tmp);
      } catch {
        /* nothing to clean */
      }
      warn(fileError(e, `could not point ${link} at ${target}`).message);
    }
  };
  point(resolve(dir));
  return () => {
    if (previous !== undefined) point(previous);
    else rmSync(link, { force: true });
  };
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

/** Opens a trace for a command that needs its events; one without any complete event is an error that says so. */
export function openTraceWithEvents(dir: string): TraceReader {
  const reader = TraceReader.open(dir);
  if (reader.eventCount === 0) {
    throw new TraceFormatError(`${dir} holds no complete event: the recording was cut off before the program started, or the trace was truncated.`);
  }
  return reader;
}

export function listTraceDirs(): string[] {
  const root = traceRoot();
  const st = statOrUndefined(root, rootName());
  if (!st) return [];
  if (!st.isDirectory()) throw new FileError(`cannot list traces: ${rootName()} is not a directory.`);
  try {
    return readdirSync(root).filter((n) => n !== 'latest-trace' && !n.startsWith('.')).map((n) => join(root, n));
  } catch (e) {
    throw fileError(e, `cannot list traces in ${rootName()}`);
  }
}
