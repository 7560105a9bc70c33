// Readers for the /proc files the tracer consults about a tracee: memory
// maps, signal dispositions, and what a file descriptor refers to. Plain
// parsing; no decisions.
import { readFileSync, statSync } from 'node:fs';

export interface Mapping {
  readonly start: bigint;
  readonly end: bigint;
  readonly perms: string;
  readonly offset: bigint;
  readonly inode: number;
  readonly path: string;
}

export function parseMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) \S+ (\d+)\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push({ start: BigInt('0x' + m[1]), end: BigInt('0x' + m[2]), perms: m[3]!, offset: BigInt('0x' + m[4]), inode: Number(m[5]), path: m[6] ?? '' });
  }
  return out;
}

export function readMapsText(pid: number): string {
  return readFileSync(`/proc/${pid}/maps`, 'utf8');
}

/** A task's tid in the innermost PID namespace it belongs to (the last of NSpid). */
export function innermostTid(tid: number): number {
  let text = '';
  try {
    text = readFileSync(`/proc/${tid}/status`, 'utf8');
  } catch {
    return tid; // already reaped
  }
  const m = /^NSpid:\s*([\d\s]+)$/m.exec(text);
  const ids = m ? m[1]!.trim().split(/\s+/) : [];
  return ids.length ? Number(ids[ids.length - 1]) : tid;
}

/** Bitmasks of ignored and caught signals (bit n-1 for signal n). */
export function signalMasks(pid: number): { ignored: bigint; caught: bigint; blocked: bigint } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (k: string) => {
    const m = new RegExp(`^${k}:\\s*([0-9a-f]+)`, 'm').exec(text);
    return m ? BigInt('0x' + m[1]) : 0n;
  };
  return { ignored: get('SigIgn'), caught: get('SigCgt'), blocked: get('SigBlk') };
}

/** Signals whose default action is to ignore them. */
const DEFAULT_IGNORE = new Set([17 /* SIGCHLD */, 18 /* SIGCONT */, 23 /* SIGURG */, 28 /* SIGWINCH */]);
const DEFAULT_STOP = new Set([19, 20, 21, 22]);

export type Disposition = 'handler' | 'ignore' | 'terminate' | 'stop';

export function signalDisposition(pid: number, sig: number): Disposition {
  const { ignored, caught } = signalMasks(pid);
  const bit = 1n << BigInt(sig - 1);
  if (caught & bit) return 'handler';
  if (ignored & bit) return 'ignore';
  if (DEFAULT_IGNORE.has(sig)) return 'ignore';
  if (DEFAULT_STOP.has(sig)) return 'stop';
  return 'terminate';
}

interface FileId { dev: number; ino: number }
let stdioIds: (FileId | undefined)[] | undefined;

function fileId(path: string | number): FileId | undefined {
  try {
    const st = typeof path === 'number' ? statSync(`/proc/self/fd/${path}`) : statSync(path);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  }
}

/**
 * 1 or 2 when the tracee's fd refers to the same file as trr's own stdout or
 * stderr (so replay echoes what was written to it there), else 0.
 */
export function stdioStreamOf(pid: number, fd: number): number {
  stdioIds ??= [undefined, fileId(1), fileId(2)];
  const id = fileId(`/proc/${pid}/fd/${fd}`);
  if (!id) return 0;
  const matches = (k: 1 | 2) => stdioIds![k] !== undefined && stdioIds![k]!.dev === id.dev && stdioIds![k]!.ino === id.ino;
  if (matches(1) && matches(2)) return fd === 2 ? 2 : 1;
  if (matches(1)) return 1;
  if (matches(2)) return 2;
  return 0;
}

/** The file offset of a tracee's descriptor (the "pos" line of /proc/TID/fdinfo/FD). */
export function fdPosition(tid: number, fd: number): bigint {
  const m = /^pos:\s*(\d+)/m.exec(readFileSync(`/proc/${tid}/fdinfo/${fd}`, 'utf8'));
  return m ? BigInt(m[1]!) : 0n;
}
