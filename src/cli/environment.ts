// Facts about trr and the machine that go into a trace header.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CPUID_LEAVES, cpuDifferences, cpuIdentity, cpuidKey } from '../arch/cpuid.js';
import { cpuAllowed, cpuid } from '../native/native.js';
import type { Header } from '../trace/format.js';
import { DivergenceError, TrrError } from '../util/errors.js';

const pkg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
export const TRR_VERSION: string = pkg.version;

export function kernelRelease(): string {
  return release();
}

/** RLIMIT_STACK soft limit as a decimal string, or 'unlimited'. */
export function stackLimit(): string {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max stack size'));
  const soft = line?.split(/\s{2,}/)[1]?.trim();
  return !soft || soft === 'unlimited' ? 'unlimited' : soft;
}

/** The working directory; fails with a clear message when it was deleted (which the recording could not reproduce). */
export function currentDir(): string {
  try {
    return process.cwd();
  } catch {
    throw new TrrError('the current directory no longer exists (it was deleted); change to an existing directory and run trr again.');
  }
}

/** This CPU's answers to the CPUID leaves a trace header keeps. */
export function cpuidLeaves(): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  const maxExtended = cpuid(0x80000000, 0)[0]! >>> 0;
  // A leaf above the highest extended one answers another leaf's values: leave it out.
  for (const [leaf, sub] of CPUID_LEAVES) if (leaf < 0x80000000 || leaf <= maxExtended) out[cpuidKey(leaf, sub)] = cpuid(leaf, sub);
  return out;
}

/** What differs between the CPU the trace was recorded on and this one (empty when nothing a replay can notice does). */
export function cpuDifferencesFrom(header: Header): string[] {
  return cpuDifferences(header.cpuid, cpuidLeaves());
}

/** The two CPUs, as "recorded on A, replaying on B", when the header says which it was recorded on. */
export function cpuPair(header: Header): string {
  const then = cpuIdentity(header.cpuid);
  const now = cpuIdentity(cpuidLeaves());
  return then && now ? (then === now ? ` (recorded on this model of CPU, ${now})` : ` (recorded on ${then}; replaying on ${now})`) : '';
}

/** Before a replay: one warning naming the CPU features that differ from the recording machine's, if any. */
export function warnCpuDifferences(header: Header, warn: (m: string) => void): void {
  if (header.cpu !== undefined && !cpuAllowed(header.cpu)) {
    warn(`the program ran on CPU ${header.cpu} when it was recorded, and this replay cannot run there; a program that reads the CPU number (sched_getcpu, rdpid, lsl) may diverge from the recording.`);
  }
  const diffs = cpuDifferencesFrom(header);
  if (diffs.length === 0) return;
  warn(
    `this CPU differs from the CPU the trace was recorded on${cpuPair(header)}: ${diffs.join('; ')}. ` +
      'A program that chose code paths by these features may diverge from the recording (trr cannot trap CPUID on this machine to show it the recorded answers).',
  );
}

/** A divergence, with a note when the replay runs on a CPU that differs from the recording's (its likely cause). */
export function withCpuNote(e: unknown, header: Header): unknown {
  if (!(e instanceof DivergenceError)) return e;
  const diffs = cpuDifferencesFrom(header);
  if (diffs.length === 0) return e;
  const note = new DivergenceError(`${e.message}\nThis replay runs on a CPU that differs from the recording's${cpuPair(header)} (${diffs.join('; ')}), which can explain it: replay the trace on a machine with the recording's CPU features.`);
  note.stack = e.stack;
  return note;
}
