// Installs the system packages trr's build and test suite use (cc, gdb,
// python3, sqlite3, git, strace, rustc), with apt-get, when they are missing
// and we are root. Without root it only reports what is missing. Nothing is
// downloaded from anywhere but the distribution's package archive.
import { spawnSync } from 'node:child_process';

const NEEDED = [
  { command: 'cc', pkg: 'gcc libc6-dev' },
  { command: 'gdb', pkg: 'gdb' },
  { command: 'python3', pkg: 'python3' },
  { command: 'sqlite3', pkg: 'sqlite3' },
  { command: 'git', pkg: 'git' },
  { command: 'strace', pkg: 'strace' },
  { command: 'rustc', pkg: 'rustc' },
  { command: 'useradd', pkg: 'passwd' },
];

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export function missingSystemPackages() {
  return NEEDED.filter((n) => !has(n.command)).flatMap((n) => n.pkg.split(' '));
}

export function ensureSystemDeps({ quiet = false } = {}) {
  const missing = missingSystemPackages();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0 || process.platform !== 'linux' || !has('apt-get')) {
    console.error(`[build] missing system packages: ${missing.join(' ')} (install them, e.g. apt-get install -y ${missing.join(' ')})`);
    return;
  }
  console.error(`[build] installing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const stdio = quiet ? 'ignore' : 'inherit';
  spawnSync('apt-get', ['update'], { stdio, env });
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio, env });
  if (r.status !== 0) console.error(`[build] apt-get install failed for: ${missing.join(' ')}`);
}
