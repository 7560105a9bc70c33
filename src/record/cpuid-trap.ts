// CPUID faulting: where the CPU supports it (arch_prctl(ARCH_SET_CPUID, 0);
// most Intel CPUs, not AMD), trr makes every cpuid instruction of the
// recorded program fault, answers it itself and records the answer, so that
// replay hands back the same one (also on another CPU), and so that trr can
// hide the features whose instructions it cannot record: RDRAND and RDSEED
// (random numbers from the CPU, without a syscall) and transactional memory
// (HLE/RTM, whose aborts depend on the hardware). Programs that ask then take
// their fallback paths (getrandom, plain locks), as rr makes them do.
//
// The kernel resets the mode at every execve, so trr sets it again in the new
// program before its first instruction (the dynamic loader asks cpuid at
// once). fork and clone inherit it. The program's own ARCH_GET_CPUID and
// ARCH_SET_CPUID act on a mode trr keeps per thread: a cpuid in the program's
// own faulting mode raises SIGSEGV as it would natively.
import { Registers } from '../arch/registers.js';
import { cpuid } from '../native/native.js';
import { nr } from '../syscalls/names.js';
import { runSyscallIn } from '../task/inject.js';
import { ARCH_SET_CPUID } from '../task/kernel-abi.js';
import type { Task } from '../task/task.js';
import { UnsupportedError } from '../util/errors.js';

const RDRAND = 1 << 30; // leaf 1, ecx
const HLE = 1 << 4; // leaf 7.0, ebx
const RTM = 1 << 11;
const RDSEED = 1 << 18;

/** The answer the program gets to cpuid(leaf, subleaf): this CPU's, with the unrecordable features masked out. */
export function cpuidAnswer(leaf: number, subleaf: number): [number, number, number, number] {
  const v = cpuid(leaf, subleaf);
  if (leaf === 1) v[2] = (v[2] & ~RDRAND) >>> 0;
  if (leaf === 7 && subleaf === 0) v[1] = (v[1] & ~(HLE | RTM | RDSEED)) >>> 0;
  return v;
}

/** The registers after the cpuid instruction `regs` stand at (2 bytes). */
export function afterCpuid(regs: Registers): Registers {
  const [a, b, c, d] = cpuidAnswer(Number(regs.get('rax') & 0xffffffffn), Number(regs.get('rcx') & 0xffffffffn));
  const after = regs.clone();
  after.set('rax', BigInt(a));
  after.set('rbx', BigInt(b));
  after.set('rcx', BigInt(c));
  after.set('rdx', BigInt(d));
  after.set('rip', regs.ip + 2n);
  return after;
}

/** Turns CPUID faulting on in `task`, stopped where it can run a syscall (after its execve). */
export function enableCpuidFaulting(task: Task): void {
  const cannot = (why: string) =>
    new UnsupportedError(`trr could not make the cpuid instruction fault in process ${task.tgid} after its execve (${why}); its cpuid answers would not be recorded, so recording stops here. \`trr record\` with TRR_NO_CPUID_FAULTING=1 records without it (as on CPUs that lack CPUID faulting).`);
  const r = runSyscallIn(task, nr('arch_prctl'), [ARCH_SET_CPUID, 0n], cannot);
  if (r !== 0n) throw cannot(`arch_prctl(ARCH_SET_CPUID, 0) failed with -errno ${-r}`);
}
