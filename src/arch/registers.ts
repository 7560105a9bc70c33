// x86-64 general-purpose register file as Linux's struct user_regs_struct
// (27 unsigned 64-bit fields, 216 bytes), with named accessors. The buffer
// is exactly what PTRACE_GETREGS/SETREGS exchange and what the trace stores.
export const REGISTER_NAMES = [
  'r15', 'r14', 'r13', 'r12', 'rbp', 'rbx', 'r11', 'r10', 'r9', 'r8',
  'rax', 'rcx', 'rdx', 'rsi', 'rdi', 'orig_rax', 'rip', 'cs', 'eflags', 'rsp',
  'ss', 'fs_base', 'gs_base', 'ds', 'es', 'fs', 'gs',
] as const;
export type RegisterName = (typeof REGISTER_NAMES)[number];
export const USER_REGS_SIZE = REGISTER_NAMES.length * 8;
const OFFSET = new Map<RegisterName, number>(REGISTER_NAMES.map((n, i) => [n, i * 8]));

/** Syscall argument registers in order. */
export const SYSCALL_ARG_REGS: readonly RegisterName[] = ['rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9'];

export class Registers {
  readonly raw: Buffer;
  constructor(raw?: Buffer) {
    if (raw && raw.length !== USER_REGS_SIZE) throw new Error(`register buffer of ${raw.length} bytes, expected ${USER_REGS_SIZE}`);
    this.raw = raw ? Buffer.from(raw) : Buffer.alloc(USER_REGS_SIZE);
  }
  get(name: RegisterName): bigint {
    return this.raw.readBigUInt64LE(OFFSET.get(name)!);
  }
  /** The register as a signed 64-bit value (syscall results, orig_rax). */
  getSigned(name: RegisterName): bigint {
    return this.raw.readBigInt64LE(OFFSET.get(name)!);
  }
  set(name: RegisterName, value: bigint): void {
    this.raw.writeBigUInt64LE(BigInt.asUintN(64, value), OFFSET.get(name)!);
  }
  clone(): Registers {
    return new Registers(this.raw);
  }
  get ip(): bigint { return this.get('rip'); }
  get sp(): bigint { return this.get('rsp'); }
  /** Syscall number at a syscall stop. */
  get syscallNo(): number { return Number(this.getSigned('orig_rax')); }
  get result(): bigint { return this.getSigned('rax'); }
  syscallArgs(): bigint[] {
    return SYSCALL_ARG_REGS.map((r) => this.get(r));
  }
  equals(other: Registers): boolean {
    return this.raw.equals(other.raw);
  }
  /** Names of registers whose values differ, for divergence messages. */
  diff(other: Registers, ignore: readonly RegisterName[] = []): string[] {
    const out: string[] = [];
    for (const n of REGISTER_NAMES) {
      if (ignore.includes(n)) continue;
      const a = this.get(n);
      const b = other.get(n);
      if (a !== b) out.push(`${n}: expected 0x${b.toString(16)}, found 0x${a.toString(16)}`);
    }
    return out;
  }
}
