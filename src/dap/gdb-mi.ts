// A gdb driven through its Machine Interface (`gdb --interpreter=mi3`):
// commands go out one at a time with a token, and each resolves with its
// result record and the console output it produced. Asynchronous records
// (`*stopped`, `*running`, `=...`) and output nobody asked for go to the
// listeners.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { parseMiLine, type MiRecord, type MiTuple } from './mi.js';

export interface MiResult {
  readonly cls: string;
  readonly results: MiTuple;
  /** What the console and target streams printed while the command ran. */
  readonly output: string;
}

export class MiError extends Error {}

interface Pending {
  readonly token: number;
  readonly command: string;
  output: string;
  log: string;
  resolve(r: MiResult): void;
  reject(e: Error): void;
}

export interface GdbMiEvents {
  exec: [cls: string, results: MiTuple];
  notify: [cls: string, results: MiTuple];
  /** Console, target and log output that no command asked for. */
  output: [text: string, stream: 'console' | 'target' | 'log'];
  exit: [code: number | null, stderr: string];
}

export class GdbMi extends EventEmitter<GdbMiEvents> {
  private readonly proc: ChildProcessWithoutNullStreams;
  private nextToken = 1;
  private readonly queue: { command: string; resolve(r: MiResult): void; reject(e: Error): void }[] = [];
  private current: Pending | undefined;
  private stderr = '';
  exited = false;
  /** Console output since the target last resumed (gdb says some things, such as the end of the history, only there). */
  recent = '';
  readonly started: Promise<void>;

  constructor(gdb: string, args: readonly string[]) {
    super();
    this.proc = spawn(gdb, ['--interpreter=mi3', '-q', '-nx', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.started = new Promise((resolve, reject) => {
      this.proc.once('spawn', () => resolve());
      this.proc.once('error', (e) => reject(e));
    });
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    createInterface({ input: this.proc.stdout }).on('line', (line) => this.line(line));
    this.proc.on('exit', (code) => {
      this.exited = true;
      const err = new MiError(`gdb exited${code === null ? '' : ` with status ${code}`}${this.stderr ? `: ${this.stderr.trim()}` : ''}`);
      this.current?.reject(err);
      this.current = undefined;
      for (const q of this.queue.splice(0)) q.reject(err);
      this.emit('exit', code, this.stderr);
    });
  }

  /** Sends an MI command (without its token); resolves on ^done/^running/^connected, rejects on ^error. */
  command(command: string): Promise<MiResult> {
    if (this.exited) return Promise.reject(new MiError('gdb is not running'));
    return new Promise((resolve, reject) => {
      this.queue.push({ command, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.current || this.queue.length === 0 || this.exited) return;
    const next = this.queue.shift()!;
    const token = this.nextToken++;
    this.current = { token, command: next.command, output: '', log: '', resolve: next.resolve, reject: next.reject };
    if (process.env.TRR_LOG?.includes('mi')) process.stderr.write(`[mi] <- ${token}${next.command}\n`);
    this.proc.stdin.write(`${token}${next.command}\n`);
  }

  private line(line: string): void {
    if (process.env.TRR_LOG?.includes('mi')) process.stderr.write(`[mi] -> ${line}\n`);
    let r: MiRecord;
    try {
      r = parseMiLine(line);
    } catch {
      r = { type: 'unknown', line };
    }
    switch (r.type) {
      case 'result': {
        const cur = this.current;
        if (!cur || r.token !== cur.token) return;
        this.current = undefined;
        if (r.cls === 'error') {
          const msg = typeof r.results.msg === 'string' ? r.results.msg : 'error';
          cur.reject(new MiError(msg));
        } else {
          // Warnings a command printed (its errors are in the error itself).
          if (cur.log) this.emit('output', cur.log, 'log');
          cur.resolve({ cls: r.cls, results: r.results, output: cur.output });
        }
        this.pump();
        return;
      }
      case 'exec':
        this.emit('exec', r.cls, r.results);
        if (r.cls === 'running') this.recent = '';
        return;
      case 'notify':
        this.emit('notify', r.cls, r.results);
        return;
      case 'console':
      case 'target':
      case 'log':
        if (r.type !== 'log') this.recent = (this.recent + r.text).slice(-2000);
        if (this.current && r.type === 'log') this.current.log += r.text;
        else if (this.current) this.current.output += r.text;
        else this.emit('output', r.text, r.type);
        return;
      case 'unknown':
        // The inferior's own output would come here; the replay's goes through trr instead.
        if (line.length) this.emit('output', line + '\n', 'target');
        return;
      default:
        return;
    }
  }

  /** Asks gdb to exit, and kills it if it has not within `ms`. */
  async exit(ms = 3000): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.stdin.write('-gdb-exit\n');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), ms);
    await gone;
    clearTimeout(timer);
  }
}
