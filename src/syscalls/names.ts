// Names for numbers: syscalls, errnos, signals. Lookups by name throw on an
// unknown name, since that is a bug in trr, not in the traced program.
import { constants } from 'node:os';
import { SYSCALLS, SYSCALL_NUMBERS } from './table.generated.js';

export function syscallName(n: number): string {
  return SYSCALLS.get(n)?.name ?? `syscall_${n}`;
}

/** The number of a syscall by name, e.g. nr('read') === 0. */
export function nr(name: string): number {
  const v = SYSCALL_NUMBERS[name];
  if (v === undefined) throw new Error(`unknown syscall name ${name}`);
  return v;
}

export const ERRNO: Readonly<Record<string, number>> = {
  ...(constants.errno as Record<string, number>),
  ERESTARTSYS: 512,
  ERESTARTNOINTR: 513,
  ERESTARTNOHAND: 514,
  ERESTART_RESTARTBLOCK: 516,
};
const ERRNO_NAMES = new Map<number, string>();
for (const [k, v] of Object.entries(ERRNO)) if (!ERRNO_NAMES.has(v) || k === 'EAGAIN' || k === 'EDEADLK' || k === 'ENOTSUP') ERRNO_NAMES.set(v, k);

export function errnoName(e: number): string {
  return ERRNO_NAMES.get(e) ?? `errno ${e}`;
}

const SIGNAL_NAMES = new Map<number, string>();
for (const [k, v] of Object.entries(constants.signals as Record<string, number>)) if (!SIGNAL_NAMES.has(v) && k !== 'SIGIOT' && k !== 'SIGPOLL') SIGNAL_NAMES.set(v, k);

export function signalName(n: number): string {
  if (SIGNAL_NAMES.has(n)) return SIGNAL_NAMES.get(n)!;
  if (n >= 34 && n <= 64) return n === 34 ? 'SIGRTMIN' : `SIGRTMIN+${n - 34}`;
  return `signal ${n}`;
}
