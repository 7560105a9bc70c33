#!/usr/bin/env node
// `npm run bench`: times workloads natively, under `trr record` and `trr
// replay -a` with the syscall buffer (the default) and without it (`-n`),
// and under `strace -f`, and prints the ratios side by side with the trace
// size per second of native run time. Nothing here asserts a timing: it
// measures and reports.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { buildProgram, manifest } = await import(join(root, 'dist/test/support/harness.js'));
const trr = join(root, 'bin/trr');
const work = mkdtempSync(join(tmpdir(), 'trr-bench-'));
const program = (name) => buildProgram(manifest().find((p) => p.name === name));

function time(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: work, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', ...opts });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return s;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Bytes a trace costs: its hard links (files/ entries that share the original's inode) cost nothing until `trr pack`. */
function dirSize(d) {
  let n = 0;
  for (const f of readdirSync(d)) {
    const p = join(d, f);
    const st = statSync(p);
    n += st.isDirectory() ? dirSize(p) : st.nlink > 1 ? 0 : st.size;
  }
  return n;
}

const runs = Number(process.env.TRR_BENCH_RUNS ?? 3);
/** Compiles a C program written into the work directory. */
function compileC(name, source, flags = []) {
  const src = join(work, `${name}.c`);
  fs.writeFileSync(src, source);
  const bin = join(work, name);
  const cc = spawnSync('cc', ['-O1', '-o', bin, src, ...flags], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(cc.stderr);
  return bin;
}
const getppidLoop = compileC('getppid', '#include <unistd.h>\nint main(void) { long s = 0; for (int i = 0; i < 100000; i++) s += getppid(); return s == 0; }\n');
// Two threads that take turns on one mutex: every hand-over is a futex wait and wake.
const mutexContend = compileC('mutex', [
  '#include <pthread.h>',
  'static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;',
  'static volatile long counter;',
  'static void *work(void *arg) { (void)arg; for (int i = 0; i < 200000; i++) { pthread_mutex_lock(&m); counter++; pthread_mutex_unlock(&m); } return 0; }',
  'int main(void) { pthread_t a, b; pthread_create(&a, 0, work, 0); pthread_create(&b, 0, work, 0); pthread_join(a, 0); pthread_join(b, 0); return counter != 400000; }',
].join('\n'), ['-pthread']);
// A small C project for `make -j2`: several compiler processes at once (-B rebuilds everything every run).
const project = join(work, 'project');
fs.mkdirSync(project);
const units = Array.from({ length: 6 }, (_, i) => `u${i}`);
for (const u of units) fs.writeFileSync(join(project, `${u}.c`), `#include <stdio.h>\nint ${u}(int x) { char b[32]; snprintf(b, sizeof b, "%d", x); return (int)b[0] + x; }\n`);
fs.writeFileSync(join(project, 'main.c'), `${units.map((u) => `int ${u}(int);`).join(' ')}\nint main(void) { return (${units.map((u) => `${u}(1)`).join(' + ')}) == 0; }\n`);
fs.writeFileSync(join(project, 'Makefile'), `prog: main.o ${units.map((u) => `${u}.o`).join(' ')}\n\tcc -o $@ $^\n%.o: %.c\n\tcc -O1 -c -o $@ $<\n`);
const sqliteInserts = (n) => Array.from({ length: n }, (_, i) => `insert into t values (${i});`).join(' ');
const workloads = [
  { name: 'getppid loop (100k calls)', cmd: getppidLoop, args: [] },
  { name: 'compute (C, few syscalls)', cmd: program('compute'), args: ['8'] },
  { name: 'manyfiles (C, 2000 files)', cmd: program('manyfiles'), args: ['2000'] },
  { name: 'sqlite3 (500 inserts)', cmd: 'sqlite3', args: [':memory:', Array.from({ length: 500 }, (_, i) => `create table if not exists t(a); insert into t values (${i}); select count(*) from t;`).join(' ')] },
  // Each insert is its own transaction: a journal file created, written, fsynced and deleted.
  { name: 'sqlite3 file (3000 inserts)', cmd: 'sqlite3', args: [join(work, 'bench.db'), `drop table if exists t; create table t(a); ${sqliteInserts(3000)} select count(*) from t;`] },
  { name: 'python3 -c (startup)', cmd: '/usr/bin/python3', args: ['-c', 'import json, os; print(len(json.dumps(dict(os.environ))))'] },
  { name: 'make -j2 (7 C files)', cmd: 'make', args: ['-s', '-B', '-j2', '-C', project] },
  { name: 'mutex, 2 threads (400k)', cmd: mutexContend, args: [] },
];

// TRR_BENCH_ONLY=reverse: only the reverse-execution measurements; =watch: only the reverse watches; =table: only the table of workloads; =chaos: only bench/chaos-race.mjs.
const only = process.env.TRR_BENCH_ONLY;
/** How often chaos_race's race shows natively, under trr and under trr record --chaos (bench/chaos-race.mjs, about 2 minutes). */
const chaosRace = () => spawnSync(process.execPath, [join(root, 'bench', 'chaos-race.mjs')], { stdio: 'inherit' });
if (only === 'chaos') {
  chaosRace();
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}
const rows = [];
for (const w of only === 'reverse' || only === 'watch' ? [] : workloads) {
  const native = median(Array.from({ length: runs }, () => time(w.cmd, w.args)));
  const trace = join(work, 'trace');
  const measured = {};
  for (const mode of ['on', 'off']) {
    const rec = [];
    const rep = [];
    let size = 0;
    for (let i = 0; i < runs; i++) {
      rmSync(trace, { recursive: true, force: true });
      rec.push(time(process.execPath, [trr, 'record', ...(mode === 'off' ? ['-n'] : []), '-o', trace, w.cmd, ...w.args]));
      rep.push(time(process.execPath, [trr, 'replay', '-a', trace]));
      size = dirSize(trace);
    }
    measured[mode] = { rec: median(rec), rep: median(rep), size };
  }
  const strace = median(Array.from({ length: runs }, () => time('strace', ['-f', '-o', '/dev/null', w.cmd, ...w.args])));
  rows.push({ w, native, on: measured.on, off: measured.off, strace });
}

const pad = (s, n) => String(s).padEnd(n);
const num = (s, n) => String(s).padStart(n);
const x = (v) => (v >= 10 ? v.toFixed(0) : v.toFixed(1)) + 'x';
if (rows.length) console.log(`trr benchmark, ${new Date().toISOString().slice(0, 10)}, median of ${runs} runs; ratios are to the native run`);
console.log(`${pad('', 38)}${pad('  syscall buffer', 18)}${pad('  no buffer (-n)', 18)}`);
console.log(`${pad('workload', 28)}${num('native s', 10)}${num('record', 9)}${num('replay', 9)}${num('record', 9)}${num('replay', 9)}${num('strace', 9)}${num('trace KiB/s', 13)}`);
for (const r of rows) {
  console.log(
    `${pad(r.w.name, 28)}${num(r.native.toFixed(3), 10)}${num(x(r.on.rec / r.native), 9)}${num(x(r.on.rep / r.native), 9)}${num(x(r.off.rec / r.native), 9)}${num(x(r.off.rep / r.native), 9)}${num(x(r.strace / r.native), 9)}${num((r.on.size / 1024 / r.native).toFixed(0), 13)}`,
  );
}
if (rows.length) {
  const geo = (f) => Math.exp(rows.reduce((a, r) => a + Math.log(f(r)), 0) / rows.length);
  console.log(
    `${pad('geometric mean', 28)}${num('', 10)}${num(x(geo((r) => r.on.rec / r.native)), 9)}${num(x(geo((r) => r.on.rep / r.native)), 9)}${num(x(geo((r) => r.off.rec / r.native)), 9)}${num(x(geo((r) => r.off.rep / r.native)), 9)}${num(x(geo((r) => r.strace / r.native)), 9)}`,
  );
}
if (only === 'table') {
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}
// Reverse execution: latency of reverse-continue and reverse-stepi on a
// recording of a long-running loop, through the same Debugger the gdb
// server uses (with its automatic checkpoints).
if (only !== 'watch') {
  const { Debugger } = await import(join(root, 'dist/src/replay/debugger.js'));
  const { TraceReader } = await import(join(root, 'dist/src/trace/trace-stream.js'));
  const bin = compileC('loop', [
    '#include <stdio.h>', '#include <unistd.h>',
    'volatile unsigned long acc;',
    '__attribute__((noinline)) void marker(unsigned long i) { acc ^= i; }',
    'int main(void) {',
    '  for (unsigned long i = 0; i < 600000000UL; i++) {',
    '    acc += i * 2654435761UL;',
    '    if (i % 40000000 == 0) marker(i);',
    '    if (i % 20000 == 0) getppid();',
    '  }',
    '  printf("%lu\\n", acc);',
    '  return 0;',
    '}',
  ].join('\n'), ['-g']);
  const native = median(Array.from({ length: runs }, () => time(bin, [])));
  const trace = join(work, 'loop-trace');
  rmSync(trace, { recursive: true, force: true });
  // Without the syscall buffer: reverse-stepi counts loop iterations between two
  // events, and a buffered stretch of 1024 getppid calls is 20M iterations here.
  time(process.execPath, [trr, 'record', '-n', '-o', trace, bin]);
  const nm = spawnSync('nm', [bin], { encoding: 'utf8' }).stdout;
  const marker = 0x555555554000n + BigInt('0x' + /^([0-9a-f]+) T marker$/m.exec(nm)[1]);
  const clock = (f) => {
    const t0 = process.hrtime.bigint();
    f();
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  const dbg = new Debugger(TraceReader.open(trace));
  const toEnd = clock(() => dbg.resume({ direction: 'forward', unit: 'continue' }));
  const images = dbg.automaticCheckpoints;
  dbg.addBreakpoint(marker);
  const rc = clock(() => dbg.resume({ direction: 'reverse', unit: 'continue' }));
  const rsFirst = clock(() => dbg.resume({ direction: 'reverse', unit: 'instruction' }));
  const rc2 = clock(() => dbg.resume({ direction: 'reverse', unit: 'continue' }));
  for (let i = 0; i < 12; i++) dbg.resume({ direction: 'forward', unit: 'instruction' }); // out of marker(), into the loop body
  const rsLoop = clock(() => dbg.resume({ direction: 'reverse', unit: 'instruction' }));
  dbg.removeBreakpoint(marker);
  const rcStart = clock(() => dbg.resume({ direction: 'reverse', unit: 'continue' }));
  dbg.close();
  console.log('');
  console.log(`reverse execution on a ${native.toFixed(2)} s loop recorded with -n (${TraceReader.open(trace).eventCount} events), ${images} automatic checkpoints:`);
  console.log(`  replay to the end (taking the checkpoints)                 ${toEnd.toFixed(2)} s`);
  console.log(`  reverse-continue from the end to the last breakpoint hit   ${rc.toFixed(2)} s`);
  console.log(`  reverse-continue to the hit before                         ${rc2.toFixed(2)} s`);
  console.log(`  reverse-continue with nothing to hit, back to the start    ${rcStart.toFixed(2)} s`);
  console.log(`  reverse-stepi inside the loop body                         ${rsLoop.toFixed(2)} s`);
  console.log(`  reverse-stepi at an instruction first reached in its run   ${rsFirst.toFixed(2)} s  (single-steps ~380k instructions)`);
}

// The cases of issue 11, each timed through the Debugger (as the gdb server
// drives it) with a limit: reverse-continue from the end of the recording to
// the one write of a watched global, early in a loop that runs about 0.2 s
// and about 3 s natively (the loop writes another global on the same page
// all along), and reverse-stepi inside a loop of 100,000 iterations without
// any syscall.
{
  const { Debugger } = await import(join(root, 'dist/src/replay/debugger.js'));
  const { TraceReader } = await import(join(root, 'dist/src/trace/trace-stream.js'));
  const LIMIT_S = Number(process.env.TRR_BENCH_LIMIT_S ?? 120);
  const build = (name, lines) => compileC(name, lines.join('\n') + '\n', ['-g']);
  const symbol = (bin, name) => 0x555555554000n + BigInt('0x' + new RegExp(`^([0-9a-f]+) [TBD] ${name}$`, 'm').exec(spawnSync('nm', [bin], { encoding: 'utf8' }).stdout)[1]);
  /** Seconds `f` took, or '>LIMIT' when the limit interrupted it. */
  const timed = (dbg, f) => {
    const t0 = process.hrtime.bigint();
    const deadline = performance.now() + LIMIT_S * 1000;
    dbg.interruptRequested = () => performance.now() > deadline;
    const stop = f();
    dbg.interruptRequested = undefined;
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    return { s, stop, text: stop.kind === 'interrupted' ? `> ${LIMIT_S} s (stopped)` : `${s.toFixed(2)} s` };
  };
  const watchBin = build('watched', [
    '#include <stdio.h>', '#include <stdlib.h>', '#include <unistd.h>',
    'unsigned long g_watched;', 'volatile unsigned long acc;',
    'int main(int argc, char **argv) {',
    '  unsigned long n = strtoul(argv[1], 0, 10);',
    '  g_watched = 42;',
    '  for (unsigned long i = 0; i < n; i++) { acc += i * 2654435761UL; if (i % 20000 == 0) getppid(); }',
    '  printf("%lu %lu\\n", acc, g_watched);',
    '  return 0;',
    '}',
  ]);
  const calibrate = (target) => {
    const probe = 20_000_000;
    const t = median(Array.from({ length: 3 }, () => time(watchBin, [String(probe)])));
    return Math.max(1, Math.round((probe * target) / t));
  };
  console.log('');
  console.log(`reverse execution (issue 11), each limited to ${LIMIT_S} s:`);
  for (const target of [0.2, 3]) {
    const n = calibrate(target);
    const native = median(Array.from({ length: runs }, () => time(watchBin, [String(n)])));
    const trace = join(work, `watched-${target}`);
    rmSync(trace, { recursive: true, force: true });
    time(process.execPath, [trr, 'record', '-n', '-o', trace, watchBin, String(n)]);
    const dbg = new Debugger(TraceReader.open(trace));
    const end = timed(dbg, () => dbg.resume({ direction: 'forward', unit: 'continue' }));
    dbg.addWatchpoint({ address: symbol(watchBin, 'g_watched'), length: 8, kind: 'write' });
    const rc = timed(dbg, () => dbg.resume({ direction: 'reverse', unit: 'continue' }));
    const found = rc.stop.kind === 'watchpoint' ? '' : ` (stopped at ${rc.stop.kind})`;
    dbg.close();
    console.log(`  reverse-continue to the write of a watched global, ${native.toFixed(2)} s loop: ${rc.text}${found}  (replay to the end first: ${end.text})`);
  }
  const loopBin = build('syscall_free', [
    '#include <stdio.h>', '#include <unistd.h>',
    'volatile unsigned long acc;',
    '__attribute__((noinline)) void marker(unsigned long i) { acc ^= i; }',
    'int main(void) {',
    '  getppid();',
    '  for (unsigned long i = 0; i < 100000; i++) { acc += i; if (i == 99990) marker(i); }',
    '  getppid();',
    '  printf("%lu\\n", acc);',
    '  return 0;',
    '}',
  ]);
  const trace = join(work, 'syscall-free');
  rmSync(trace, { recursive: true, force: true });
  time(process.execPath, [trr, 'record', '-n', '-o', trace, loopBin]);
  const dbg = new Debugger(TraceReader.open(trace));
  dbg.addBreakpoint(symbol(loopBin, 'marker'));
  dbg.resume({ direction: 'forward', unit: 'continue' });
  dbg.removeBreakpoint(symbol(loopBin, 'marker'));
  for (let i = 0; i < 8; i++) dbg.resume({ direction: 'forward', unit: 'instruction' }); // out of marker(), back into the loop
  const rs = timed(dbg, () => dbg.resume({ direction: 'reverse', unit: 'instruction' }));
  const rs2 = timed(dbg, () => dbg.resume({ direction: 'reverse', unit: 'instruction' }));
  dbg.close();
  console.log(`  reverse-stepi in a syscall-free loop, 100,000 iterations since the last syscall: ${rs.text}, again: ${rs2.text}`);

  // The same with 41 million iterations since the last syscall. Counting the
  // visits of the loop is one ptrace stop per iteration and is not
  // interruptible inside the run, so it runs in a child process that is
  // killed at the limit.
  {
    const bigBin = build('syscall_free_41m', [
      '#include <stdio.h>', '#include <unistd.h>',
      'volatile unsigned long acc;',
      '__attribute__((noinline)) void marker(unsigned long i) { acc ^= i; }',
      'int main(void) {',
      '  getppid();',
      '  for (unsigned long i = 0; i < 41000000; i++) { acc += i; if (i == 40999990) marker(i); }',
      '  getppid();',
      '  printf("%lu\\n", acc);',
      '  return 0;',
      '}',
    ]);
    const bigTrace = join(work, 'syscall-free-41m');
    rmSync(bigTrace, { recursive: true, force: true });
    time(process.execPath, [trr, 'record', '-n', '-o', bigTrace, bigBin]);
    const child = [
      `const { Debugger } = await import(${JSON.stringify(join(root, 'dist/src/replay/debugger.js'))});`,
      `const { TraceReader } = await import(${JSON.stringify(join(root, 'dist/src/trace/trace-stream.js'))});`,
      `const dbg = new Debugger(TraceReader.open(${JSON.stringify(bigTrace)}));`,
      `dbg.addBreakpoint(${symbol(bigBin, 'marker')}n); dbg.resume({ direction: 'forward', unit: 'continue' }); dbg.removeBreakpoint(${symbol(bigBin, 'marker')}n);`,
      `for (let i = 0; i < 8; i++) dbg.resume({ direction: 'forward', unit: 'instruction' });`,
      `const t0 = performance.now(); dbg.resume({ direction: 'reverse', unit: 'instruction' });`,
      `process.stdout.write(String((performance.now() - t0) / 1000)); dbg.close();`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8', timeout: LIMIT_S * 1000, killSignal: 'SIGKILL' });
    const text = r.status === 0 ? `${Number(r.stdout).toFixed(2)} s` : r.signal ? `> ${LIMIT_S} s (no answer, killed)` : `failed: ${r.stderr.trim().split('\n').pop()}`;
    console.log(`  reverse-stepi in a syscall-free loop, 41,000,000 iterations since the last syscall: ${text}`);
  }

  // Through real gdb (as a user sees it), with the default checkpoint
  // interval: the seconds between `shell date` marks around the command.
  const gdbTimed = (trace, lines) => {
    const mark = 'shell date +%s.%N';
    const file = join(work, 'timed.gdb');
    fs.writeFileSync(file, lines.map((l) => (l === 'MARK' ? mark : l)).join('\n') + '\n');
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [trr, 'replay', trace, '--', '-nx', '-batch', '-x', file], { cwd: work, encoding: 'utf8', timeout: LIMIT_S * 1000 * 2, killSignal: 'SIGKILL' });
    const total = Number(process.hrtime.bigint() - t0) / 1e9;
    const marks = [...r.stdout.matchAll(/^(\d{9,}\.\d+)$/gm)].map((m) => Number(m[1]));
    return { out: `${r.stdout}\n${r.stderr}`, s: marks.length >= 2 ? marks[1] - marks[0] : undefined, total, killed: r.signal !== null };
  };
  // The README's story on a Rust program: watch -l a struct field (on the stack), reverse-continue to the write.
  {
    const ledger = program('rust_ledger');
    const ledgerTrace = join(work, 'ledger');
    rmSync(ledgerTrace, { recursive: true, force: true });
    spawnSync(process.execPath, [trr, 'record', '-o', ledgerTrace, ledger], { cwd: work, stdio: 'ignore' }); // it aborts (exit 134), as it should
    const g = gdbTimed(ledgerTrace, ['continue', 'frame function rust_ledger::main', 'watch -l accounts[0].balance', 'MARK', 'reverse-continue', 'MARK']);
    const right = /Old value = -9\s+New value = 93/.test(g.out);
    console.log(`  gdb, Rust program: watch -l a struct field, reverse-continue to the write: ${g.s === undefined ? (g.killed ? `> ${2 * LIMIT_S} s (killed)` : 'failed') : `${g.s.toFixed(2)} s`}${right ? '' : ' (WRONG STOP)'}`);
  }
  // A conditional breakpoint going backwards: gdb steps back off each hit whose condition is false (a reverse-stepi) and reverse-continues.
  {
    const condBin = build('cond_hits', [
      '#include <stdio.h>', '#include <stdlib.h>', '#include <unistd.h>',
      'volatile unsigned long acc;',
      '__attribute__((noinline)) void hit(unsigned long i) { acc ^= i; }',
      'int main(void) {',
      '  for (unsigned long i = 0; i < 100000000UL; i++) { acc += i * 2654435761UL; if (i % 1000000 == 0) hit(i); if (i % 20000 == 0) getppid(); }',
      '  printf("%lu\\n", acc);',
      '  return 0;',
      '}',
    ]);
    const condTrace = join(work, 'cond-hits');
    rmSync(condTrace, { recursive: true, force: true });
    time(process.execPath, [trr, 'record', '-n', '-o', condTrace, condBin]);
    const g = gdbTimed(condTrace, ['continue', 'break hit if i == 95000000', 'MARK', 'reverse-continue', 'MARK', 'print i']);
    const right = /^\$1 = 95000000$/m.test(g.out);
    console.log(`  gdb, conditional breakpoint going backwards past 4 false hits (events every 20,000 iterations): ${g.s === undefined ? (g.killed ? `> ${2 * LIMIT_S} s (killed)` : 'failed') : `${g.s.toFixed(2)} s, ${(g.s / 5).toFixed(2)} s per hit`}${right ? '' : ' (WRONG STOP)'}`);
  }
}

// Asynchronous points (docs/ARCHITECTURE.md, "Asynchronous points"): record
// and replay ratios of programs whose signals and thread switches land in
// the middle of user code, and the candidate stops replay made per point
// (TRR_LOG=async reports each point found and each teleport).
if (only !== 'watch') {
  const build = (name, lines) => compileC(name, lines.join('\n') + '\n', ['-pthread']);
  const timerSpin = build('timer_spin', [
    '#include <signal.h>', '#include <sys/time.h>',
    'static volatile int ticks;', 'static void on(int s) { (void)s; ticks++; }',
    'int main(void) { signal(SIGALRM, on); struct itimerval v = {{0, 1000}, {0, 1000}}; setitimer(ITIMER_REAL, &v, 0);',
    '  while (ticks < 300) {} return 0; }',
  ]);
  const timerCompute = build('timer_compute', [
    '#include <signal.h>', '#include <sys/time.h>',
    'static volatile int ticks; static volatile unsigned long sink;', 'static void on(int s) { (void)s; ticks++; }',
    'int main(void) { signal(SIGPROF, on); struct itimerval v = {{0, 1000}, {0, 1000}}; setitimer(ITIMER_PROF, &v, 0);',
    '  unsigned long x = 1; while (ticks < 300) x = x * 6364136223846793005UL + 1; sink = x; return 0; }',
  ]);
  const pingPong = build('ping_pong', [
    '#include <pthread.h>',
    'static volatile int turn;',
    'static void *w(void *a) { (void)a; for (int r = 0; r < 100; r++) { while (turn != 1) {} turn = 0; } return 0; }',
    'int main(void) { pthread_t t; pthread_create(&t, 0, w, 0); for (int r = 0; r < 100; r++) { turn = 1; while (turn != 0) {} } pthread_join(t, 0); return 0; }',
  ]);
  const twoCompute = build('two_compute', [
    '#include <pthread.h>',
    'static volatile unsigned long sink[2];',
    'static void *w(void *a) { long id = (long)a; unsigned long x = id; for (long i = 0; i < 300000000L; i++) x = x * 6364136223846793005UL + 1; sink[id] = x; return 0; }',
    'int main(void) { pthread_t t; pthread_create(&t, 0, w, (void *)1); w(0); pthread_join(t, 0); return 0; }',
  ]);
  const asyncLoads = [
    { name: '1 kHz SIGALRM, spin-wait', cmd: timerSpin },
    { name: '1 kHz SIGPROF, computing', cmd: timerCompute },
    { name: 'two threads, spin ping-pong', cmd: pingPong },
    { name: 'two threads, computing', cmd: twoCompute },
  ];
  console.log('');
  console.log('asynchronous points (signals and preemption in user code), syscall buffer on:');
  console.log(`${pad('workload', 30)}${num('native s', 10)}${num('record', 9)}${num('replay', 9)}${num('points', 8)}${num('teleports', 11)}${num('stops/point', 13)}`);
  for (const w of asyncLoads) {
    const native = median(Array.from({ length: runs }, () => time(w.cmd, [])));
    const trace = join(work, 'async-trace');
    const rec = [];
    const rep = [];
    let points = 0;
    let candidates = 0;
    let teleports = 0;
    for (let i = 0; i < runs; i++) {
      rmSync(trace, { recursive: true, force: true });
      rec.push(time(process.execPath, [trr, 'record', '-o', trace, w.cmd]));
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [trr, 'replay', '-a', trace], { cwd: work, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, TRR_LOG: 'async' } });
      rep.push(Number(process.hrtime.bigint() - t0) / 1e9);
      if (r.status !== 0) throw new Error(`replay of ${w.name} failed: ${r.stderr.split('\n').filter((l) => !l.startsWith('[async]')).join('\n')}`);
      const found = [...r.stderr.matchAll(/found at candidate (\d+)/g)].map((m) => Number(m[1]));
      points = found.length;
      candidates = found.reduce((a, b) => a + b, 0);
      teleports = (r.stderr.match(/teleported/g) ?? []).length;
    }
    console.log(`${pad(w.name, 30)}${num(native.toFixed(3), 10)}${num(x(median(rec) / native), 9)}${num(x(median(rep) / native), 9)}${num(points, 8)}${num(teleports, 11)}${num(points ? (candidates / points).toFixed(1) : '-', 13)}`);
  }
}

if (only === undefined) chaosRace();
rmSync(work, { recursive: true, force: true });
