// Checkpoints: a replay imaged at an event (forked processes plus saved
// thread state) and restored later must go on exactly as the original did,
// for threads, process trees and signal handlers, any number of times, and
// without the debugger's breakpoints in the copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ReplaySession, type SessionImage } from '../../src/replay/replay-session.js';
import { TraceReader } from '../../src/trace/trace-stream.js';
import { buildProgram, manifest, trr, withOutputDir } from '../support/harness.js';

/** Where each live thread stands: the registers that place it, and its syscall state. */
function whereThreadsAre(s: ReplaySession, pid: number): string[] {
  return s.liveThreads(pid).map((tid) => {
    const state = s.threadState(tid)!;
    if (!['ready', 'at-entry'].includes(state)) return `${tid} ${state}`; // not stopped where its registers can be read (exiting, in the kernel)
    const r = s.liveTask(tid)!.regs();
    return `${tid} rip=${r.ip.toString(16)} rsp=${r.sp.toString(16)} rbp=${r.get('rbp').toString(16)} fs=${r.get('fs_base').toString(16)} orig_rax=${r.get('orig_rax').toString(16)}`;
  });
}

for (const name of ['threads', 'processes', 'signals', 'rust_threads', 'shared_files']) {
  test(`checkpoints: ${name} restored from images goes on as the original replay`, async () => {
    await withOutputDir(`checkpoints-${name}`, (dir) => {
      const spec = manifest().find((p) => p.name === name)!;
      const trace = join(dir, 'trace');
      const rec = trr(['record', '-o', trace, buildProgram(spec), ...(spec.args ?? [])], { cwd: dir });
      assert.equal(rec.status, spec.expect.exit ?? 0, rec.stderr);
      const reader = TraceReader.open(trace);
      const pid = reader.recordAt(0).tid;
      const compareAt = Math.floor(reader.eventCount * 0.9);

      const tids = new Set(Array.from({ length: reader.eventCount }, (_, i) => reader.recordAt(i).tid));
      const original = new ReplaySession(reader, { echo: false });
      original.start();
      const images: SessionImage[] = [];
      let expected: string[] = [];
      try {
        while (!original.atEnd) {
          original.step();
          // Every fifth event, and wherever a thread stands in a syscall whose exit is a later record (a blocked wait4, execve...).
          const inSyscall = [...tids].some((tid) => original.threadState(tid) === 'at-entry');
          if ((original.position % 5 === 0 || inSyscall) && original.position < compareAt && !original.imageBlocker()) images.push(original.image());
          if (original.position === compareAt) expected = whereThreadsAre(original, pid);
        }
        assert.ok(images.length >= 10, `only ${images.length} images`);
        // Six images spread over the run, and one of them twice: each restore is a fresh copy.
        const spread = [0, 1, 2, 3, 4, 5].map((k) => images[Math.floor((k * (images.length - 1)) / 5)]!);
        for (const image of [...spread, spread[1]!]) {
          const copy = ReplaySession.restore(reader, { echo: false }, image);
          try {
            assert.equal(copy.position, image.pos);
            while (copy.position < compareAt) copy.step();
            assert.deepEqual(whereThreadsAre(copy, pid), expected, `restored from event ${image.pos}`);
            assert.equal(copy.runToEnd(), original.exitStatus);
          } finally {
            copy.close();
          }
        }
      } finally {
        original.close();
        for (const im of images) im.tasks.dispose();
      }
    });
  });
}

test('checkpoints: an image leaves the debugger breakpoints out of the copy', async () => {
  await withOutputDir('checkpoints-breakpoints', (dir) => {
    const spec = manifest().find((p) => p.name === 'recursion')!;
    const trace = join(dir, 'trace');
    assert.equal(trr(['record', '-o', trace, buildProgram(spec)], { cwd: dir }).status, 0);
    const reader = TraceReader.open(trace);
    const pid = reader.recordAt(0).tid;
    const s = new ReplaySession(reader, { echo: false });
    s.start();
    while (s.position < 10) s.step();
    const ip = s.liveTask(pid)!.regs().ip;
    const code = s.readMemory(pid, ip, 1);
    s.setBreakpoint(pid, ip);
    assert.equal(s.liveTask(pid)!.mem.readPartial(ip, 1)[0], 0xcc);
    const image = s.image();
    try {
      assert.equal(s.liveTask(pid)!.mem.readPartial(ip, 1)[0], 0xcc, 'the breakpoint is back in the original');
      const copy = ReplaySession.restore(reader, { echo: false }, image);
      try {
        assert.deepEqual(copy.liveTask(pid)!.mem.readPartial(ip, 1), code);
        assert.equal(copy.runToEnd(), 0);
      } finally {
        copy.close();
      }
    } finally {
      s.close();
      image.tasks.dispose();
    }
  });
});
