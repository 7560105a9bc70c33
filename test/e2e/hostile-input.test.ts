// Fail loudly, lose nothing: a full disk, programs that cannot be executed,
// hostile trace and output directories, bad environments, empty traces and a
// different CPU. Each gets a one-paragraph message and a non-zero status (or
// a warning), never a stack trace or a hang, and no recorded event is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, truncateSync, writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { assertCleanError, run, saveLog, trr, trrBin, withOutputDir } from '../support/harness.js';
import { TraceReader, TraceWriter } from '../../src/trace/trace-stream.js';
import { TRACE_FORMAT_VERSION, type Header } from '../../src/trace/format.js';
import { FileError } from '../../src/util/errors.js';

const asRoot = process.getuid?.() === 0;

/** Runs `body` with a tmpfs of `size` mounted on DIR/name; its contents are copied to DIR/name-copy for a failing test to keep. */
async function withTmpfs(dir: string, name: string, size: string, body: (mnt: string) => void | Promise<void>): Promise<void> {
  const mnt = join(dir, name);
  mkdirSync(mnt, { recursive: true });
  const m = run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt]);
  assert.equal(m.status, 0, m.stderr);
  try {
    await body(mnt);
  } finally {
    cpSync(mnt, `${mnt}-copy`, { recursive: true });
    run('umount', ['--lazy', mnt]); // lazy: a failed body may still hold files open there
  }
}

/** Records with `mem` of random (incompressible) bytes, so that a small disk fills quickly. */
const bulky = (i: number) => ({ kind: 'syscall' as const, tid: 7, nr: 0, regs: Buffer.alloc(216, 1), result: BigInt(i), mem: [[0x1000n, randomBytes(100 * 1024)] as const] });
const header: Header = {
  format: 'trr-trace', version: TRACE_FORMAT_VERSION, trrVersion: 'test', created: 'now', argv: ['p'], cwd: '/', env: [],
  stackLimit: '8388608', kernel: 'k', cpuid: {}, features: [],
};

const ddArgs = ['dd', 'if=/dev/urandom', 'of=/dev/null', 'bs=64k', 'count=500'];

test('a full disk stops the recording with a message and kills the program; the trace replays to its last complete event', { skip: !asRoot && 'needs root to mount a tmpfs' }, async () => {
  await withOutputDir('hostile-enospc', (dir) =>
    withTmpfs(dir, 'small', '4m', (mnt) => {
      const trace = join(mnt, 't');
      const rec = trr(['record', '-o', trace, ...ddArgs], { cwd: dir, timeoutMs: 60_000 });
      saveLog(dir, 'record', rec);
      const m = assertCleanError(
        rec,
        /^trr: cannot write to the trace \S+small\/t \(its (journal|events file)\): No space left on device\. Recording stopped after event (\d+) and the recorded program was killed\. The trace is incomplete: `trr replay -a \S+` replays it up to its last complete event\.\n$/,
        1,
      );
      const last = Number(m[2]);
      const ps = trr(['ps', trace]);
      const pid = Number(/^(\d+)\t/m.exec(ps.stdout)?.[1]);
      assert.ok(pid > 0, ps.stdout);
      assert.ok(!existsSync(`/proc/${pid}`) || !readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('dd\0'), 'the recorded program is dead');
      const rep = trr(['replay', '-a', trace], { timeoutMs: 60_000 });
      saveLog(dir, 'replay', rep);
      assert.equal(rep.status, 1, rep.stderr);
      assert.match(rep.stderr, new RegExp(`is incomplete \\(the recording was cut off after event ${last}\\)`));
      assert.match(rep.stderr, new RegExp(`replay reached the last complete event \\(${last}\\)`));
      assert.doesNotMatch(rep.stderr, /internal error|corrupt/);
    }),
  );
});

test('a copy into files/ that fails half-way leaves no piece of it behind, and the trace stays readable', { skip: !asRoot && 'needs root to mount a tmpfs' }, async () => {
  await withOutputDir('hostile-enospc-files', (dir) =>
    withTmpfs(dir, 'tiny', '1m', (mnt) => {
      const trace = join(mnt, 't');
      // A libc of its own, outside the system's directories and on another file system: the trace must copy it (2 MB, into 1 MB).
      const libs = join(dir, 'libs');
      mkdirSync(libs);
      copyFileSync('/lib/x86_64-linux-gnu/libc.so.6', join(libs, 'libc.so.6'));
      const rec = trr(['record', '-o', trace, ...ddArgs], { cwd: dir, timeoutMs: 60_000, env: { ...process.env, LD_LIBRARY_PATH: libs } });
      saveLog(dir, 'record', rec);
      assertCleanError(rec, /cannot write to the trace \S+ \(the copy of \S+libc\.so\.6\): No space left on device\. Recording stopped after event \d+/, 1);
      assert.deepEqual(readdirSync(join(trace, 'files')).filter((f) => f.includes('libc')), []);
      const rep = trr(['replay', '-a', trace], { timeoutMs: 60_000 });
      assert.equal(rep.status, 1, rep.stderr);
      assert.match(rep.stderr, /replay reached the last complete event/);
      assert.equal(trr(['dump', trace]).status, 0);
      const ls = trr(['ls'], { env: { ...process.env, TRR_TRACE_DIR: mnt } });
      assert.equal(ls.status, 0, ls.stderr);
      assert.match(ls.stdout, /^t\t/m);
    }),
  );
});

test('a journal entry or frame that fails half-way is cut back: the reader gets every record appended', { skip: !asRoot && 'needs root to mount a tmpfs' }, async () => {
  await withOutputDir('hostile-enospc-writer', async (dir) => {
    // 1 MiB: the journal fills before a frame is due; 2 MiB: the first frame does not fit beside the journal.
    for (const [size, where] of [['1m', 'its journal'], ['2m', 'its events file']] as const) {
      await withTmpfs(dir, `fs-${size}`, size, (mnt) => {
        const w = TraceWriter.create(join(mnt, 't'), header);
        assert.throws(() => {
          for (let i = 0; i < 100; i++) w.append(bulky(i));
        }, (e: Error) => e instanceof FileError && e.message.includes(`(${where}): No space left on device`));
        const appended = w.eventCount;
        assert.throws(() => w.append(bulky(0)), FileError, 'a failed writer stays failed');
        w.close();
        const r = TraceReader.open(join(mnt, 't'));
        assert.equal(r.eventCount, appended);
        assert.deepEqual([...r.scan()].map((x) => x.index), [...Array(appended).keys()]);
        assert.equal(r.incomplete, true);
      });
    }
  });
});

test('the trace writer creates every file itself, private whatever the umask: a link planted in its directory is never followed', async () => {
  await withOutputDir('hostile-writer-link', (dir) => {
    const planted = join(dir, 'planted');
    mkdirSync(planted);
    symlinkSync(join(dir, 'victim'), join(planted, 'journal'));
    assert.throws(() => TraceWriter.create(planted, header), (e: Error) => e instanceof FileError && /cannot create \S+journal: File exists/.test(e.message));
    assert.ok(!existsSync(join(dir, 'victim')));
    writeFileSync(join(dir, 'data'), 'data', { mode: 0o644 });
    const old = process.umask(0);
    try {
      const w = TraceWriter.create(join(dir, 't'), header);
      w.storeFile('/bin/true', 'true');
      w.storeFile(join(dir, 'data'), 'data');
      w.close();
    } finally {
      process.umask(old);
    }
    assert.deepEqual(modes(join(dir, 't')).map(([p, m]) => [p.slice(dir.length + 1), m.toString(8)]), [
      ['t', '700'], ['t/events', '600'], ['t/files', '700'], ['t/files/0-true', '700'], ['t/files/1-data', '600'], ['t/header.json', '600'], ['t/journal', '600'],
    ]);
  });
});

test('a program that cannot be executed gets the shell\'s message and status, and leaves no trace', async () => {
  await withOutputDir('hostile-exec', (dir) => {
    const env = { ...process.env, TRR_TRACE_DIR: join(dir, 'traces') };
    assert.equal(trr(['record', '/bin/true'], { env, cwd: dir }).status, 0);
    const latest = readlinkSync(join(dir, 'traces', 'latest-trace'));
    writeFileSync(join(dir, 'badinterp'), '#!/nonexistent/interp\necho hi\n', { mode: 0o755 });
    writeFileSync(join(dir, 'garbage'), 'this is ( not a program\n', { mode: 0o755 });
    writeFileSync(join(dir, 'noexec'), 'echo hi\n', { mode: 0o644 });
    mkdirSync(join(dir, 'adir'));
    const cases: [string, number, RegExp][] = [
      ['./badinterp', 127, /^trr: \.\/badinterp: cannot execute: required file not found \(its interpreter \/nonexistent\/interp does not exist\)\.\n$/],
      ['./garbage', 126, /^trr: \.\/garbage: cannot execute: Exec format error \(it is neither a program for this machine nor a script starting with #!\)\.\n$/],
      ['./noexec', 126, /^trr: \.\/noexec: cannot execute: Permission denied\.\n$/],
      ['./missing', 127, /^trr: \.\/missing: cannot execute: No such file or directory\.\n$/],
      ['./adir', 126, /^trr: \.\/adir: cannot execute: Is a directory\.\n$/],
      ['no-such-command-for-trr', 127, /^trr: no-such-command-for-trr: command not found \(searched \$PATH\)\.\n$/],
    ];
    for (const [prog, status, message] of cases) {
      const r = trr(['record', prog], { env, cwd: dir });
      saveLog(dir, `record-${prog.replace(/\W/g, '')}`, r);
      assertCleanError(r, message, status);
      // The status is the one a shell gives (which would run ./garbage as a script instead).
      if (prog !== './garbage') assert.equal(run('sh', ['-c', prog], { cwd: dir }).status, status, `sh -c ${prog}`);
    }
    assert.deepEqual(readdirSync(join(dir, 'traces')).sort(), ['latest-trace', 'true-0']);
    assert.equal(readlinkSync(join(dir, 'traces', 'latest-trace')), latest);
  });
});

/** Every path under `dir` with its permission bits. */
function modes(dir: string): [string, number][] {
  const out: [string, number][] = [[dir, lstatSync(dir).mode & 0o7777]];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (lstatSync(p).isDirectory()) out.push(...modes(p));
    else out.push([p, lstatSync(p).mode & 0o7777]);
  }
  return out;
}

test('traces are private whatever the umask, and trr never writes where a planted link points', async () => {
  await withOutputDir('hostile-privacy', (dir) => {
    const traces = join(dir, 'traces');
    const env = { ...process.env, TRR_TRACE_DIR: traces };
    mkdirSync(traces);
    // A dangling link where the first trace name would go: skipped, and its target never created.
    symlinkSync(join(dir, 'victim'), join(traces, 'true-0'));
    const rec = run('sh', ['-c', 'umask 000 && exec "$0" "$@"', process.execPath, trrBin, 'record', '/bin/true'], { env, cwd: dir });
    saveLog(dir, 'record', rec);
    assert.equal(rec.status, 0, rec.stderr);
    assert.equal(rec.stderr, '');
    assert.ok(!existsSync(join(dir, 'victim')));
    const trace = join(traces, 'true-1');
    assert.equal(readlinkSync(join(traces, 'latest-trace')), trace);
    for (const [p, mode] of modes(trace)) {
      if (lstatSync(p).isDirectory()) assert.equal(mode, 0o700, p);
      // A hard link is the original's inode and keeps its mode; the trace's directories keep it private.
      else if (lstatSync(p).nlink > 1) assert.equal(dirname(p), join(trace, 'files'), p);
      else assert.ok(mode === 0o600 || mode === 0o700, `${p}: ${mode.toString(8)}`);
    }
    // /usr/bin/true is a system file: used in place, not copied (the unit test above checks the mode of copies of programs).
    assert.ok(!existsSync(join(trace, 'files', '0-true')));
    assert.equal((JSON.parse(readFileSync(join(trace, 'files.json'), 'utf8')) as Record<string, { how: string }>)['0-true']?.how, 'reference');
    assert.equal(trr(['replay', '-a'], { env }).status, 0);

    // latest-trace that is not a link is left alone, with a warning.
    const root2 = join(dir, 'traces2');
    mkdirSync(root2);
    writeFileSync(join(root2, 'latest-trace'), 'not a link\n');
    const r2 = trr(['record', '/bin/true'], { env: { ...process.env, TRR_TRACE_DIR: root2 } });
    assert.equal(r2.status, 0, r2.stderr);
    assert.match(r2.stderr, /^trr: warning: \S+latest-trace is not a symbolic link, so trr leaves it alone; it does not point at the new trace \S+true-0\.\n$/);
    assert.equal(readFileSync(join(root2, 'latest-trace'), 'utf8'), 'not a link\n');

    // -o: a non-empty directory is refused, an empty one is used, a dangling link is refused.
    const full = join(dir, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep'), 'precious');
    assertCleanError(trr(['record', '-o', full, '/bin/true']), /^trr: refusing to record into \S+full: the directory is not empty \(it holds 1 entry\)\. -o needs a new or empty directory, so that nothing in it is overwritten\.\n$/, 1);
    assert.deepEqual(readdirSync(full), ['keep']);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    assert.equal(trr(['record', '-o', empty, '/bin/true']).status, 0);
    assert.equal(statSync(empty).mode & 0o777, 0o700);
    symlinkSync(join(dir, 'victim2'), join(dir, 'dangling'));
    assertCleanError(trr(['record', '-o', join(dir, 'dangling'), '/bin/true']), /cannot record into \S+dangling: it is a symbolic link to nothing/, 1);
    assert.ok(!existsSync(join(dir, 'victim2')));
  });
});

test('bad output and trace directories, a deleted working directory and a missing gdb get a message, not a crash or a hang', async () => {
  await withOutputDir('hostile-environment', (dir) => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const opts = { cwd: dir, timeoutMs: 20_000 };
    assertCleanError(trr(['record', '-o', file, '/bin/true'], opts), /^trr: cannot record into \S+a-file: it is not a directory\. -o names a directory for the trace: a new one, or an empty one\.\n$/, 1);
    const fileRoot = { ...opts, env: { ...process.env, TRR_TRACE_DIR: file } };
    assertCleanError(trr(['record', '/bin/true'], fileRoot), /^trr: cannot use the trace directory \S+a-file \(\$TRR_TRACE_DIR\): \S+a-file is not a directory\.\n$/, 1);
    assertCleanError(trr(['ls'], fileRoot), /^trr: cannot list traces: the trace directory \S+a-file \(\$TRR_TRACE_DIR\) is not a directory\.\n$/, 1);
    assertCleanError(trr(['record', '-o', '/proc/trr-test-output', '/bin/true'], opts), /^trr: cannot create the output directory \/proc\/trr-test-output: No such file or directory\n$/, 1);
    const procRoot = { ...opts, env: { ...process.env, TRR_TRACE_DIR: '/proc/trr-test-traces' } };
    assertCleanError(trr(['record', '/bin/true'], procRoot), /^trr: cannot create the trace directory \/proc\/trr-test-traces \(\$TRR_TRACE_DIR\): No such file or directory\n$/, 1);
    assertCleanError(
      run('sh', ['-c', 'mkdir gone && cd gone && rmdir ../gone && exec "$0" "$@"', process.execPath, trrBin, 'record', '-o', join(dir, 't'), '/bin/true'], opts),
      /^trr: the current directory no longer exists \(it was deleted\); change to an existing directory and run trr again\.\n$/,
      1,
    );
    assert.ok(!existsSync(join(dir, 't')));
    const trace = join(dir, 'trace');
    assert.equal(trr(['record', '-o', trace, '/bin/true'], opts).status, 0);
    assertCleanError(trr(['replay', '-d', '/nonexistent/gdb', trace], opts), /^trr: cannot start the debugger \/nonexistent\/gdb: No such file or directory; name another gdb with -d PATH\.\n$/, 1);
  });
});

test('ps and dump of a trace without any complete event say so', async () => {
  await withOutputDir('hostile-empty-trace', (dir) => {
    const trace = join(dir, 'trace');
    assert.equal(trr(['record', '-o', trace, '/bin/true']).status, 0);
    truncateSync(join(trace, 'events'), 8); // the magic only
    truncateSync(join(trace, 'journal'), 8);
    for (const cmd of ['ps', 'dump', 'replay']) {
      const r = trr(cmd === 'replay' ? [cmd, '-d', '/bin/false', trace] : [cmd, trace], { timeoutMs: 20_000 });
      assertCleanError(r, /^trr: \S+trace holds no complete event: the recording was cut off before the program started, or the trace was truncated\.\n$/, 1);
      assert.equal(r.stdout, '', cmd);
    }
  });
});

test('replay warns once, naming them, when the CPU (vendor, model, features, XSAVE size) differs from the recording\'s; a divergence then says so', async () => {
  await withOutputDir('hostile-cpuid', async (dir) => {
    const trace = join(dir, 'trace');
    assert.equal(trr(['record', '-o', trace, '/bin/echo', 'hi']).status, 0);
    const same = trr(['replay', '-a', trace]);
    assert.equal(same.status, 0, same.stderr);
    assert.equal(same.stderr, '', 'an unmodified trace replays without a warning');
    const headerPath = join(trace, 'header.json');
    const h = JSON.parse(readFileSync(headerPath, 'utf8')) as { cpuid: Record<string, number[]> };
    const flip = (key: string, reg: number, bit: number) => {
      const had = (h.cpuid[key]![reg]! >>> bit) & 1;
      h.cpuid[key]![reg] = (h.cpuid[key]![reg]! ^ (1 << bit)) >>> 0;
      return had ? 'absent when recording, present now' : 'present when recording, absent now';
    };
    const avx512f = flip('7.0', 1, 16);
    const sse42 = flip('1.0', 2, 20);
    const xsave = h.cpuid['d.0']![1]!;
    h.cpuid['d.0']![1] = xsave + 64;
    // Recorded on another vendor's CPU: "AuthenticAMD", family 0xf + 0x8 = 23, model 0x31 = 49, stepping 0, and its brand.
    const words = (text: string) => Array.from({ length: 4 }, (_, i) => Buffer.from(text.padEnd(16, '\0'), 'latin1').readUInt32LE(i * 4));
    h.cpuid['0.0'] = [h.cpuid['0.0']![0]!, Buffer.from('Auth').readUInt32LE(0), Buffer.from('cAMD').readUInt32LE(0), Buffer.from('enti').readUInt32LE(0)];
    h.cpuid['1.0']![0] = (0x8 << 20) | (0x3 << 16) | (0xf << 8) | (0x1 << 4);
    h.cpuid['80000002.0'] = words('AMD EPYC 7B12 64');
    h.cpuid['80000003.0'] = words('-Core Processor');
    h.cpuid['80000004.0'] = words('');
    chmodSync(headerPath, 0o600);
    writeFileSync(headerPath, JSON.stringify(h));
    const r = trr(['replay', '-a', trace]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    const here = /^this CPU differs from the CPU the trace was recorded on \(recorded on AuthenticAMD family 23 model 49 stepping 0 \(AMD EPYC 7B12 64-Core Processor\); replaying on (\S+ family \d+ model \d+ stepping \d+[^;]*)\): /;
    const warning = r.stderr.replace(/^trr: warning: /, '');
    assert.match(warning, here);
    assert.equal(
      warning.replace(here, ''),
      `sse4_2 ${sse42}; avx512f ${avx512f}; the XSAVE area is ${xsave + 64} bytes when recording, ${xsave} now (signal handlers get frames of another size). ` +
        'A program that chose code paths by these features may diverge from the recording (trr cannot trap CPUID on this machine to show it the recorded answers).\n',
    );
    assert.equal(r.stderr.split('\n').length, 2, 'one warning');

    // A replay that diverges on such a CPU names the difference as a likely cause.
    const { tamperTrace } = await import('../support/tamper.js');
    const bad = join(dir, 'diverging');
    assert.ok(tamperTrace(trace, bad, (rec) => (rec.kind === 'syscall' && rec.extra?.hash && rec.extra.stdio === 1 ? { ...rec, extra: { ...rec.extra, hash: Buffer.alloc(20) } } : undefined)) > 0);
    const d = trr(['replay', '-a', bad]);
    assertCleanError(d, /diverged[^]*\nThis replay runs on a CPU that differs from the recording's \(recorded on AuthenticAMD [^]*avx512f [^]*which can explain it/, 3);
  });
});
