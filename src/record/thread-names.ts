// Thread names (the kernel's `comm`, what `info threads` shows) as the
// recording changes them: prctl(PR_SET_NAME) and writes to a comm file under
// /proc (pthread_setname_np writes /proc/self/task/TID/comm). After such a
// syscall the recorder reads the names of the process's threads and the
// record carries them (`extra.names`). Names at exec and clone follow from
// the trace (the program's file name, the parent's name), so replay knows the
// name each thread has at every event (src/replay/thread-names.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { nr } from '../syscalls/names.js';

const PR_SET_NAME = 15n;
const COMM_FILE = /^\/proc\/(self|thread-self|\d+)(\/task\/\d+)?\/comm$/;
const OPENS = new Set([nr('open'), nr('openat'), nr('openat2')]);
const WRITES = new Set(['write', 'pwrite64', 'writev', 'pwritev', 'pwritev2'].map((n) => nr(n)));

export class ThreadNameWatch {
  /** Per process (tgid), its descriptors open on a comm file. */
  private readonly commFds = new Map<number, Set<number>>();

  /**
   * After syscall `nrv` of thread `tid` of process `tgid` returned `result`:
   * the names of the process's threads when it may have changed one, else
   * undefined. `path` is its path argument, if it has one.
   */
  after(tid: number, tgid: number, nrv: number, args: readonly bigint[], result: bigint, path: string | undefined): [number, string][] | undefined {
    if (result < 0n) return undefined;
    const fd = Number(BigInt.asIntN(32, args[0] ?? 0n));
    if (OPENS.has(nrv)) {
      if (path !== undefined && COMM_FILE.test(path)) this.fdsOf(tgid).add(Number(result));
      else this.commFds.get(tgid)?.delete(Number(result));
      return undefined;
    }
    if (nrv === nr('close')) {
      this.commFds.get(tgid)?.delete(fd);
      return undefined;
    }
    const named = (nrv === nr('prctl') && args[0] === PR_SET_NAME) || (WRITES.has(nrv) && result > 0n && this.commFds.get(tgid)?.has(fd) === true);
    return named ? namesOf(tgid, tid) : undefined;
  }

  private fdsOf(tgid: number): Set<number> {
    let s = this.commFds.get(tgid);
    if (!s) this.commFds.set(tgid, (s = new Set()));
    return s;
  }
}

/** [tid, comm] of every thread of process `tgid` (at least `tid`'s). */
function namesOf(tgid: number, tid: number): [number, string][] {
  let tids: number[];
  try {
    tids = readdirSync(`/proc/${tgid}/task`).map(Number);
  } catch {
    tids = [tid];
  }
  const out: [number, string][] = [];
  for (const t of tids) {
    try {
      out.push([t, readFileSync(`/proc/${tgid}/task/${t}/comm`, 'utf8').replace(/\n$/, '')]);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
