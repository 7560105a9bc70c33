// How a trace holds files (src/trace/file-store.ts): system files by
// reference, the program by a hard link; replay checks both and refuses,
// naming the file, when one changed; `trr pack` copies them into the trace,
// which then replays after being moved and after the originals changed, and
// packing again changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertCleanError, buildProgram, manifest, saveLog, trr, withOutputDir } from '../support/harness.js';

interface Ref {
  how: string;
  path: string;
  sha256: string;
  mtime: string;
}
const spec = manifest().find((p) => p.name === 'timeandrandom')!;

function refsOf(trace: string): Record<string, Ref> {
  return JSON.parse(readFileSync(join(trace, 'files.json'), 'utf8')) as Record<string, Ref>;
}

/** Records a private copy of the test program; returns it, the trace and what the recording printed. */
function recordCopy(dir: string): { prog: string; trace: string; stdout: string } {
  const prog = join(dir, 'prog');
  copyFileSync(buildProgram(spec), prog);
  const trace = join(dir, 'trace');
  const rec = trr(['record', '-o', trace, prog], { cwd: dir });
  saveLog(dir, 'record', rec);
  assert.equal(rec.status, 0, rec.stderr);
  return { prog, trace, stdout: rec.stdout };
}

test('pack: system files are used in place and the program hard-linked; pack copies them in, the moved trace replays, a second pack does nothing', async () => {
  await withOutputDir('pack-move', (dir) => {
    const { prog, trace, stdout } = recordCopy(dir);
    const refs = refsOf(trace);
    const libc = Object.entries(refs).find(([, r]) => /\/libc\.so/.test(r.path));
    assert.ok(libc && libc[1].how === 'reference', `libc is not held by reference: ${JSON.stringify(refs)}`);
    assert.ok(!existsSync(join(trace, 'files', libc[0])), 'libc was copied');
    const link = Object.entries(refs).find(([, r]) => r.path === prog);
    assert.ok(link && link[1].how === 'link', 'the program is not hard-linked');
    assert.equal(statSync(join(trace, 'files', link[0])).ino, statSync(prog).ino);

    // A rebuild replaces the program with a new file: the link keeps the recorded one.
    unlinkSync(prog);
    writeFileSync(prog, '#!/bin/sh\necho rebuilt\n', { mode: 0o755 });
    const before = trr(['replay', '-a', trace]);
    assert.equal(before.status, 0, before.stderr);
    assert.equal(before.stdout, stdout);

    const packed = trr(['pack', trace]);
    saveLog(dir, 'pack', packed);
    assert.equal(packed.status, 0, packed.stderr);
    assert.match(packed.stderr, /copied \d+ files \(.*\) into /);
    assert.ok(!existsSync(join(trace, 'files.json')), 'files.json is left after pack');
    assert.ok(existsSync(join(trace, 'files', libc[0])), 'libc was not copied in');
    const listing = () => readdirSync(join(trace, 'files')).sort().map((f) => {
      const st = statSync(join(trace, 'files', f));
      assert.equal(st.nlink, 1, `${f} still shares its inode`);
      return `${f} ${st.ino} ${st.size} ${st.mtimeMs}`;
    });
    const first = listing();
    const again = trr(['pack', trace]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /nothing to pack/);
    assert.deepEqual(listing(), first, 'a second pack changed the trace');

    const moved = join(dir, 'moved');
    renameSync(trace, moved);
    const rep = trr(['replay', '-a', moved]);
    saveLog(dir, 'replay-moved', rep);
    assert.equal(rep.status, 0, rep.stderr);
    assert.equal(rep.stdout, stdout);
    const dump = trr(['dump', moved]);
    assert.equal(dump.status, 0, dump.stderr);
  });
});

test('pack: a file the trace refers to changed in place, or a system file it uses changed: replay refuses, naming it', async () => {
  await withOutputDir('pack-changed', (dir) => {
    const { prog, trace } = recordCopy(dir);
    const pristine = join(dir, 'pristine');
    const refs = refsOf(trace);
    // A system library upgraded in place: the same size, another mtime and contents.
    const [libcBlob, libc] = Object.entries(refs).find(([, r]) => /\/libc\.so/.test(r.path))!;
    writeFileSync(join(trace, 'files.json'), JSON.stringify({ ...refs, [libcBlob]: { ...libc, mtime: '1', sha256: '0'.repeat(64) } }));
    const sys = trr(['replay', '-a', trace]);
    saveLog(dir, 'replay-libc', sys);
    assertCleanError(sys, /libc\.so[^ ]*, which the trace uses in place \(it was not copied into the trace\), is not the file the recording used: its contents changed\. .*trr pack/, 3);
    assert.equal(trr(['pack', trace]).status, 3, 'pack copied a changed file');
    writeFileSync(join(trace, 'files.json'), JSON.stringify(refs));

    // The program written to in place: its hard link in the trace changed with it.
    copyFileSync(join(trace, 'files.json'), pristine);
    appendFileSync(prog, 'junk');
    const rep = trr(['replay', '-a', trace]);
    saveLog(dir, 'replay-changed', rep);
    assertCleanError(rep, new RegExp(`the trace's hard link to ${prog.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, is not the file the recording used: its size is \\d+ bytes, it was \\d+ .*trr pack`), 3);
    const dbg = trr(['replay', trace, '--', '-batch', '-ex', 'continue']);
    assertCleanError(dbg, /is not the file the recording used/, 3);
  });
});
