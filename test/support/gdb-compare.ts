// Running one gdb script on a native run of a test program and on trr's
// replay of its recording, for tests that compare what gdb printed.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, run, trr } from './harness.js';

export const source = (name: string) => readFileSync(join(repoRoot, 'test', 'programs', name), 'utf8');

/** The line of `file` that carries the comment marker `/* L_name *\/`. */
export function lineOf(file: string, marker: string): number {
  const i = source(file).split('\n').findIndex((l) => l.includes(`/* ${marker} */`));
  assert.ok(i >= 0, `no ${marker} in ${file}`);
  return i + 1;
}

/** What gdb printed with `print`: the values, in order. */
export function printed(out: string): string[] {
  return [...out.matchAll(/^\$\d+ = (.*)$/gm)].map((m) => m[1]!);
}

export function script(dir: string, name: string, lines: readonly string[]): string {
  const file = join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/**
 * Symbols bound at load time (for both runs of a test that goes backwards
 * under gdb's `record full`): the lazy binder saves and restores the vector
 * registers, and gdb 13's `record full` cannot write them back on CPUs whose
 * XSAVE area is larger than it knows (AMX: "Couldn't write extended state
 * status: Bad address").
 */
export const BIND_NOW = { ...process.env, LD_BIND_NOW: '1' };

/** gdb on the native program: stopped at `main`, then the script. */
export function native(dir: string, bin: string, body: readonly string[], env?: NodeJS.ProcessEnv): string {
  const lines = ['break main', 'run', ...body.filter((l) => !l.startsWith('T:')).map((l) => l.replace(/^N:/, ''))];
  const r = run('gdb', ['-nx', '-batch', '-x', script(dir, 'native.gdb', lines), bin], { cwd: dir, timeoutMs: 60_000, env });
  writeFileSync(join(dir, 'native.log'), `${r.stdout}\n--- stderr\n${r.stderr}`);
  return `${r.stdout}\n${r.stderr}`;
}

/** gdb on trr's replay of `trace`: continued to `main`, then the script. */
export function underTrr(dir: string, trace: string, body: readonly string[], intervalMs: string): string {
  const lines = ['break main', 'continue', ...body.filter((l) => !l.startsWith('N:')).map((l) => l.replace(/^T:/, ''))];
  const env = { ...process.env, TRR_CHECKPOINT_INTERVAL_MS: intervalMs };
  const r = trr(['replay', trace, '--', '-nx', '-batch', '-x', script(dir, `trr-${intervalMs}.gdb`, lines)], { timeoutMs: 90_000, env });
  writeFileSync(join(dir, `trr-${intervalMs}.log`), `${r.stdout}\n--- stderr\n${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  return `${r.stdout}\n${r.stderr}`;
}

