// Test harness shared by the end-to-end tests: compiles the test programs
// once, runs commands natively and under trr, and keeps each failing test's
// trace and logs under test-output/ (deleted when the test passes).
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const trrBin = join(repoRoot, 'bin', 'trr');
const programsDir = join(repoRoot, 'test', 'programs');
const buildDir = join(repoRoot, 'build', 'test-programs');
export const outputRoot = join(repoRoot, 'test-output');

export interface ProgramSpec {
  readonly name: string;
  readonly source: string;
  readonly lang: 'c' | 'rust';
  readonly static?: boolean;
  /** false: build without optimization, so that gdb sees every variable. */
  readonly optimize?: boolean;
  readonly threads?: boolean;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly stdin?: string;
  /** The program signals its whole process group: run it (and trr) as the leader of a new session. */
  readonly ownSession?: boolean;
  readonly expect: { readonly exit?: number; readonly signal?: number };
  /** A program with a race on purpose (its native run fails now and then): programs.test leaves it out. */
  readonly race?: boolean;
}

export function manifest(): ProgramSpec[] {
  return JSON.parse(readFileSync(join(programsDir, 'manifest.json'), 'utf8')) as ProgramSpec[];
}

function newer(target: string, source: string): boolean {
  return !existsSync(target) || statSync(source).mtimeMs > statSync(target).mtimeMs;
}

/** Compiles a test program (once) and returns the binary's path. */
export function buildProgram(spec: ProgramSpec, variant: 'dynamic' | 'static' = 'dynamic'): string {
  mkdirSync(buildDir, { recursive: true });
  const src = join(programsDir, spec.source);
  const out = join(buildDir, variant === 'static' ? `${spec.name}-static` : spec.name);
  if (!newer(out, src)) return out;
  const args =
    spec.lang === 'rust'
      ? [...(spec.optimize === false ? [] : ['-O']), '-g', '-o', out, src]
      : [spec.optimize === false ? '-O0' : '-O1', '-g', '-Wall', '-pthread', ...(variant === 'static' ? ['-static'] : []), '-o', out, src];
  const r = spawnSync(spec.lang === 'rust' ? 'rustc' : 'cc', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building ${spec.source} failed:\n${r.stderr}`);
  return out;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
}

function result(r: SpawnSyncReturns<string>): RunResult {
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status, signal: r.signal };
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  readonly timeoutMs?: number;
  /** Run the command as the leader of a new session (setsid), in a process group of its own. */
  readonly ownSession?: boolean;
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
  if (opts.ownSession) [cmd, args] = ['setsid', ['-w', cmd, ...args]];
  return result(
    spawnSync(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      input: opts.input ?? '',
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 120_000,
      // A hung trr may hold SIGTERM back (it shields itself while the program runs): SIGKILL makes the test fail instead of hang.
      killSignal: 'SIGKILL',
      maxBuffer: 64 << 20,
    }),
  );
}

export function trr(args: readonly string[], opts: RunOptions = {}): RunResult {
  return run(process.execPath, [trrBin, ...args], opts);
}

/** Exit status as trr reports it: the code, or 128+signal. */
export function statusOf(r: RunResult): number {
  if (r.status !== null) return r.status;
  const signals: Record<string, number> = { SIGSEGV: 11, SIGABRT: 6, SIGKILL: 9, SIGTERM: 15, SIGBUS: 7, SIGFPE: 8, SIGILL: 4 };
  return 128 + (signals[r.signal ?? ''] ?? 0);
}

/**
 * Gives a test a fresh output directory; removes it when the body succeeds
 * and keeps it (naming it in the error) when the body fails.
 */
export async function withOutputDir<T>(name: string, body: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = join(outputRoot, name.replace(/[^A-Za-z0-9._-]+/g, '_'));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    const v = await body(dir);
    rmSync(dir, { recursive: true, force: true });
    return v;
  } catch (e) {
    const err = e as Error;
    err.message += `\n(trace and logs kept in ${dir})`;
    throw err;
  }
}

/** Saves a run's output in the test's directory, for reading after a failure. */
export function saveLog(dir: string, name: string, r: RunResult): void {
  writeFileSync(join(dir, `${name}.log`), `status ${r.status} signal ${r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n`);
}

/**
 * Runs a command natively, under `trr record -o DIR/trace`, and under
 * `trr replay -a`, saving all three logs.
 */
/** The two ways trr records: with its syscall buffer (the default) and without it (`trr record -n`). */
export const RECORD_MODES = [
  { label: 'buffered', flags: [] },
  { label: 'unbuffered (-n)', flags: ['-n'] },
] as const;

/**
 * Records `bin ARGS` in both RECORD_MODES, replays each trace and dumps it:
 * recording and replay must exit 0 and print the native run's stdout. Logs
 * and dumps are kept in `dir`; `inspect` gets each mode's dump text and
 * trace directory for its own checks.
 */
export function recordBothModes(dir: string, bin: string, args: readonly string[], nativeStdout: string, inspect: (mode: (typeof RECORD_MODES)[number], dump: string, trace: string) => void): void {
  for (const mode of RECORD_MODES) {
    const tag = mode.flags.length ? 'off' : 'on';
    const trace = join(dir, `trace-${tag}`);
    const rec = trr(['record', ...mode.flags, '-o', trace, bin, ...args], { cwd: dir });
    saveLog(dir, `record-${tag}`, rec);
    assert.equal(rec.status, 0, rec.stderr);
    assert.equal(rec.stdout, nativeStdout, `recorded stdout (${mode.label}) differs from native`);
    const rep = trr(['replay', '-a', trace]);
    saveLog(dir, `replay-${tag}`, rep);
    assert.equal(rep.status, 0, rep.stderr);
    assert.equal(rep.stdout, nativeStdout, `replayed stdout (${mode.label}) differs`);
    const dump = trr(['dump', trace]);
    assert.equal(dump.status, 0, dump.stderr);
    writeFileSync(join(dir, `dump-${tag}.txt`), dump.stdout);
    inspect(mode, dump.stdout, trace);
  }
}

export function recordAndReplay(dir: string, cmd: string, args: readonly string[], opts: RunOptions & { readonly recordFlags?: readonly string[] } = {}): { native: RunResult; recorded: RunResult; replayed: RunResult; trace: string } {
  const trace = join(dir, 'trace');
  const native = run(cmd, args, opts);
  saveLog(dir, 'native', native);
  const recorded = trr(['record', ...(opts.recordFlags ?? []), '-o', trace, cmd, ...args], opts);
  saveLog(dir, 'record', recorded);
  const replayed = trr(['replay', '-a', trace], { ...opts, input: '' });
  saveLog(dir, 'replay', replayed);
  return { native, recorded, replayed, trace };
}

/** trr's stderr minus its own warnings (lines starting with "trr:"). */
export function programStderr(s: string): string {
  return s.split('\n').filter((l) => !l.startsWith('trr: ')).join('\n');
}

/** A failure as trr must report it: a non-zero status (or exactly `status`), a message matching `pattern`, no stack trace. */
export function assertCleanError(r: { status: number | null; stderr: string }, pattern: RegExp, status?: number): RegExpMatchArray {
  if (status === undefined) assert.notEqual(r.status, 0, r.stderr);
  else assert.equal(r.status, status, r.stderr);
  const m = r.stderr.match(pattern);
  assert.ok(m, `stderr ${JSON.stringify(r.stderr)} does not match ${pattern}`);
  assert.doesNotMatch(r.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
  assert.doesNotMatch(r.stderr, /internal error/);
  return m;
}
