// Error classes shared by every layer, and the one place that turns an error
// into the one-paragraph message and exit status the CLI prints. Expected
// failures (bad trace, divergence, unsupported syscall, bad command line)
// are TrrError subclasses and never print a stack trace; anything else is a
// bug in trr and prints its stack so it can be reported.
import { errnoMessage } from '../syscalls/names.js';

/** Base class for failures trr expects and explains to the user. */
export class TrrError extends Error {
  /** Process exit status the CLI uses for this error. */
  exitStatus = 1;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class UsageError extends TrrError {
  override exitStatus = 2;
}

export class TraceFormatError extends TrrError {}

/** Replay disagrees with the recording. */
export class DivergenceError extends TrrError {
  override exitStatus = 3;
}

export class UnsupportedError extends TrrError {}

/** A file or directory trr needs could not be created, written or read (disk full, not a directory, permissions...). */
export class FileError extends TrrError {}

/** The positive errno of a failed Node file-system call (`e.errno` is negative there), or undefined for anything else. */
export function errnoOf(e: unknown): number | undefined {
  const n = (e as NodeJS.ErrnoException | undefined)?.errno;
  return typeof n === 'number' && e instanceof Error ? Math.abs(n) : undefined;
}

/**
 * Turns a failed file-system call into a FileError reading `${what}: ${the
 * system's message}`, e.g. "cannot create /x/t: No space left on device".
 * trr's own errors pass through; anything else is a bug and is rethrown.
 */
export function fileError(e: unknown, what: string): TrrError {
  const errno = errnoOf(e); // Node's errors, and trr's native calls (NativeError)
  if (e instanceof TrrError && errno === undefined) return e;
  if (errno === undefined) throw e;
  return new FileError(`${what}: ${errnoMessage(errno)}`);
}

/** Formats any thrown value for the user; returns [message, exit status]. */
export function describeError(e: unknown): { message: string; exitStatus: number } {
  if (e instanceof TrrError) return { message: `trr: ${e.message}`, exitStatus: e.exitStatus };
  const stack = e instanceof Error ? (e.stack ?? e.message) : String(e);
  return {
    message: `trr: internal error (this is a bug in trr; please report it with the trace directory):\n${stack}`,
    exitStatus: 70,
  };
}
