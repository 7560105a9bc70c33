// TEMPORARY placeholder names module.
import { SYSCALLS, SYSCALL_NUMBERS } from './table.generated.js';
import { constants } from 'node:os';
export function syscallName(n: number): string { return SYSCALLS.get(n)?.name ?? `syscall_${n}`; }
export function nr(name: string): number { const v = SYSCALL_NUMBERS[name]; if (v === undefined) throw new Error(`unknown syscall ${name}`); return v; }
export const syscallNumber = nr;
const E = constants.errno as Record<string, number>;
export const ERRNO: Readonly<Record<string, number>> = E;
export function errnoName(e: number): string { return Object.entries(E).find(([, v]) => v === e)?.[0] ?? `errno ${e}`; }
const S = constants.signals as Record<string, number>;
export function signalName(n: number): string { return Object.entries(S).find(([, v]) => v === n)?.[0] ?? `SIG${n}`; }
