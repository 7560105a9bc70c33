// TraceWriter and TraceReader: the only code that touches a trace directory.
//
// Layout (docs/trace-format.md):
//   header.json   format name and version, command, cpu, kernel
//   events        EVENTS_MAGIC, then frames: [u32 length][u32 crc32][u32 first
//                 event index][u32 record count][u32 crc32 of those 16 bytes]
//                 [deflate-raw bytes]; the bytes inflate to records, each
//                 [u32 length][msgpack map]
//   journal       JOURNAL_MAGIC, then the records not yet in a frame, each
//                 [u32 length][u32 crc32 of length, index and body][u32 event
//                 index][msgpack]
//   files/        copies of executables and mapped files
// Every record is in the journal as soon as it is appended, so a recorder
// killed with SIGKILL loses nothing that was appended; frames are compressed
// in batches and the journal is emptied after each frame.
import {
  chmodSync, closeSync, constants as fsConstants, existsSync, fchmodSync, ftruncateSync, lstatSync,
  mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import { ERRNO } from '../syscalls/names.js';
import { copyFileSparse } from '../native/native.js';
import { FileError, TraceFormatError, TrrError, errnoOf, fileError } from '../util/errors.js';
import { crc32 } from './crc32.js';
import {
  EVENTS_MAGIC, JOURNAL_MAGIC, compactRecord, validateHeader, validateRecord, type Header, type TraceRecord,
} from './format.js';

const FRAME_BYTES = 1 << 20;
/** Traces hold the program's environment, files and memory: owner-only, whatever the umask. */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
/** Copies of programs keep an execute bit: replay executes them. */
const EXEC_MODE = 0o700;
/** A new file, never an existing one, never through a symbolic link. */
const CREATE_FLAGS = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW;
const FRAME_HEADER = 20;

/** CRC of a journal entry: its length, index and body (everything but the CRC field). */
function journalCrc(entry: Buffer): number {
  return crc32(entry.subarray(8), crc32(entry.subarray(0, 4)));
}
const MAX_FRAME = 1 << 30;
const packr = new Packr({ useRecords: false, int64AsType: 'bigint', variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'bigint' });

export class TraceWriter {
  private readonly eventsFd: number;
  private readonly journalFd: number;
  private eventsPos = EVENTS_MAGIC.length;
  private journalPos = JOURNAL_MAGIC.length;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingFirst = 0;
  private nextIndex = 0;
  private readonly blobs = new Map<string, string>();
  private closed = false;
  /**
   * Set when a write failed (a full disk, typically). Everything appended
   * before it stays readable: a failed write is cut back, never left torn.
   */
  failure: TrrError | undefined;

  private constructor(readonly dir: string) {
    makeTraceDir(join(dir, 'files'), false);
    this.eventsFd = this.createFile('events', EVENTS_MAGIC);
    this.journalFd = this.createFile('journal', JOURNAL_MAGIC);
  }

  /**
   * Starts a trace in `dir`, which must be new or hold no trace files: the
   * writer creates every file itself, exclusively, and never writes through
   * a symbolic link. The directory and files are readable by their owner only.
   */
  static create(dir: string, header: Header): TraceWriter {
    makeTraceDir(dir, true);
    const w = new TraceWriter(dir);
    const tmp = join(dir, 'header.json.tmp');
    closeSync(w.createFile('header.json.tmp', Buffer.from(JSON.stringify(header, null, 2) + '\n')));
    try {
      renameSync(tmp, join(dir, 'header.json'));
    } catch (e) {
      throw fileError(e, `cannot write the trace header ${join(dir, 'header.json')}`);
    }
    return w;
  }

  /** Number of records appended so far (= index of the next one). */
  get eventCount(): number {
    return this.nextIndex;
  }

  append(record: TraceRecord): number {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('trace writer is closed');
    const index = this.nextIndex;
    const body = packr.pack(compactRecord(record));
    const entry = Buffer.allocUnsafe(12 + body.length);
    entry.writeUInt32LE(body.length, 0);
    entry.writeUInt32LE(index, 8);
    body.copy(entry, 12);
    entry.writeUInt32LE(journalCrc(entry), 4);
    this.writeAt(this.journalFd, entry, this.journalPos, 'its journal');
    this.journalPos += entry.length;
    this.nextIndex++;
    const framed = Buffer.allocUnsafe(4 + body.length);
    framed.writeUInt32LE(body.length, 0);
    body.copy(framed, 4);
    if (this.pending.length === 0) this.pendingFirst = index;
    this.pending.push(framed);
    this.pendingBytes += framed.length;
    if (this.pendingBytes >= FRAME_BYTES) this.flush();
    return index;
  }

  /**
   * Compresses the pending records into a frame and empties the journal.
   * When the frame cannot be written, the records stay in the journal.
   */
  flush(): void {
    if (this.pending.length === 0) return;
    if (this.failure) throw this.failure;
    const compressed = deflateRawSync(Buffer.concat(this.pending, this.pendingBytes), { level: 3 });
    const head = Buffer.alloc(FRAME_HEADER);
    head.writeUInt32LE(compressed.length, 0);
    head.writeUInt32LE(crc32(compressed), 4);
    head.writeUInt32LE(this.pendingFirst, 8);
    head.writeUInt32LE(this.pending.length, 12);
    head.writeUInt32LE(crc32(head.subarray(0, 16)), 16);
    const frame = Buffer.concat([head, compressed]);
    this.writeAt(this.eventsFd, frame, this.eventsPos, 'its events file');
    this.eventsPos += frame.length;
    try {
      ftruncateSync(this.journalFd, JOURNAL_MAGIC.length);
    } catch (e) {
      // The journal keeps entries the frame also holds; readers skip those.
      throw this.fail(e, 'its journal');
    }
    this.journalPos = JOURNAL_MAGIC.length;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /**
   * Copies a file into files/ (once per distinct file) and returns the blob
   * name. `source` may be a /proc/PID/fd/N link, which works for deleted files.
   * A copy that fails half-way is removed: no record names it.
   */
  storeFile(source: string, displayName: string): string {
    if (this.failure) throw this.failure;
    const st = statSync(source);
    if (!st.isFile()) throw new FileError(`${displayName} is not a regular file`);
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    const known = this.blobs.get(key);
    if (known) return known;
    const name = `${this.blobs.size}-${blobLabel(displayName)}`;
    const dest = join(this.dir, 'files', name);
    try {
      // A new file (O_EXCL), never something a link points at; sparse files stay sparse.
      // Replay executes the copies of programs, so those keep an execute bit.
      copyFileSparse(source, dest, st.mode & 0o111 ? EXEC_MODE : FILE_MODE);
      const fd = openSync(dest, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
      try {
        fchmodSync(fd, st.mode & 0o111 ? EXEC_MODE : FILE_MODE); // whatever the umask
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      try {
        unlinkSync(dest);
      } catch {
        /* nothing was created */
      }
      throw this.fail(e, `the copy of ${displayName}`);
    }
    this.blobs.set(key, name);
    return name;
  }

  /** Flushes what is pending and closes the files. Never throws for a failed write: the records are in the journal then. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.failure) this.flush();
    } catch (e) {
      if (!(e instanceof TrrError)) throw e;
    } finally {
      closeSync(this.eventsFd);
      closeSync(this.journalFd);
    }
  }

  private fail(e: unknown, what: string): TrrError {
    this.failure = fileError(e, `cannot write to the trace ${this.dir} (${what})`);
    return this.failure;
  }

  /** Writes all of `buf` at `pos`; a write that fails part-way (a full disk) is cut back to `pos`. */
  private writeAt(fd: number, buf: Buffer, pos: number, what: string): void {
    let done = 0;
    try {
      while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, pos + done);
    } catch (e) {
      try {
        ftruncateSync(fd, pos);
      } catch {
        /* readers treat a torn end as the end anyway */
      }
      throw this.fail(e, what);
    }
  }

  /** Creates a new file in the trace directory with `contents`; returns its descriptor. */
  private createFile(name: string, contents: Buffer): number {
    const path = join(this.dir, name);
    let fd: number;
    try {
      fd = openSync(path, CREATE_FLAGS, FILE_MODE);
      fchmodSync(fd, FILE_MODE);
    } catch (e) {
      throw fileError(e, `cannot create ${path}`);
    }
    this.writeAt(fd, contents, 0, name);
    return fd;
  }
}

/** Creates a trace directory (or accepts an existing, real one) readable by its owner only, whatever the umask. */
function makeTraceDir(dir: string, linkAllowed: boolean): void {
  try {
    mkdirSync(dir, { mode: DIR_MODE });
  } catch (e) {
    if (errnoOf(e) !== ERRNO.EEXIST) throw fileError(e, `cannot create the trace directory ${dir}`);
    const isDir = (linkAllowed ? statSync : lstatSync)(dir, { throwIfNoEntry: false })?.isDirectory();
    if (!isDir) throw new FileError(`cannot create the trace directory ${dir}: something that is not a directory is in the way.`);
  }
  try {
    chmodSync(dir, DIR_MODE);
  } catch (e) {
    throw fileError(e, `cannot make ${dir} private`);
  }
}

/** The name part of the blob that holds a copy of `path` (blobs are named `N-label`). */
export function blobLabel(path: string): string {
  return basename(path).replace(/[^A-Za-z0-9._+-]/g, '_').slice(0, 60) || 'file';
}

export interface IndexedRecord {
  readonly index: number;
  readonly record: TraceRecord;
}

export class TraceReader {
  /** Set once reading reached the end: the trace has no 'end' record. */
  incomplete = false;
  private cached: IndexedRecord[] | undefined;

  private constructor(
    readonly dir: string,
    readonly header: Header,
  ) {}

  static open(dir: string): TraceReader {
    if (!existsSync(dir)) throw new TraceFormatError(`${dir}: no such trace directory.`);
    if (!statSync(dir).isDirectory()) throw new TraceFormatError(`${dir} is not a trace directory (it is not a directory).`);
    const headerPath = join(dir, 'header.json');
    if (!existsSync(headerPath) || !existsSync(join(dir, 'events'))) {
      throw new TraceFormatError(`${dir} is not a trr trace directory: it has no header.json and events file.`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(headerPath, 'utf8'));
    } catch (e) {
      throw new TraceFormatError(`${headerPath}: the trace header is not valid JSON (${(e as Error).message}).`);
    }
    return new TraceReader(dir, validateHeader(parsed, headerPath));
  }

  private mapped: ReadonlyMap<string, string> | undefined;

  /** Every file the recorded programs mapped: path then -> blob. */
  mappedFiles(): ReadonlyMap<string, string> {
    if (this.mapped) return this.mapped;
    const out = new Map<string, string>();
    for (const { record: r } of this.records()) {
      if (r.kind === 'exec') for (const [path, blob] of r.files) out.set(path, blob);
      else if ((r.kind === 'syscall' || r.kind === 'syscall-exit') && r.extra?.file && r.extra.path) out.set(r.extra.path, r.extra.file);
    }
    return (this.mapped = out);
  }

  /** The directory of the blobs (copies of the programs' files). */
  get filesDir(): string {
    return join(this.dir, 'files');
  }

  blobPath(name: string): string {
    if (name.includes('/') || name.startsWith('.')) throw new TraceFormatError(`${this.dir}: bad blob name ${JSON.stringify(name)} in the trace.`);
    const p = join(this.dir, 'files', name);
    if (!existsSync(p)) throw new TraceFormatError(`${p}: a file the trace refers to is missing from the trace directory.`);
    return p;
  }

  /** Total size in bytes of the trace directory's files. */
  sizeBytes(): number {
    let total = 0;
    for (const f of ['header.json', 'events', 'journal']) if (existsSync(join(this.dir, f))) total += statSync(join(this.dir, f)).size;
    const files = join(this.dir, 'files');
    if (existsSync(files)) for (const f of readdirSync(files)) total += statSync(join(files, f)).size;
    return total;
  }

  /** All records in order; decodes the trace once. */
  records(): readonly IndexedRecord[] {
    if (!this.cached) this.cached = this.decodeAll();
    return this.cached;
  }

  private decodeAll(): IndexedRecord[] {
    const out: IndexedRecord[] = [];
    const eventsPath = join(this.dir, 'events');
    const data = readFileSync(eventsPath);
    if (data.length < EVENTS_MAGIC.length || !data.subarray(0, EVENTS_MAGIC.length).equals(EVENTS_MAGIC)) {
      throw new TraceFormatError(`${eventsPath}: not a trr events file (bad magic at offset 0).`);
    }
    let off = EVENTS_MAGIC.length;
    while (off < data.length) {
      if (data.length - off < FRAME_HEADER) break; // torn frame header: the recorder was killed
      if (crc32(data.subarray(off, off + 16)) !== data.readUInt32LE(off + 16)) {
        throw new TraceFormatError(`${eventsPath} offset ${off}: frame header checksum mismatch; the trace is corrupt.`);
      }
      const len = data.readUInt32LE(off);
      const crc = data.readUInt32LE(off + 4);
      const first = data.readUInt32LE(off + 8);
      const count = data.readUInt32LE(off + 12);
      if (len > MAX_FRAME) throw new TraceFormatError(`${eventsPath} offset ${off}: frame length ${len} is impossible; the trace is corrupt.`);
      if (off + FRAME_HEADER + len > data.length) break; // torn frame
      const body = data.subarray(off + FRAME_HEADER, off + FRAME_HEADER + len);
      if (crc32(body) !== crc) throw new TraceFormatError(`${eventsPath} offset ${off}: frame checksum mismatch; the trace is corrupt.`);
      if (first !== out.length) throw new TraceFormatError(`${eventsPath} offset ${off}: frame starts at event ${first}, expected ${out.length}; the trace is corrupt.`);
      let raw: Buffer;
      try {
        raw = inflateRawSync(body);
      } catch (e) {
        throw new TraceFormatError(`${eventsPath} offset ${off}: frame does not decompress (${(e as Error).message}); the trace is corrupt.`);
      }
      let p = 0;
      for (let i = 0; i < count; i++) {
        if (raw.length - p < 4) throw new TraceFormatError(`${eventsPath} offset ${off}: frame holds fewer records than its header says; the trace is corrupt.`);
        const rlen = raw.readUInt32LE(p);
        if (p + 4 + rlen > raw.length) throw new TraceFormatError(`${eventsPath} offset ${off}: record ${first + i} overruns its frame; the trace is corrupt.`);
        out.push({ index: first + i, record: this.decode(raw.subarray(p + 4, p + 4 + rlen), `${eventsPath} event ${first + i}`) });
        p += 4 + rlen;
      }
      if (p !== raw.length) throw new TraceFormatError(`${eventsPath} offset ${off}: ${raw.length - p} trailing bytes after the last record of a frame; the trace is corrupt.`);
      off += FRAME_HEADER + len;
    }
    this.readJournal(out);
    this.incomplete = out.length === 0 || out[out.length - 1]!.record.kind !== 'end';
    return out;
  }

  private readJournal(out: IndexedRecord[]): void {
    const path = join(this.dir, 'journal');
    if (!existsSync(path)) return;
    const data = readFileSync(path);
    if (data.length === 0) return;
    if (data.length < JOURNAL_MAGIC.length || !data.subarray(0, JOURNAL_MAGIC.length).equals(JOURNAL_MAGIC)) {
      throw new TraceFormatError(`${path}: not a trr journal (bad magic at offset 0).`);
    }
    let off = JOURNAL_MAGIC.length;
    while (data.length - off >= 12) {
      const len = data.readUInt32LE(off);
      if (off + 12 + len > data.length) break; // torn entry
      const index = data.readUInt32LE(off + 8);
      if (journalCrc(data.subarray(off, off + 12 + len)) !== data.readUInt32LE(off + 4)) {
        throw new TraceFormatError(`${path} offset ${off}: journal entry checksum mismatch; the trace is corrupt.`);
      }
      // Entries already in a frame (the recorder died between writing the frame and emptying the journal) are skipped.
      if (index === out.length) out.push({ index, record: this.decode(data.subarray(off + 12, off + 12 + len), `${path} event ${index}`) });
      else if (index > out.length) throw new TraceFormatError(`${path} offset ${off}: journal jumps to event ${index}, expected ${out.length}; the trace is corrupt.`);
      off += 12 + len;
    }
  }

  private decode(buf: Buffer, where: string): TraceRecord {
    let value: unknown;
    try {
      value = unpackr.unpack(buf);
    } catch (e) {
      throw new TraceFormatError(`${where}: record does not decode (${(e as Error).message.slice(0, 120)}); the trace is corrupt.`);
    }
    return validateRecord(value, where);
  }
}

/** True when a directory looks like a trace (for `trr ls`). */
export function isTraceDir(dir: string): boolean {
  return existsSync(join(dir, 'header.json')) && existsSync(join(dir, 'events'));
}
