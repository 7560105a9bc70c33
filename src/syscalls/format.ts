// TEMPORARY placeholder formatter.
import type { SyscallInfo } from './table.generated.js';
export function formatSyscallArgs(_i: SyscallInfo, args: readonly bigint[], _s?: ReadonlyMap<number, string>): string { return args.map((a) => '0x' + a.toString(16)).join(', '); }
export function formatSyscallResult(_n: string, r: bigint): string { return r.toString(); }
