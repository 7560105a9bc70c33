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
// in batches and the journal is emptied after each frame. The reader never
// holds the whole trace: it indexes the frame headers and decodes a frame
// when a record in it is needed.
import {
  chmodSync, closeSync, constants as fsConstants, existsSync, fchmodSync, fstatSync, ftruncateSync, lstatSync,
  mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
// msgpackr's subpaths load its plain JavaScript build: the package's main
// entry also loads an optional native string extractor (msgpackr-extract),
// which costs every trr command about 10 ms of start-up and is not needed
// for trace records.
import { Packr } from 'msgpackr/pack';
import { Unpackr } from 'msgpackr/unpack';
import { ERRNO } from '../syscalls/names.js';
import { copyFileSparse } from '../native/native.js';
import { changedFileError, placeWithoutCopy, readFileRefs, refMismatch, writeFileRefs, type FileRef } from './file-store.js';
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
  private blobCount = 0;
  /** Blobs held by reference or link (files.json). */
  private readonly refs = new Map<string, FileRef>();
  /**
   * How files may go into the trace without a copy: 'reference' (system
   * files) and 'link' (hard links, where the file system allows), only
   * 'reference', or never ('copy', trr record --copy-files).
   */
  placement: 'link' | 'reference' | 'copy' = 'link';
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
   * Puts a file into the trace (once per distinct file) and returns the blob
   * name: by reference or by a hard link where it may (file-store.ts), else
   * as a copy. `source` may be a /proc/PID/fd/N link, which works for deleted
   * files; `path` is the file's name as the program opened it. `own` asks
   * for a copy of the trace's own (the program may change the file while
   * the recording runs): a blob of the same file held by reference or link
   * becomes a copy. A copy that fails half-way is removed: no record names it.
   */
  storeFile(source: string, path: string, own = false): string {
    if (this.failure) throw this.failure;
    const st = statSync(source);
    if (!st.isFile()) throw new FileError(`${path} is not a regular file`);
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    // Replay executes the copies of programs, so those keep an execute bit.
    const mode = st.mode & 0o111 ? EXEC_MODE : FILE_MODE;
    const known = this.blobs.get(key);
    if (known) {
      if (own && this.refs.has(known)) this.ownCopy(known, source, mode);
      return known;
    }
    const name = this.nextBlobName(path);
    if (!own && this.placement !== 'copy') {
      let ref: FileRef | undefined;
      try {
        ref = placeWithoutCopy(source, path, join(this.dir, 'files', name), this.placement === 'link');
      } catch (e) {
        throw this.fail(e, `the link to ${path}`);
      }
      if (ref) {
        this.refs.set(name, ref);
        writeFileRefs(this.dir, this.refs);
        this.blobs.set(key, name);
        return name;
      }
    }
    return this.newBlob(key, path, (dest) => {
      // A new file (O_EXCL), never something a link points at; sparse files stay sparse.
      copyFileSparse(source, dest, mode);
      return openSync(dest, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    }, mode, name);
  }

  /** Turns blob `name`, held by reference or link, into a copy of the trace's own (its file has not changed: it has the same key). */
  private ownCopy(name: string, source: string, mode: number): void {
    const blob = join(this.dir, 'files', name);
    const tmp = `${blob}.own`;
    try {
      copyFileSparse(source, tmp, mode);
      renameSync(tmp, blob);
    } catch (e) {
      try {
        unlinkSync(tmp);
      } catch {
        /* nothing was created */
      }
      throw this.fail(e, `the copy of ${this.refs.get(name)!.path}`);
    }
    this.refs.delete(name);
    writeFileRefs(this.dir, this.refs);
  }

  /** Stores bytes (e.g. a shared memory segment's contents) as a blob in files/ and returns its name. */
  storeData(data: Buffer, displayName: string): string {
    if (this.failure) throw this.failure;
    return this.newBlob(`data:${this.blobCount}`, displayName, (dest) => {
      const fd = openSync(dest, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, FILE_MODE);
      try {
        let done = 0;
        while (done < data.length) done += writeSync(fd, data, done, data.length - done);
      } catch (e) {
        closeSync(fd);
        throw e;
      }
      return fd;
    }, FILE_MODE);
  }

  /**
   * Creates files/N-NAME with `create` (which returns an open descriptor of
   * it), gives it `mode` whatever the umask, and names it `key`. A blob that
   * fails half-way is removed: no record names it.
   */
  private nextBlobName(displayName: string): string {
    return `${this.blobCount++}-${blobLabel(displayName)}`;
  }

  private newBlob(key: string, displayName: string, create: (dest: string) => number, mode: number, name = this.nextBlobName(displayName)): string {
    const dest = join(this.dir, 'files', name);
    try {
      const fd = create(dest);
      try {
        fchmodSync(fd, mode);
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

/** Decoded frames recordAt() keeps: replay moves forwards and looks a little ahead, so a few suffice. */
export const FRAME_CACHE_SIZE = 4;

/** Where a frame of the events file is and what its header says (its body is read when needed). */
interface Frame {
  /** Offset of the frame header in the events file. */
  readonly offset: number;
  readonly length: number;
  readonly crc: number;
  readonly first: number;
  readonly count: number;
}

/** What indexing a trace found: the frames, and the journal's records (few: at most one frame's worth). */
interface TraceIndex {
  readonly frames: readonly Frame[];
  /** Index of the journal's first record (= records in frames). */
  readonly journalFirst: number;
  readonly journal: readonly TraceRecord[];
  readonly count: number;
}

/**
 * Reads a trace without holding it in memory. Opening reads the header;
 * the first question about the records indexes the events file (its frame
 * headers only, checked) and decodes the journal. Frames are decoded, and
 * checked, when a record in them is asked for: recordAt() keeps the last
 * FRAME_CACHE_SIZE decoded frames, scan() holds the frame it is in.
 */
export class TraceReader {
  private indexed: TraceIndex | undefined;
  private endless: boolean | undefined;
  /** Decoded frames by number, least recently used first. */
  private readonly cache = new Map<number, readonly TraceRecord[]>();
  private decodes = 0;

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

  private fileRefs: { readonly mapped: ReadonlyMap<string, string>; readonly programs: ReadonlySet<string> } | undefined;

  /** One pass over the trace for the files it refers to. */
  private fileFacts(): NonNullable<TraceReader['fileRefs']> {
    if (this.fileRefs) return this.fileRefs;
    const mapped = new Map<string, string>();
    const programs = new Set<string>();
    for (const { record: r } of this.scan()) {
      if (r.kind === 'exec') {
        programs.add(r.exe);
        for (const [path, blob] of r.files) mapped.set(path, blob);
      } else if ((r.kind === 'syscall' || r.kind === 'syscall-exit') && r.extra?.file && r.extra.path) mapped.set(r.extra.path, r.extra.file);
    }
    return (this.fileRefs = { mapped, programs });
  }

  /** Every file the recorded programs mapped: path then -> blob. */
  mappedFiles(): ReadonlyMap<string, string> {
    return this.fileFacts().mapped;
  }

  /** The blobs of the programs the recording executed. */
  programBlobs(): ReadonlySet<string> {
    return this.fileFacts().programs;
  }

  /** The directory of the blobs (copies of the programs' files). */
  get filesDir(): string {
    return join(this.dir, 'files');
  }

  blobPath(name: string): string {
    if (name.includes('/') || name.startsWith('.')) throw new TraceFormatError(`${this.dir}: bad blob name ${JSON.stringify(name)} in the trace.`);
    const known = this.verified.get(name);
    if (known) return known;
    const p = join(this.dir, 'files', name);
    const ref = this.refs().get(name);
    let file = p;
    if (ref && !(ref.how === 'reference' && existsSync(p) /* packed, files.json not yet rewritten */)) {
      file = ref.how === 'reference' ? ref.path : p;
      const why = refMismatch(file, ref);
      if (why) throw changedFileError(this.dir, name, ref, why);
    } else if (!existsSync(p)) throw new TraceFormatError(`${p}: a file the trace refers to is missing from the trace directory.`);
    this.verified.set(name, file);
    return file;
  }

  /** Blobs already found, checked when held by reference or link: name -> the file to use. */
  private readonly verified = new Map<string, string>();
  private refList: ReadonlyMap<string, FileRef> | undefined;

  /** The blobs held by reference or by a hard link (files.json). */
  refs(): ReadonlyMap<string, FileRef> {
    return (this.refList ??= readFileRefs(this.dir));
  }

  /** Total size in bytes of the trace directory's own files (not the files it refers to, nor its hard links). */
  sizeBytes(): number {
    let total = 0;
    for (const f of ['header.json', 'events', 'journal']) if (existsSync(join(this.dir, f))) total += statSync(join(this.dir, f)).size;
    const files = join(this.dir, 'files');
    // A hard link shares the original's blocks: it costs the trace nothing (until `trr pack`).
    if (existsSync(files)) for (const f of readdirSync(files)) total += this.refs().get(f)?.how === 'link' ? 0 : statSync(join(files, f)).size;
    return total;
  }

  /** Number of complete records in the trace. */
  get eventCount(): number {
    return this.index().count;
  }

  /** The trace has no 'end' record: the recording was cut off (decodes the last record's frame). */
  get incomplete(): boolean {
    const n = this.eventCount;
    return (this.endless ??= n === 0 || this.recordAt(n - 1).kind !== 'end');
  }

  /** Record `index` (0 <= index < eventCount). */
  recordAt(index: number): TraceRecord {
    const { frames, journalFirst, journal, count } = this.index();
    if (!Number.isInteger(index) || index < 0 || index >= count) throw new RangeError(`record ${index} is not in the trace (it has ${count})`);
    if (index >= journalFirst) return journal[index - journalFirst]!;
    const k = this.frameOf(index);
    let records = this.cache.get(k);
    if (records) this.cache.delete(k); // re-inserted below as the most recently used
    else records = this.decodeFrame(frames[k]!);
    this.cache.set(k, records);
    if (this.cache.size > FRAME_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    return records[index - frames[k]!.first]!;
  }

  /**
   * The records from `from` on, in order, for passes over the trace. It
   * holds one decoded frame at a time (taking it from recordAt's cache when
   * there, without adding to it), so a pass needs no more memory than that.
   */
  *scan(from = 0): Generator<IndexedRecord> {
    const { frames, journalFirst, journal } = this.index();
    for (let k = from < journalFirst ? this.frameOf(Math.max(from, 0)) : frames.length; k < frames.length; k++) {
      const f = frames[k]!;
      const records = this.cache.get(k) ?? this.decodeFrame(f);
      for (let i = Math.max(from - f.first, 0); i < records.length; i++) yield { index: f.first + i, record: records[i]! };
    }
    for (let i = Math.max(from - journalFirst, 0); i < journal.length; i++) yield { index: journalFirst + i, record: journal[i]! };
  }

  /**
   * Checks every frame's body checksum, reading one frame at a time without
   * decompressing or decoding: finds damage before a replay starts rather
   * than when it reaches it.
   */
  verifyChecksums(): void {
    for (const f of this.index().frames) this.frameBody(f);
  }

  /** For tests of the memory bound: frames in the events file, decoded frames cached now, frames decoded so far. */
  get frameStats(): { readonly frames: number; readonly cached: number; readonly decoded: number } {
    return { frames: this.index().frames.length, cached: this.cache.size, decoded: this.decodes };
  }

  private get eventsPath(): string {
    return join(this.dir, 'events');
  }

  /** Number of the frame that holds record `index` (which is in a frame). */
  private frameOf(index: number): number {
    const frames = this.index().frames;
    let lo = 0;
    let hi = frames.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (frames[mid]!.first <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private index(): TraceIndex {
    if (this.indexed) return this.indexed;
    const eventsPath = this.eventsPath;
    const frames: Frame[] = [];
    let count = 0;
    const fd = openSync(eventsPath, 'r');
    try {
      const size = fstatSync(fd).size;
      const magic = Buffer.alloc(EVENTS_MAGIC.length);
      if (size < EVENTS_MAGIC.length || readSync(fd, magic, 0, magic.length, 0) !== magic.length || !magic.equals(EVENTS_MAGIC)) {
        throw new TraceFormatError(`${eventsPath}: not a trr events file (bad magic at offset 0).`);
      }
      const head = Buffer.alloc(FRAME_HEADER);
      let off = EVENTS_MAGIC.length;
      // A frame header or frame cut off at the end is where the recorder was killed.
      while (size - off >= FRAME_HEADER) {
        readExactly(fd, head, off, eventsPath);
        if (crc32(head.subarray(0, 16)) !== head.readUInt32LE(16)) {
          throw new TraceFormatError(`${eventsPath} offset ${off}: frame header checksum mismatch; the trace is corrupt.`);
        }
        const length = head.readUInt32LE(0);
        const first = head.readUInt32LE(8);
        if (length > MAX_FRAME) throw new TraceFormatError(`${eventsPath} offset ${off}: frame length ${length} is impossible; the trace is corrupt.`);
        if (off + FRAME_HEADER + length > size) break;
        if (first !== count) throw new TraceFormatError(`${eventsPath} offset ${off}: frame starts at event ${first}, expected ${count}; the trace is corrupt.`);
        const frame = { offset: off, length, crc: head.readUInt32LE(4), first, count: head.readUInt32LE(12) };
        frames.push(frame);
        count += frame.count;
        off += FRAME_HEADER + length;
      }
    } finally {
      closeSync(fd);
    }
    const journal = this.readJournal(count);
    return (this.indexed = { frames, journalFirst: count, journal, count: count + journal.length });
  }

  /** A frame's compressed bytes, their checksum checked. */
  private frameBody(f: Frame): Buffer {
    const body = Buffer.allocUnsafe(f.length);
    const fd = openSync(this.eventsPath, 'r');
    try {
      readExactly(fd, body, f.offset + FRAME_HEADER, this.eventsPath);
    } finally {
      closeSync(fd);
    }
    if (crc32(body) !== f.crc) throw new TraceFormatError(`${this.eventsPath} offset ${f.offset}: frame checksum mismatch; the trace is corrupt.`);
    return body;
  }

  /** The records of a frame, every check applied. */
  private decodeFrame(f: Frame): TraceRecord[] {
    const eventsPath = this.eventsPath;
    const where = `${eventsPath} offset ${f.offset}`;
    const body = this.frameBody(f);
    let raw: Buffer;
    try {
      raw = inflateRawSync(body);
    } catch (e) {
      throw new TraceFormatError(`${where}: frame does not decompress (${(e as Error).message}); the trace is corrupt.`);
    }
    const out: TraceRecord[] = [];
    let p = 0;
    for (let i = 0; i < f.count; i++) {
      if (raw.length - p < 4) throw new TraceFormatError(`${where}: frame holds fewer records than its header says; the trace is corrupt.`);
      const rlen = raw.readUInt32LE(p);
      if (p + 4 + rlen > raw.length) throw new TraceFormatError(`${where}: record ${f.first + i} overruns its frame; the trace is corrupt.`);
      out.push(this.decode(raw.subarray(p + 4, p + 4 + rlen), `${eventsPath} event ${f.first + i}`));
      p += 4 + rlen;
    }
    if (p !== raw.length) throw new TraceFormatError(`${where}: ${raw.length - p} trailing bytes after the last record of a frame; the trace is corrupt.`);
    this.decodes++;
    return out;
  }

  /** The journal's records that continue the frames' `next` records. */
  private readJournal(next: number): TraceRecord[] {
    const out: TraceRecord[] = [];
    const path = join(this.dir, 'journal');
    if (!existsSync(path)) return out;
    const data = readFileSync(path);
    if (data.length === 0) return out;
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
      const expected = next + out.length;
      if (index === expected) out.push(this.decode(data.subarray(off + 12, off + 12 + len), `${path} event ${index}`));
      else if (index > expected) throw new TraceFormatError(`${path} offset ${off}: journal jumps to event ${index}, expected ${expected}; the trace is corrupt.`);
      off += 12 + len;
    }
    return out;
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

/** Reads buf.length bytes at `pos`; a shorter read means the file shrank under the reader. */
function readExactly(fd: number, buf: Buffer, pos: number, path: string): void {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, pos + got);
    if (n === 0) throw new TraceFormatError(`${path} offset ${pos}: the file ends inside a frame it had when the trace was opened; it changed while being read.`);
    got += n;
  }
}

/** True when a directory looks like a trace (for `trr ls`). */
export function isTraceDir(dir: string): boolean {
  return existsSync(join(dir, 'header.json')) && existsSync(join(dir, 'events'));
}
