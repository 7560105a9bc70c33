// `trr replay` without -a: serves the replay to gdb. It starts trr's
// gdbserver on a loopback port and runs gdb connected to it (or, with -s,
// only serves and prints the command that connects).
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { Debugger } from '../replay/debugger.js';
import { GdbServer } from '../gdb/server.js';
import { TraceReader } from '../trace/trace-stream.js';
import { executableOf } from '../trace/processes.js';
import { TraceFormatError, UsageError } from '../util/errors.js';

export interface DebugOptions {
  readonly port?: number;
  readonly gdb: string;
  readonly gotoEvent?: number;
  readonly toEnd: boolean;
  readonly gdbArgs: readonly string[];
  /** -p PID (from its exec) or -f PID (from its fork). */
  readonly process?: { readonly pid: number; readonly from: 'exec' | 'fork' };
}

export async function replayUnderGdb(dir: string, opts: DebugOptions, warn: (m: string) => void): Promise<number> {
  const reader = TraceReader.open(dir);
  const last = reader.eventCount - 1;
  if (last < 0 || reader.recordAt(0).kind !== 'exec') throw new TraceFormatError(`${dir} holds no complete event to debug.`);
  reader.verifyChecksums(); // damage is reported now, not in the middle of a debugging session
  if (reader.incomplete) warn(`the trace in ${dir} is incomplete; it ends after event ${last}.`);
  if (opts.gotoEvent !== undefined && (opts.gotoEvent < 0 || opts.gotoEvent > last)) {
    throw new UsageError(`-g ${opts.gotoEvent}: the trace has events 0 to ${last}.`);
  }
  const dbg = new Debugger(reader, opts.process);
  try {
    const exe = reader.blobPath(executableOf(reader, dbg.pid, opts.process?.from));
    const server = new GdbServer(dbg, { exePath: exe, log: warn });
    if (opts.gotoEvent !== undefined) server.startAt(dbg.gotoEvent(opts.gotoEvent));
    if (opts.toEnd) server.startAt(dbg.continueForward());
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const { port } = await server.listen(opts.port ?? 0, () => finished());
    const target = `target extended-remote 127.0.0.1:${port}`;
    const sysroot = localSysroot(reader, warn);
    if (opts.port !== undefined) {
      process.stderr.write(`trr: serving the replay of ${dir}; connect with:\n  gdb -ex 'set sysroot ${sysroot}' -ex '${target}' ${exe}\n`);
      await done;
      return 0;
    }
    const gdb = spawn(opts.gdb, ['-q', '-ex', `set sysroot ${sysroot}`, '-ex', target, exe, ...opts.gdbArgs], { stdio: 'inherit' });
    // Ctrl-C belongs to gdb.
    const ignore = () => {};
    process.on('SIGINT', ignore);
    const status = await new Promise<number>((resolve, reject) => {
      gdb.on('error', (e) => reject(new UsageError(`cannot run ${opts.gdb}: ${e.message} (use -d PATH to name gdb)`)));
      gdb.on('exit', (code, sig) => resolve(code ?? 128 + (sig ? 1 : 0)));
    });
    process.off('SIGINT', ignore);
    return status;
  } finally {
    dbg.close();
  }
}

/**
 * Where gdb should read libraries from: the local system ("/", fast and
 * quiet) when every file the recorded programs mapped is still there
 * unchanged; otherwise through trr ("target:"), which answers with the
 * trace's copies.
 */
function localSysroot(reader: TraceReader, warn: (m: string) => void): string {
  // The programs themselves are loaded from the trace anyway (gdb gets their copies' paths).
  const programs = reader.programBlobs();
  const changed = [...reader.mappedFiles()].filter(([path, blob]) => {
    if (programs.has(blob)) return false;
    try {
      const copy = reader.blobPath(blob);
      return statSync(path).size !== statSync(copy).size || !readFileSync(path).equals(readFileSync(copy));
    } catch {
      return true;
    }
  });
  if (changed.length === 0) return '/';
  warn(`${changed.map(([p]) => p).slice(0, 3).join(', ')}${changed.length > 3 ? ` and ${changed.length - 3} more` : ''} changed since the recording: gdb reads the trace's copies through trr (it will say that file transfers are slow).`);
  return 'target:';
}
