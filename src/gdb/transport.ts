// The gdb server's transport, on the main thread's event loop: it listens on
// 127.0.0.1 only and serves one connection (a second one is closed at once),
// frames packets (rsp.ts) and hands each to a RemoteTarget in order, one at
// a time. The target answers from the replay worker (replay-worker.ts), so
// the event loop stays free while the replay runs: gdb's Ctrl-C byte is read
// here as soon as it arrives and becomes target.interrupt() at once, however
// long the current request takes. Nothing polls the socket.
import { createServer, type Server, type Socket } from 'node:net';
import { PacketReader, frame } from './rsp.js';
import type { PacketAnswer } from './server.js';

/** What answers the packets of a connection (the replay worker's GdbServer). */
export interface RemoteTarget {
  /** The answer to one packet; packets are sent one at a time, in order. Passing a packet on drops an interrupt not taken yet. */
  packet(payload: string): Promise<PacketAnswer>;
  /** gdb's Ctrl-C: stop what runs now (a resume in progress stops with an interrupt); none running, nothing happens. */
  interrupt(): void;
  /** The connection ended. */
  disconnected(): void;
}

/** Listens on 127.0.0.1:port (0 picks a free port) for one gdb; `onDone` when its connection ends. */
export function listenForGdb(port: number, target: RemoteTarget, onDone: () => void): Promise<{ port: number; server: Server }> {
  let busy = false;
  const server = createServer((sock) => {
    if (busy) {
      sock.destroy();
      return;
    }
    busy = true;
    serveConnection(sock, target, () => {
      server.close();
      onDone();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, server }));
  });
}

function serveConnection(sock: Socket, target: RemoteTarget, done: () => void): void {
  const reader = new PacketReader((s) => sock.write(s));
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    target.disconnected();
    done();
  };
  // Packets wait here while the one before is answered. An interrupt that
  // came after a waiting packet is for that packet's resume: it is passed on
  // as soon as that packet is (a packet clears any interrupt before it).
  type Item = { readonly payload: string } | { readonly reply: string } | 'interrupt';
  const queue: Item[] = [];
  let answering = false;
  const next = async () => {
    if (answering) return;
    answering = true;
    try {
      for (let item = queue.shift(); item !== undefined && !closed; item = queue.shift()) {
        if (item === 'interrupt') {
          target.interrupt();
          continue;
        }
        if ('reply' in item) {
          sock.write(Buffer.from(frame(item.reply), 'latin1'));
          continue;
        }
        const answer = target.packet(item.payload);
        while (queue[0] === 'interrupt') {
          queue.shift();
          target.interrupt();
        }
        const a = await answer;
        if (closed) return;
        if (a.reply !== undefined) sock.write(Buffer.from(frame(a.reply), 'latin1'));
        if (a.noAck) reader.ackMode = false;
        if (a.end) {
          sock.end();
          finish();
          return;
        }
      }
    } finally {
      answering = false;
    }
  };
  sock.on('data', (chunk) => {
    for (const msg of reader.feed(chunk)) {
      if (msg.kind === 'interrupt') {
        if (queue.length === 0) target.interrupt(); // for the resume being answered, if any
        else queue.push('interrupt');
      } else queue.push(msg.kind === 'malformed' ? { reply: msg.reply } : { payload: msg.payload });
    }
    void next().catch(() => {
      sock.destroy();
      finish();
    });
  });
  sock.on('close', finish);
  sock.on('error', finish);
}
