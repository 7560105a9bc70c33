// Writes through /proc/PID/mem: the kernel stores the bytes straight into a
// process's memory (the program's own, or another recorded process's),
// which replay, where the write is emulated, would otherwise never see. The
// recorder notes where such a write lands at its entry and records the bytes
// it left there at its exit (see RecordSession, `memOf` in the trace).
import { readlinkSync } from 'node:fs';
import { fdPosition } from '../task/procfs.js';
import { nr } from '../syscalls/names.js';

export interface ProcMemWrite {
  /** The tid named by the /proc path (a process's, or one of its threads'). */
  readonly tid: number;
  /** The address the write starts at (its file offset). */
  readonly address: bigint;
}

const POSITIONED = new Set(['pwrite64', 'pwritev', 'pwritev2'].map(nr));
const WRITES = new Set(['write', 'writev', 'pwrite64', 'pwritev', 'pwritev2'].map(nr));

/** Whether fd of thread `tid` is open on a /proc/PID/mem or /proc/PID/task/TID/mem file: the tid it names. */
export function procMemTid(tid: number, fd: number): number | undefined {
  let target: string;
  try {
    target = readlinkSync(`/proc/${tid}/fd/${fd}`);
  } catch {
    return undefined;
  }
  const m = /^\/proc\/(\d+)(?:\/task\/(\d+))?\/mem$/.exec(target);
  return m ? Number(m[2] ?? m[1]) : undefined;
}

/**
 * At the entry of a write-family syscall on fd: where it writes into a
 * process's memory, if fd is a /proc/PID/mem file. `unsupported` says why a
 * syscall writing there cannot be recorded (an in-kernel transfer).
 */
export function procMemWriteAt(tid: number, nrv: number, fd: number, args: readonly bigint[]): ProcMemWrite | { unsupported: string } | undefined {
  const target = procMemTid(tid, fd);
  if (target === undefined) return undefined;
  if (!WRITES.has(nrv)) return { unsupported: `it copies data inside the kernel into the memory of process ${target} (through /proc/${target}/mem), which trr cannot record; only write, pwrite64, writev, pwritev and pwritev2 into /proc/PID/mem are recorded.` };
  const offset = POSITIONED.has(nrv) && !(nrv === nr('pwritev2') && args[3] === 0xffffffffffffffffn) ? args[3]! : fdPosition(tid, fd);
  return { tid: target, address: offset };
}
