// The replay off the event loop: `trr replay` runs the Debugger and the gdb
// server's packet handling (server.ts) in a worker thread, which is also the
// thread that traces the replayed tasks (ptrace belongs to the thread that
// attached). The main thread keeps the socket (transport.ts) and stays
// responsive while a request replays for minutes. gdb's Ctrl-C sets a flag in
// memory both threads share; the Debugger looks at it between events
// (Atomics, no system call) and stops the resume in progress with an
// interrupt. A packet passed on clears the flag, so a Ctrl-C that came while
// nothing ran does not stop the next resume.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Debugger } from '../replay/debugger.js';
import { openTraceWithEvents } from '../cli/trace-dir.js';
import { TrrError, describeError } from '../util/errors.js';
import { writeAll } from '../replay/session-util.js';
import { GdbServer, type PacketAnswer } from './server.js';
import type { RemoteTarget } from './transport.js';

export interface ReplayWorkerOptions {
  readonly dir: string;
  readonly process?: { readonly pid: number; readonly from: 'exec' | 'fork' };
  readonly showOutput: boolean;
  readonly gotoEvent?: number;
  readonly toEnd: boolean;
  /** The debuggee's executable when the session starts (the trace's copy). */
  readonly exePath: string;
}

type ToWorker = { readonly kind: 'packet'; readonly payload: string } | { readonly kind: 'disconnected' } | { readonly kind: 'close' };
type FromWorker =
  | { readonly kind: 'ready' }
  | { readonly kind: 'failed'; readonly message: string; readonly exitStatus: number }
  | { readonly kind: 'log'; readonly message: string }
  | ({ readonly kind: 'answer' } & PacketAnswer);

/** An error the worker reported, with its message and exit status as they were. */
class ReplayWorkerError extends TrrError {
  constructor(message: string, status: number) {
    super(message);
    this.exitStatus = status;
  }
}

/** The replay worker, as the main thread sees it: the RemoteTarget that answers gdb's packets. */
export class ReplayWorker implements RemoteTarget {
  private readonly answers: ((a: PacketAnswer) => void)[] = [];
  private readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    /** The interrupt flag the worker's Debugger looks at (1: gdb asked to stop). */
    private readonly flag: Int32Array,
    private readonly log: (m: string) => void,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: FromWorker) => {
      if (m.kind === 'log') this.log(m.message);
      else if (m.kind === 'answer') this.answers.shift()?.({ reply: m.reply, noAck: m.noAck, end: m.end });
    });
    // The worker died (a bug): the connection ends, and pending packets with it.
    worker.on('error', (e) => this.log(describeError(e).message));
    worker.once('exit', () => {
      for (const a of this.answers.splice(0)) a({ reply: undefined, noAck: false, end: true });
    });
  }

  /** Starts the replay in a worker; resolves once it stands where the session starts, or rejects with the worker's error. */
  static start(options: ReplayWorkerOptions, log: (m: string) => void): Promise<ReplayWorker> {
    const flag = new SharedArrayBuffer(4);
    const worker = new Worker(new URL(import.meta.url), { workerData: { trrReplayWorker: { ...options, flag } } });
    return new Promise((resolve, reject) => {
      const early = (m: FromWorker) => {
        if (m.kind === 'log') log(m.message);
        else if (m.kind === 'failed') {
          worker.off('message', early);
          reject(new ReplayWorkerError(m.message.replace(/^trr: /, ''), m.exitStatus));
        } else if (m.kind === 'ready') {
          worker.off('message', early);
          resolve(new ReplayWorker(worker, new Int32Array(flag), log));
        }
      };
      worker.on('message', early);
      worker.once('error', (e) => reject(e));
      worker.once('exit', (code) => reject(new ReplayWorkerError(`the replay stopped before the debugger could connect (status ${code}).`, 70)));
    });
  }

  packet(payload: string): Promise<PacketAnswer> {
    Atomics.store(this.flag, 0, 0); // a Ctrl-C before this packet belonged to the resume before it
    this.post({ kind: 'packet', payload });
    return new Promise((resolve) => this.answers.push(resolve));
  }

  interrupt(): void {
    Atomics.store(this.flag, 0, 1);
  }

  disconnected(): void {
    this.post({ kind: 'disconnected' });
  }

  /** Ends the replay (its tasks are killed) and the worker. */
  async close(): Promise<void> {
    this.post({ kind: 'close' });
    await this.exited;
  }

  private post(m: ToWorker): void {
    this.worker.postMessage(m);
  }
}

/** In the worker: opens the trace, makes the Debugger and the server, and answers packets until told to close. */
function workerMain(init: ReplayWorkerOptions & { readonly flag: SharedArrayBuffer }): void {
  directStdio();
  const port = parentPort!;
  const send = (m: FromWorker) => port.postMessage(m);
  const log = (message: string) => send({ kind: 'log', message });
  let dbg: Debugger | undefined;
  let server: GdbServer;
  try {
    const reader = openTraceWithEvents(init.dir);
    dbg = new Debugger(reader, init.process, { showOutput: init.showOutput });
    const flag = new Int32Array(init.flag);
    dbg.interruptRequested = () => Atomics.exchange(flag, 0, 0) === 1;
    server = new GdbServer(dbg, { exePath: init.exePath, trace: reader, log });
    if (init.gotoEvent !== undefined) server.startAt(dbg.goto({ kind: 'event', event: init.gotoEvent })!);
    if (init.toEnd) server.startAt(dbg.resume({ direction: 'forward', unit: 'continue' }));
  } catch (e) {
    dbg?.close();
    send({ kind: 'failed', ...describeError(e) });
    port.close();
    return;
  }
  const d = dbg;
  port.on('message', (m: ToWorker) => {
    if (m.kind === 'packet') send({ kind: 'answer', ...server.packet(m.payload) });
    else if (m.kind === 'disconnected') server.close();
    else {
      server.close();
      d.close();
      port.close();
    }
  });
  send({ kind: 'ready' });
}

/**
 * In a worker, process.stdout and process.stderr are asynchronous pipes to
 * the main thread: trr's diagnostics (TRR_LOG) would reach the terminal after
 * the replies that follow them, in the middle of gdb's output. They are
 * written to the file descriptors directly, as on the main thread.
 */
function directStdio(): void {
  for (const [stream, fd] of [
    [process.stdout, 1],
    [process.stderr, 2],
  ] as const) {
    stream.write = ((chunk: string | Uint8Array, encoding?: unknown, cb?: unknown): boolean => {
      writeAll(fd, typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.from(chunk));
      const done = typeof encoding === 'function' ? encoding : cb;
      if (typeof done === 'function') (done as () => void)();
      return true;
    }) as typeof stream.write;
  }
}

const init = !isMainThread ? (workerData as { trrReplayWorker?: ReplayWorkerOptions & { flag: SharedArrayBuffer } } | undefined)?.trrReplayWorker : undefined;
if (init) workerMain(init);
