#!/usr/bin/env node
// Builds everything trr needs after `npm install`: installs missing system
// packages (when run as root), generates the syscall table, compiles the C
// parts with the system `cc`, and compiles the TypeScript with tsc. It never
// downloads anything but Debian packages through apt-get.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const log = (msg) => { if (!quiet) console.error(`[build] ${msg}`); };

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`[build] failed: ${cmd} ${args.join(' ')}`);
    process.exit(r.status ?? 1);
  }
}

function newer(target, sources) {
  if (!existsSync(target)) return true;
  const t = statSync(target).mtimeMs;
  return sources.some((s) => statSync(s).mtimeMs > t);
}

// 1. System packages the tests and the C build need.
await import('./system-deps.mjs').then((m) => m.ensureSystemDeps({ quiet }));

// 2. Generated syscall table.
const gen = join(root, 'scripts/gen-syscalls.mjs');
if (existsSync(gen)) {
  const { generateSyscallTable } = await import(gen);
  generateSyscallTable(root);
}

// 3. C parts, compiled with the system cc.
mkdirSync(join(root, 'build'), { recursive: true });
const nativeSrc = join(root, 'src/native/trr_native.c');
const nativeLib = join(root, 'build/libtrr_native.so');
if (newer(nativeLib, [nativeSrc])) {
  log('cc src/native/trr_native.c');
  run('cc', ['-O2', '-g', '-Wall', '-Wextra', '-Werror', '-fPIC', '-shared', '-o', nativeLib, nativeSrc]);
}
// The syscall buffer library trr preloads into recorded programs (src/preload).
// -mgeneral-regs-only: the library runs inside libc's patched syscall
// instructions (trr_patch.c), across which the kernel keeps every vector
// register, so none of its code may touch one (it has its own memcpy).
const preloadSrcs = ['trr_preload.c', 'trr_patch.c'].map((f) => join(root, 'src/preload', f));
const preloadLib = join(root, 'build/libtrr_preload.so');
if (newer(preloadLib, [...preloadSrcs, join(root, 'src/preload/trr_preload.h')])) {
  log('cc src/preload/trr_preload.c src/preload/trr_patch.c');
  run('cc', ['-O2', '-g', '-Wall', '-Wextra', '-Werror', '-fPIC', '-shared', '-fno-stack-protector', '-fno-delete-null-pointer-checks', '-Wno-nonnull-compare', '-mgeneral-regs-only', '-fno-tree-loop-distribute-patterns', '-o', preloadLib, ...preloadSrcs]);
}

// The bundled examples, for the README's quick start.
for (const name of ['bank']) {
  const src = join(root, 'examples', `${name}.c`);
  const out = join(root, 'build', 'examples', name);
  mkdirSync(dirname(out), { recursive: true });
  if (newer(out, [src])) run('cc', ['-g', '-O0', '-o', out, src]);
}

// 4. TypeScript.
log('tsc');
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')]);

