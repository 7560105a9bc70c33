import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostIo, MAX_OPEN } from './host-io.js';

const hex = (s: string) => Buffer.from(s).toString('hex');

test('vFile: open, pread, fstat and close a file through the path translation; writes and bad fds are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trr-hostio-'));
  try {
    const real = join(dir, 'copy');
    writeFileSync(real, 'hello, file');
    const io = new HostIo((p) => (p === '/lib/libx.so' ? real : p));
    assert.equal(io.handle('vFile:setfs:0'), 'F0');
    const fd = io.handle(`vFile:open:${hex('/lib/libx.so')},0,0`);
    assert.match(fd, /^F[0-9a-f]+$/);
    const n = fd.slice(1);
    assert.equal(io.handle(`vFile:pread:${n},5,7`), 'F4;file');
    assert.equal(io.handle(`vFile:pread:${n},10,20`), 'F0;');
    const st = Buffer.from(io.handle(`vFile:fstat:${n}`).slice('F40;'.length), 'latin1');
    assert.equal(st.length, 64);
    assert.equal(st.readBigUInt64BE(28), 11n); // st_size
    assert.equal(st.readUInt32BE(8), statSync(real).mode);
    assert.equal(io.handle(`vFile:close:${n}`), 'F0');
    assert.equal(io.handle(`vFile:pread:${n},5,0`), 'F-1,9'); // EBADF
    assert.equal(io.handle(`vFile:open:${hex(join(dir, 'missing'))},0,0`), 'F-1,2'); // ENOENT
    assert.equal(io.handle(`vFile:open:${hex(real)},201,1a4`), 'F-1,1e'); // O_WRONLY|O_CREAT: EROFS (30, in hex as File-I/O replies are)
    assert.equal(io.handle(`vFile:unlink:${hex(real)}`), 'F-1,1e');
    assert.equal(io.handle('vFile:frobnicate:0'), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vFile: only files under the allowed roots, only regular files, at most MAX_OPEN at once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trr-hostio-'));
  try {
    const root = join(dir, 'files');
    mkdirSync(root);
    writeFileSync(join(root, 'lib'), 'data');
    writeFileSync(join(dir, 'outside'), 'secret');
    symlinkSync(join(dir, 'outside'), join(root, 'escape'));
    assert.equal(spawnSync('mkfifo', [join(root, 'fifo')]).status, 0);
    const io = new HostIo((p) => p, () => [root]);
    assert.match(io.handle(`vFile:open:${hex(join(root, 'lib'))},0,0`), /^F[0-9a-f]+$/);
    assert.equal(io.handle(`vFile:open:${hex(join(dir, 'outside'))},0,0`), 'F-1,d'); // EACCES
    assert.equal(io.handle(`vFile:open:${hex(join(root, 'escape'))},0,0`), 'F-1,d');
    assert.equal(io.handle(`vFile:open:${hex(join(root, '..', 'outside'))},0,0`), 'F-1,d');
    assert.equal(io.handle(`vFile:open:${hex('/etc/shadow')},0,0`), 'F-1,d');
    assert.equal(io.handle(`vFile:open:${hex(join(root, 'fifo'))},0,0`), 'F-1,13'); // ENODEV, without blocking
    assert.equal(io.handle(`vFile:readlink:${hex(join(root, 'escape'))}`).slice(0, 2), 'F1'); // the link itself is in the root
    for (let i = 1; i < MAX_OPEN; i++) assert.match(io.handle(`vFile:open:${hex(join(root, 'lib'))},0,0`), /^F[0-9a-f]+$/);
    assert.equal(io.handle(`vFile:open:${hex(join(root, 'lib'))},0,0`), 'F-1,18'); // EMFILE
    assert.equal(io.handle('vFile:close:1'), 'F0');
    assert.match(io.handle(`vFile:open:${hex(join(root, 'lib'))},0,0`), /^F[0-9a-f]+$/);
    io.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
