// Facts about trr and the machine that go into a trace header.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CPUID_LEAVES, cpuFeatureDifferences, cpuidKey } from '../arch/cpuid.js';
import { cpuAllowed, cpuid } from '../native/native.js';
import type { Header } from '../trace/format.js';
import { TrrError } from '../util/errors.js';

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
  for (const [leaf, sub] of CPUID_LEAVES) out[cpuidKey(leaf, sub)] = cpuid(leaf, sub);
  return out;
}

/** Before a replay: one warning naming the CPU features that differ from the recording machine's, if any. */
export function warnCpuDifferences(header: Header, warn: (m: string) => void): void {
  if (header.cpu !== undefined && !cpuAllowed(header.cpu)) {
    warn(`the program ran on CPU ${header.cpu} when it was recorded, and this replay cannot run there; a program that reads the CPU number (sched_getcpu, rdpid, lsl) may diverge from the recording.`);
  }
  const diffs = cpuFeatureDifferences(header.cpuid, cpuidLeaves());
  if (diffs.length === 0) return;
  warn(
    `this CPU's features differ from those of the CPU the trace was recorded on: ${diffs.join('; ')}. ` +
      'A program that chose code paths by these features may diverge from the recording.',
  );
}
