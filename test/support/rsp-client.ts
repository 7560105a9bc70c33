// A minimal gdb remote-protocol client for the tests that speak to trr's
// gdbserver over a raw socket, and the `trr replay -s PORT` server it talks to.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { trrBin } from './harness.js';

export const checksum = (s: string) => ([...s].reduce((a, c) => a + c.charCodeAt(0), 0) & 0xff).toString(16).padStart(2, '0');
export const packet = (payload: string) => `$${payload}#${checksum(payload)}`;

export interface ClientOptions {
  /** Acknowledge every reply with '+' (until the test switches the server to no-ack mode). */
  readonly ack: boolean;
  /** Fail a wait for a reply after this long; none when absent. */
  readonly timeoutMs?: number;
}

export class RspClient {
  private buf = '';
  private waiters: ((s: string) => void)[] = [];
  constructor(
    readonly sock: Socket,
    private readonly options: ClientOptions,
  ) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      this.pump();
    });
  }
  private pump(): void {
    for (;;) {
      const m = /\$([^#]*)#[0-9a-f]{2}/.exec(this.buf);
      if (!m || this.waiters.length === 0) return;
      this.buf = this.buf.slice(m.index + m[0].length);
      if (this.options.ack) this.sock.write('+');
      this.waiters.shift()!(m[1]!);
    }
  }
  /** The next reply packet. */
  next(): Promise<string> {
    return new Promise((resolve, reject) => {
      const ms = this.options.timeoutMs;
      const t = ms === undefined ? undefined : setTimeout(() => reject(new Error(`no reply within ${ms} ms`)), ms);
      this.waiters.push((s) => {
        clearTimeout(t);
        resolve(s);
      });
      this.pump();
    });
  }
  request(payload: string): Promise<string> {
    this.sock.write(packet(payload), 'latin1');
    return this.next();
  }
  /** Ends whatever partial packet junk left open, then waits until a `qC` is answered: the stream is in step again. */
  async resync(): Promise<void> {
    this.sock.write('#00', 'latin1');
    this.sock.write(packet('qC'), 'latin1');
    for (;;) {
      const r = await this.next();
      if (r.startsWith('QC')) return;
    }
  }
}

export interface Served {
  readonly c: RspClient;
  readonly server: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly stderr: () => string;
  readonly port: number;
}

/** Starts `trr replay -s PORT TRACE` and connects to it. */
export async function serve(trace: string, options: ClientOptions): Promise<Served> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = spawn(process.execPath, [trrBin, 'replay', '-s', String(port), trace], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => server.on('exit', resolve));
  try {
    for (let i = 0; i < 100 && !stderr.includes('target extended-remote'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(stderr, new RegExp(`target extended-remote 127\\.0\\.0\\.1:${port}`));
    const sock = connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    return { c: new RspClient(sock, options), server, exited, stderr: () => stderr, port };
  } catch (e) {
    server.kill();
    throw e;
  }
}
