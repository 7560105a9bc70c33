// `trr replay` without -a: serves the replay to gdb. It starts trr's
// gdbserver on a loopback port and runs gdb connected to it (or, with -s,
// only serves and prints the command that connects). The replay runs in a
// worker thread (src/gdb/replay-worker.ts), the socket on this one.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplayWorker } from '../gdb/replay-worker.js';
import { listenForGdb } from '../gdb/transport.js';
import { TraceReader } from '../trace/trace-stream.js';
import { executableOf } from '../trace/processes.js';
import { FileError, TraceFormatError, UsageError, fileError } from '../util/errors.js';
import { warnCpuDifferences } from './environment.js';
import { openTraceWithEvents } from './trace-dir.js';

export interface DebugOptions {
  readonly port?: number;
  readonly gdb: string;
  readonly gotoEvent?: number;
  readonly toEnd: boolean;
  readonly gdbArgs: readonly string[];
  /** Show the program's stdout and stderr as it replays (off with --no-output). */
  readonly showOutput: boolean;
  /** -p PID (from its exec) or -f PID (from its fork). */
  readonly process?: { readonly pid: number; readonly from: 'exec' | 'fork' };
}

export async function replayUnderGdb(dir: string, opts: DebugOptions, warn: (m: string) => void): Promise<number> {
  const reader = openTraceWithEvents(dir);
  const last = reader.eventCount - 1;
  if (reader.recordAt(0).kind !== 'exec') throw new TraceFormatError(`${dir} does not start with the program's execve; there is nothing to debug.`);
  reader.verifyChecksums(); // damage is reported now, not in the middle of a debugging session
  if (reader.incomplete) warn(`the trace in ${dir} is incomplete; it ends after event ${last}.`);
  if (opts.gotoEvent !== undefined && (opts.gotoEvent < 0 || opts.gotoEvent > last)) {
    throw new UsageError(`-g ${opts.gotoEvent}: the trace has events 0 to ${last}.`);
  }
  warnCpuDifferences(reader.header, warn);
  // The replay runs in a worker thread (replay-worker.ts); this thread keeps gdb's socket.
  const pid = opts.process?.pid ?? reader.recordAt(0).tid;
  const exe = reader.blobPath(executableOf(reader, pid, opts.process?.from));
  const replay = await ReplayWorker.start({ dir, process: opts.process, showOutput: opts.showOutput, gotoEvent: opts.gotoEvent, toEnd: opts.toEnd, exePath: exe }, warn);
  let closeListener = () => {};
  try {
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const { port, server: listener } = await listenForGdb(opts.port ?? 0, replay, () => finished());
    // However the session ends (gdb quits, or never starts), nothing may keep listening.
    closeListener = () => listener.close();
    let connected = false;
    listener.once('connection', () => (connected = true));
    const target = `target extended-remote 127.0.0.1:${port}`;
    const sysroot = localSysroot(reader, warn);
    if (opts.port !== undefined) {
      process.stderr.write(`trr: serving the replay of ${dir}; connect with:\n  gdb -ex 'set sysroot ${sysroot}' -ex '${target}' ${exe}\n(there, \`run cN\` goes to checkpoint N and \`run EVENT\` to an event)\n`);
      await done;
      return 0;
    }
    const commandsDir = mkdtempSync(join(tmpdir(), 'trr-gdb-'));
    const commands = join(commandsDir, 'trr-commands.py');
    writeFileSync(commands, GDB_COMMANDS);
    const cleanup = () => rmSync(commandsDir, { recursive: true, force: true });
    let gdb;
    try {
      gdb = spawn(opts.gdb, ['-q', '-ex', `set sysroot ${sysroot}`, '-ex', target, '-x', commands, exe, ...opts.gdbArgs], { stdio: 'inherit' });
    } catch (e) {
      cleanup();
      throw e;
    }
    gdb.on('exit', cleanup);
    gdb.on('error', cleanup);
    // Ctrl-C belongs to gdb.
    const ignore = () => {};
    process.on('SIGINT', ignore);
    try {
      return await new Promise<number>((resolve, reject) => {
        gdb.on('error', (e) => reject(new FileError(`${fileError(e, `cannot start the debugger ${opts.gdb}`).message}; name another gdb with -d PATH.`)));
        gdb.on('exit', (code, sig) => {
          const status = code ?? 128 + (sig ? (constants.signals[sig] ?? 0) : 0);
          if (status !== 0 && !connected) warn(`${opts.gdb} exited with status ${status} without connecting to the replay.`);
          resolve(status);
        });
      });
    } finally {
      process.off('SIGINT', ignore);
    }
  } finally {
    closeListener();
    await replay.close();
  }
}

/**
 * gdb commands trr defines (Python, which gdb sources with -x): `restart
 * [N]` and `goto EVENT` move the replay through gdb's `run` (`run cN`,
 * `run EVENT`, `run start`), whose stop reply makes gdb refresh registers, threads and
 * libraries, as rr's `restart` does; `monitor restart N` and `monitor goto`
 * leave gdb's caches stale.
 */
const GDB_COMMANDS = `import gdb

class TrrRun(gdb.Command):
    def __init__(self, name, prefix, doc):
        self.__doc__ = doc
        super().__init__(name, gdb.COMMAND_RUNNING)
        self.prefix = prefix

    def invoke(self, arg, from_tty):
        arg = arg.strip()
        confirm = gdb.parameter('confirm')
        gdb.execute('set confirm off')
        try:
            gdb.execute('run ' + (self.prefix + arg if arg else 'start'), from_tty)
        finally:
            gdb.execute('set args')  # a later plain run starts from the start again
            gdb.execute('set confirm ' + ('on' if confirm else 'off'))

TrrRun('restart', 'c', 'restart [N]: go back (or forward) to checkpoint N (monitor checkpoint makes one), or without N to the start of the recording, and stop there.')
TrrRun('goto', '', 'goto EVENT: replay to event EVENT (numbers as trr dump prints them).')
`;

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
