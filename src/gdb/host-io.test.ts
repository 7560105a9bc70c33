import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostIo } from './host-io.js';

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
    assert.equal(io.handle(`vFile:open:${hex(real)},201,1a4`), 'F-1,30'); // O_WRONLY|O_CREAT: EROFS
    assert.equal(io.handle(`vFile:unlink:${hex(real)}`), 'F-1,30');
    assert.equal(io.handle('vFile:frobnicate:0'), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
