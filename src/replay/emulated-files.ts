// The replay's own copies of the files the recorded programs mapped from a
// descriptor open for writing (see src/record/shared-mappings.ts). Each is a
// real file in a private temporary directory, created from the trace's copy
// at the file's first mapping, mapped by every replayed process that mapped
// the original (MAP_SHARED mappings stay shared, so processes see each
// other's stores), and changed by the writes and size changes the recording
// holds, when replay reaches them. Nothing outside the replay is touched.
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyFileSparse, fallocateFile } from '../native/native.js';
import { DivergenceError } from '../util/errors.js';

export class EmulatedFiles {
  private dir: string | undefined;
  private readonly files = new Map<string, string>();

  /** The directory the copies live in, once there is one. */
  get directory(): string | undefined {
    return this.dir;
  }

  /** The copy of tracked file `key`, made from the blob at `source` when it does not exist yet (holes stay holes). */
  pathFor(key: string, source: string): string {
    let path = this.files.get(key);
    if (path === undefined) {
      path = join(this.ensureDir(), `${this.files.size}-${key.replace(/[^0-9]/g, '_')}`);
      copyFileSparse(source, path, 0o600);
      this.files.set(key, path);
    }
    return path;
  }

  write(key: string, offset: bigint, data: Buffer): void {
    const fd = openSync(this.existing(key), 'r+');
    try {
      let done = 0;
      while (done < data.length) done += writeSync(fd, data, done, data.length - done, Number(offset) + done);
    } finally {
      closeSync(fd);
    }
  }

  resize(key: string, size: bigint): void {
    const fd = openSync(this.existing(key), 'r+');
    try {
      ftruncateSync(fd, Number(size));
    } finally {
      closeSync(fd);
    }
  }

  /** A recorded fallocate that changed the file's contents (a hole punched, a range zeroed, moved). */
  allocate(key: string, mode: number, offset: bigint, len: bigint): void {
    try {
      fallocateFile(this.existing(key), mode, offset, len);
    } catch (e) {
      throw new DivergenceError(`the recording changed a mapped file with fallocate (mode 0x${mode.toString(16)}), and the replay's copy of it in ${this.ensureDir()} cannot be changed the same way (${(e as Error).message}); set TMPDIR to a file system that supports it.`);
    }
  }

  /** An independent copy of all the files as they are now (for a checkpoint). */
  snapshot(): EmulatedFiles {
    const copy = new EmulatedFiles();
    for (const [key, path] of this.files) copy.pathFor(key, path);
    return copy;
  }

  close(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.files.clear();
  }

  private existing(key: string): string {
    const path = this.files.get(key);
    if (path === undefined) throw new DivergenceError(`the recording changes a mapped file (${key}) that the replay has not mapped`);
    return path;
  }

  private ensureDir(): string {
    this.dir ??= mkdtempSync(join(tmpdir(), 'trr-replay-files-'));
    return this.dir;
  }
}
