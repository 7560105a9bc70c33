// How a trace holds the files its programs executed and mapped (docs/trace-format.md,
// "files/ and files.json"). A file goes into the trace in one of three ways:
//
//   reference  a system file (under /usr, /lib, /bin, /sbin, /opt, /etc) is
//              not copied at all: files.json records its path, size, mtime,
//              device, inode and SHA-256, and replay uses it in place after
//              checking it is still that file;
//   link       another file on the trace's file system is hard-linked into
//              files/ (shares the original's inode: a rebuild that replaces
//              the file leaves the link alone, but a write into it in place
//              changes both, so files.json records the same facts and replay
//              checks them);
//   copy       anything else is copied (a reflink where the file system can,
//              only the data of a sparse file), and is the trace's own.
//
// `trr pack` turns references and links into copies, so that the trace no
// longer depends on anything outside its directory.
import { createHash } from 'node:crypto';
import {
  appendFileSync, mkdirSync, writeFileSync, closeSync, constants as fsConstants, existsSync, fchmodSync, linkSync, openSync, readFileSync, readSync, renameSync,
  statSync, unlinkSync, writeSync, type BigIntStats,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { copyFileSparse } from '../native/native.js';
import { DivergenceError, TraceFormatError, errnoOf, fileError } from '../util/errors.js';

/** The name of the file (in the trace directory) that lists the blobs held by reference or by link. */
export const FILE_REFS = 'files.json';

export type Placement = 'reference' | 'link';

/** What files.json says of a blob that is not the trace's own copy. */
export interface FileRef {
  readonly how: Placement;
  /** The original's path (a reference is used there in place). */
  readonly path: string;
  readonly size: number;
  /** Modification time in nanoseconds since the epoch, as a decimal string. */
  readonly mtime: string;
  readonly dev: string;
  readonly ino: string;
  /** SHA-256 of the contents, hex. */
  readonly sha256: string;
}

/** Directories whose files are the system's (packages): the trace refers to them instead of copying them. */
const SYSTEM_DIRS = ['/usr/', '/lib/', '/lib32/', '/lib64/', '/libx32/', '/bin/', '/sbin/', '/opt/', '/etc/'];

export function isSystemPath(path: string): boolean {
  return SYSTEM_DIRS.some((d) => path.startsWith(d)) && !path.includes('/../');
}

/** SHA-256 of a file's contents, read in pieces (files can be large). */
export function hashFile(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, fsConstants.O_RDONLY);
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/**
 * SHA-256s of files trr hashed before, by identity: device, inode, size,
 * mtime and ctime (which nothing but the kernel sets, so a file changed in
 * place never keeps its entry), one `KEY HASH` line each, in
 * $XDG_CACHE_HOME/trr/file-hashes (else ~/.cache/trr). A recording then
 * hashes a system library once, not each time. The cache is only an
 * optimization: when it cannot be read or written, files are hashed.
 */
const HASH_CACHE_LINES = 4096;
let hashCache: Map<string, string> | undefined;

function hashCachePath(): string | undefined {
  const base = process.env['XDG_CACHE_HOME'] || (process.env['HOME'] ? join(process.env['HOME'], '.cache') : undefined);
  return base ? join(base, 'trr', 'file-hashes') : undefined;
}

function cachedHash(st: BigIntStats, path: string): string {
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  const file = hashCachePath();
  if (!hashCache) {
    hashCache = new Map();
    try {
      if (file) for (const line of readFileSync(file, 'utf8').split('\n')) {
        const [k, h] = line.split(' ');
        if (k && h && /^[0-9a-f]{64}$/.test(h)) hashCache.set(k, h);
      }
    } catch {
      /* no cache yet */
    }
  }
  const known = hashCache.get(key);
  if (known) return known;
  const sha = hashFile(path);
  hashCache.set(key, sha);
  if (file) {
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      if (hashCache.size > HASH_CACHE_LINES) {
        const keep = [...hashCache].slice(-HASH_CACHE_LINES / 2);
        hashCache = new Map(keep);
        writeFileSync(`${file}.tmp`, keep.map(([k, h]) => `${k} ${h}\n`).join(''), { mode: 0o600 });
        renameSync(`${file}.tmp`, file);
      } else appendFileSync(file, `${key} ${sha}\n`, { mode: 0o600 });
    } catch {
      /* an optimization only */
    }
  }
  return sha;
}

function factsOf(st: BigIntStats, path: string, how: Placement, sha256: string): FileRef {
  return { how, path, size: Number(st.size), mtime: st.mtimeNs.toString(), dev: st.dev.toString(), ino: st.ino.toString(), sha256 };
}

/** The refs a trace's files.json lists (none when it has no such file). */
export function readFileRefs(dir: string): Map<string, FileRef> {
  const p = join(dir, FILE_REFS);
  const refs = new Map<string, FileRef>();
  if (!existsSync(p)) return refs;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new TraceFormatError(`${p}: the list of files the trace refers to is not valid JSON (${(e as Error).message}).`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TraceFormatError(`${p}: expected an object of blob names.`);
  for (const [name, v] of Object.entries(parsed)) {
    const r = v as Partial<FileRef> | null;
    const ok = r !== null && typeof r === 'object' && (r.how === 'reference' || r.how === 'link') && typeof r.path === 'string' && r.path.startsWith('/')
      && typeof r.size === 'number' && [r.mtime, r.dev, r.ino].every((x) => typeof x === 'string' && /^\d+$/.test(x))
      && typeof r.sha256 === 'string' && /^[0-9a-f]{64}$/.test(r.sha256);
    if (!ok || name.includes('/') || name.startsWith('.')) throw new TraceFormatError(`${p}: bad entry ${JSON.stringify(name)}.`);
    refs.set(name, r as FileRef);
  }
  return refs;
}

/** Replaces files.json with `refs` (through a new file renamed over it), or removes it when empty. */
export function writeFileRefs(dir: string, refs: ReadonlyMap<string, FileRef>): void {
  const p = join(dir, FILE_REFS);
  try {
    if (refs.size === 0) {
      if (existsSync(p)) unlinkSync(p);
      return;
    }
    const tmp = `${p}.tmp`;
    if (existsSync(tmp)) unlinkSync(tmp);
    const fd = openSync(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o600);
    try {
      fchmodSync(fd, 0o600);
      const text = Buffer.from(JSON.stringify(Object.fromEntries(refs), null, 1) + '\n');
      let done = 0;
      while (done < text.length) done += writeSync(fd, text, done, text.length - done);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, p);
  } catch (e) {
    throw fileError(e, `cannot write ${p}`);
  }
}

/**
 * Puts `source` (the recorded program's view of the file, e.g. /proc/PID/fd/N)
 * into the trace as blob `dest` without copying it when it may: by reference
 * for a system file that `path` names as well, by a hard link for another
 * file on the trace's file system. Returns the facts to list in files.json,
 * or undefined when the file must be copied (deleted, outside the recorder's
 * view, on another file system, a link not allowed).
 */
export function placeWithoutCopy(source: string, path: string, dest: string, mayLink: boolean): FileRef | undefined {
  let st: BigIntStats;
  try {
    st = statSync(source, { bigint: true });
    const named = statSync(path, { bigint: true, throwIfNoEntry: false });
    if (!named || named.dev !== st.dev || named.ino !== st.ino) return undefined; // deleted, replaced, or another mount namespace's
  } catch {
    return undefined;
  }
  if (isSystemPath(path)) return factsOf(st, path, 'reference', cachedHash(st, path));
  if (!mayLink) return undefined;
  try {
    linkSync(path, dest);
  } catch (e) {
    const errno = errnoOf(e);
    if (errno === 18 /* EXDEV */ || errno === 1 /* EPERM */ || errno === 13 /* EACCES */ || errno === 95 /* EOPNOTSUPP */ || errno === 31 /* EMLINK */) return undefined;
    throw e;
  }
  const now = statSync(dest, { bigint: true });
  return factsOf(now, path, 'link', cachedHash(now, dest));
}

/** Why `file` is no longer what `ref` recorded, or undefined when it is (cheap when its identity is unchanged, else by its contents). */
export function refMismatch(file: string, ref: FileRef): string | undefined {
  const st = statSync(file, { bigint: true, throwIfNoEntry: false });
  if (!st) return 'it is gone';
  if (!st.isFile()) return 'it is no longer a regular file';
  if (Number(st.size) !== ref.size) return `its size is ${st.size} bytes, it was ${ref.size}`;
  if (st.dev.toString() === ref.dev && st.ino.toString() === ref.ino && st.mtimeNs.toString() === ref.mtime) return undefined;
  // Another file system or machine, or the file was touched: its contents decide.
  let sha: string;
  try {
    sha = hashFile(file);
  } catch (e) {
    return `it cannot be read (${(e as Error).message})`;
  }
  return sha === ref.sha256 ? undefined : 'its contents changed';
}

/** The error replay stops with when a file the trace refers to changed. */
export function changedFileError(dir: string, name: string, ref: FileRef, why: string): DivergenceError {
  const what = ref.how === 'reference'
    ? `${ref.path}, which the trace uses in place (it was not copied into the trace), is not the file the recording used: ${why}`
    : `${join(dir, 'files', name)}, the trace's hard link to ${ref.path}, is not the file the recording used: ${why} (a write into ${ref.path} in place changes the trace's link too)`;
  return new DivergenceError(
    `${what}. The recording cannot be replayed with it. Run \`trr pack\` on a trace before the files it refers to change, or before moving it to another machine.`,
  );
}

/** What `trr pack` did. */
export interface PackResult {
  readonly copied: number;
  readonly bytes: number;
}

/**
 * Makes the trace in `dir` self-contained: every blob held by reference is
 * copied into files/, every hard-linked blob replaced by a copy of its own,
 * after checking that each is still the recorded file (when one is not,
 * nothing is copied and the error names it). Idempotent: a
 * packed trace has no files.json, and packing it again does nothing. A pack
 * cut off half-way leaves a trace that replays and can be packed again.
 */
export function packTrace(dir: string): PackResult {
  const refs = readFileRefs(dir);
  let copied = 0;
  let bytes = 0;
  const sourceOf = (name: string, ref: FileRef) => (ref.how === 'reference' ? ref.path : join(dir, 'files', name));
  const packedAlready = (name: string, ref: FileRef) => ref.how === 'reference' && existsSync(join(dir, 'files', name));
  // Every file is checked before any is copied: a trace that cannot be packed is left as it was.
  for (const [name, ref] of refs) {
    const why = packedAlready(name, ref) ? undefined : refMismatch(sourceOf(name, ref), ref);
    if (why) throw changedFileError(dir, name, ref, why);
  }
  for (const [name, ref] of [...refs]) {
    const blob = join(dir, 'files', name);
    if (!packedAlready(name, ref)) {
      const source = sourceOf(name, ref);
      const tmp = `${blob}.pack`;
      try {
        if (existsSync(tmp)) unlinkSync(tmp);
        copyFileSparse(source, tmp, statSync(source).mode & 0o111 ? 0o700 : 0o600);
        if (hashFile(tmp) !== ref.sha256) {
          unlinkSync(tmp);
          throw changedFileError(dir, name, ref, 'it changed while it was being copied');
        }
        renameSync(tmp, blob);
      } catch (e) {
        if (e instanceof DivergenceError) throw e;
        throw fileError(e, `cannot copy ${source} into the trace ${dir}`);
      }
      copied++;
      bytes += ref.size;
    }
    refs.delete(name);
    writeFileRefs(dir, refs);
  }
  return { copied, bytes };
}
