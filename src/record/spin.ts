// Spin detection for the recorder: is a thread that has run a long time
// without syscalls waiting in a loop for another thread (which trr, running
// one thread at a time, would never let happen), or computing? It samples
// the thread with PTRACE_INTERRUPT. A waiting loop keeps every register but
// rip and eflags unchanged; a thread that computes does not.
import type { Registers } from '../arch/registers.js';
import { PTRACE, PTRACE_EVENT, WAIT, ptraceRaw, waitpid, waitStatus } from '../native/native.js';
import type { Task } from '../task/task.js';

export type SpinVerdict =
  | { readonly kind: 'spinning' }
  | { readonly kind: 'computing' }
  /** The thread stopped for another reason meanwhile: the caller must handle this wait status. */
  | { readonly kind: 'stopped'; readonly status: number };

const SAMPLES = 4;
const SAMPLE_GAP_MS = 20;

export function sampleSpinning(task: Task): SpinVerdict {
  const samples: Registers[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    if (ptraceRaw(PTRACE.INTERRUPT, task.tid, 0, 0) < 0) return { kind: 'computing' };
    const w = waitpid(task.tid, WAIT.__WALL);
    if (!w) return { kind: 'computing' };
    if (!waitStatus.stopped(w.status) || waitStatus.event(w.status) !== PTRACE_EVENT.STOP) return { kind: 'stopped', status: w.status };
    task.invalidate();
    const r = task.regs().clone();
    r.set('eflags', 0n);
    samples.push(r);
    ptraceRaw(PTRACE.CONT, task.tid, 0, 0);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, SAMPLE_GAP_MS);
  }
  const ips = samples.map((r) => r.ip);
  const near = ips.every((ip) => ip - ips[0]! < 256n && ips[0]! - ip < 256n);
  const withoutIp = samples.map((r) => {
    const c = r.clone();
    c.set('rip', 0n);
    return c;
  });
  return near && withoutIp.every((r) => r.equals(withoutIp[0]!)) ? { kind: 'spinning' } : { kind: 'computing' };
}
