// trr's command line: parses arguments with commander, runs one subcommand,
// and turns every expected failure into a one-paragraph message on stderr
// and a non-zero exit status. trr's own messages never go to stdout, which
// belongs to the recorded or replayed program (and to dump/ps/ls output).
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { UsageError, describeError } from '../util/errors.js';
import { resolveTrace } from './trace-dir.js';
import { TRR_VERSION, currentDir } from './environment.js';

// Each command's modules are loaded when it runs: start-up time is part of
// every recording's and replay's cost, and `record` needs none of replay's
// or gdb's code (nor they its).

const warn = (msg: string) => process.stderr.write(`trr: warning: ${msg}\n`);
/** Prints a line of command output; a closed stdout (e.g. `trr dump | head`) ends the command quietly. */
const print = (line: string) => {
  try {
    writeFileSync(1, line + '\n');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0);
    throw e;
  }
};

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`-s takes a port number from 1 to 65535, not ${JSON.stringify(v)}.`);
  return n;
}

function parseEvent(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`expected a number, not ${JSON.stringify(v)}.`);
  return n;
}

/** --seed: an unsigned 32-bit integer (the chaos scheduler's generator takes 32 bits). */
function parseSeed(v: string): number {
  const n = /^\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n > 0xffffffff) throw new UsageError(`--seed takes a whole number from 0 to 4294967295 (the chaos scheduler's seed, as \`trr record --chaos\` prints it), not ${JSON.stringify(v)}.`);
  return n;
}

function buildProgram(setStatus: (s: number) => void, gdbArgs: readonly string[]): Command {
  const program = new Command('trr')
    .description('Record a Linux x86-64 program once, then replay it exactly, forwards and backwards, in gdb.\nNeeds no hardware performance counters.')
    .version(TRR_VERSION)
    .enablePositionalOptions()
    .showHelpAfterError('(run `trr --help` or `trr COMMAND --help` for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });

  program
    .command('record')
    .description('run PROG with ARGS under recording; exits with PROG\'s status (128+N if killed by signal N)')
    .usage('[-o DIR] [-w] [-n] [--chaos [--seed N]] [--env NAME=VALUE]... [--] PROG [ARGS...]')
    .option('-o, --output <dir>', 'write the trace to DIR instead of a new directory under the trace directory')
    .option('-w, --wait', 'keep recording until every recorded process has exited (by default the recording ends with PROG, and processes it left running are killed, as with rr)')
    .option('-n, --no-syscall-buffer', 'do not load trr\'s syscall buffer library into PROG: every system call is then a ptrace stop (slower, the way to rule the buffer out)')
    .option('--chaos', 'chaos mode: randomise scheduling (slice lengths, which ready thread runs next, whether a new thread runs before its creator) so that races and order-dependent bugs show up in a few recordings; prints the seed on stderr')
    .option('--seed <n>', 'with --chaos: the seed of its random choices (0 to 4294967295), to repeat a recording\'s schedule', (v: string) => parseSeed(v))
    .option('--env <NAME=VALUE>', 'set an environment variable for PROG (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .argument('<prog>', 'program to record (searched on PATH when it has no slash)')
    .argument('[args...]', 'its arguments')
    .passThroughOptions()
    .exitOverride()
    .action(async (prog: string, args: string[], opts: { output?: string; env: string[]; wait?: boolean; syscallBuffer?: boolean; chaos?: boolean; seed?: number }) => {
      if (opts.seed !== undefined && !opts.chaos) throw new UsageError('--seed only means something with --chaos: give both (`trr record --chaos --seed N PROG`) to repeat a chaos-mode schedule.');
      const chaos = opts.chaos ? { seed: opts.seed ?? randomInt(0, 2 ** 32) } : undefined;
      const { record } = await import('./record.js');
      setStatus(record({ program: prog, args, output: opts.output, env: opts.env, waitForAll: opts.wait === true, syscallBuffer: opts.syscallBuffer !== false, chaos }, warn));
    });

  program
    .command('replay')
    .description('replay a trace (the latest one by default) under gdb, which can run it forwards and backwards; -a replays it to the end without a debugger')
    .usage('[-a] [-p PID | -f PID] [-g EVENT | -e] [-d GDB] [-s PORT] [--no-output] [TRACE] [-- GDB_ARGS...]')
    .option('-a, --autopilot', 'replay without a debugger, reproducing the program\'s output and exit status')
    .option('-s, --port <port>', 'only serve gdb on 127.0.0.1:PORT and print the command that connects', (v: string) => parsePort(v))
    .option('-d, --debugger <gdb>', 'the gdb to run', 'gdb')
    .option('-g, --goto <event>', 'start the session at EVENT (numbers as `trr dump` prints them)', (v: string) => parseEvent(v))
    .option('-e, --end', 'start the session at the end of the recording')
    .option('-p, --pid <pid>', 'debug the process with this recorded pid, from its exec', (v: string) => parseEvent(v))
    .option('-f, --fork <pid>', 'debug the process with this recorded pid, from its fork', (v: string) => parseEvent(v))
    .option('--no-output', 'under gdb, do not show what the program writes to stdout and stderr as it replays (shown once, the first time replay gets past it)')
    .argument('[trace]', 'trace directory, or a trace name in the trace directory')
    .exitOverride()
    .action(async (trace: string | undefined, opts: { autopilot?: boolean; port?: number; debugger: string; goto?: number; end?: boolean; pid?: number; fork?: number; output: boolean }) => {
      const dir = resolveTrace(trace);
      if (opts.autopilot) {
        const { replayAutopilot } = await import('./replay.js');
        setStatus(replayAutopilot(dir, warn));
        return;
      }
      if (opts.pid !== undefined && opts.fork !== undefined) throw new UsageError('-p and -f cannot be used together.');
      const proc = opts.pid !== undefined ? { pid: opts.pid, from: 'exec' as const } : opts.fork !== undefined ? { pid: opts.fork, from: 'fork' as const } : undefined;
      const { replayUnderGdb } = await import('./debug.js');
      setStatus(await replayUnderGdb(dir, { port: opts.port, gdb: opts.debugger, gotoEvent: opts.goto, toEnd: !!opts.end, gdbArgs, process: proc, showOutput: opts.output }, warn));
    });

  program
    .command('dap')
    .description('serve the Debug Adapter Protocol on stdin/stdout, for VS Code (debugger type "trr"): it opens a trace given by the launch request and debugs it forwards and backwards through gdb')
    .exitOverride()
    .action(async () => {
      const { runDap } = await import('../dap/main.js');
      runDap(); // the session ends the process when the client disconnects
    });

  program
    .command('dump')
    .description('print the events of a trace, one per line')
    .option('--json', 'one JSON object per line')
    .argument('[trace]', 'trace directory or name (default: latest)')
    .exitOverride()
    .action(async (trace: string | undefined, opts: { json?: boolean }) => (await import('./inspect.js')).dump(resolveTrace(trace), !!opts.json, print));

  program
    .command('ps')
    .description('list the processes of a trace with pid, parent, exit status and command line')
    .argument('[trace]', 'trace directory or name (default: latest)')
    .exitOverride()
    .action(async (trace: string | undefined) => (await import('./inspect.js')).ps(resolveTrace(trace), print));

  program
    .command('pack')
    .description('copy into the trace every file it still refers to (system libraries and programs it uses in place, files it hard-linked), so that it can be moved to another machine and replayed there; packing twice does nothing more')
    .argument('[trace]', 'trace directory or name (default: latest)')
    .exitOverride()
    .action(async (trace: string | undefined) => (await import('./pack.js')).pack(resolveTrace(trace), (m) => process.stderr.write(`trr: ${m}\n`)));

  program
    .command('ls')
    .description('list the traces in the trace directory ($TRR_TRACE_DIR, $XDG_DATA_HOME/trr or ~/.local/share/trr)')
    .exitOverride()
    .action(async () => (await import('./inspect.js')).ls(print));

  // Paths on the command line and in the environment may be relative to it.
  program.hook('preAction', () => void currentDir());
  program.addOption(new Option('--debug-internal', 'print stack traces of internal errors').hideHelp());
  return program;
}

export async function main(argv: string[]): Promise<void> {
  let status = 0;
  // `trr replay ... -- GDB_ARGS`: what follows -- belongs to gdb.
  const dashes = argv[0] === 'replay' ? argv.indexOf('--') : -1;
  const gdbArgs = dashes >= 0 ? argv.slice(dashes + 1) : [];
  const own = dashes >= 0 ? argv.slice(0, dashes) : argv;
  const program = buildProgram((s) => (status = s), gdbArgs);
  try {
    await program.parseAsync(own, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      status = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 2;
    } else {
      const { message, exitStatus } = describeError(e);
      process.stderr.write(message + '\n');
      status = exitStatus;
    }
  }
  process.exitCode = status;
}
