// GDB Remote Serial Protocol transport: the framing layer between a byte
// stream and whole packets. It validates `$payload#cs` frames, sends and
// honours `+`/`-` acknowledgements (resending the last packet on `-`) until
// no-ack mode is entered, reports the `\x03` interrupt byte as its own event,
// undoes run-length encoding (`*`) and `}` escapes of incoming payloads, and
// frames outgoing payloads. It never looks inside a payload: it does not know
// packet names, never answers a packet by itself and knows nothing of replay.
// `RspTransport` is socket-free (bytes in through `feed`, bytes out through a
// callback) so it can be tested alone; `GdbConnection` binds one to a TCP
// socket on 127.0.0.1 and serves a single debugger connection.
import { createServer, type Server, type Socket } from 'node:net';

const DOLLAR = 0x24; // '$'
const HASH = 0x23; // '#'
const PLUS = 0x2b; // '+'
const MINUS = 0x2d; // '-'
const STAR = 0x2a; // '*'
const ESCAPE = 0x7d; // '}'
const INTERRUPT = 0x03;

/** What the transport hands to its user: a whole, checked packet or an interrupt request. */
export type TransportEvent =
  | { readonly kind: 'packet'; readonly payload: Buffer }
  | { readonly kind: 'interrupt' };

export interface TransportOptions {
  /** Receives packets (payload decoded: no `$`, `#`, checksum, run-length or escapes) and interrupts, in stream order. */
  readonly onEvent: (event: TransportEvent) => void;
  /** Receives the bytes to send to the debugger (acks and framed packets). */
  readonly write: (bytes: Buffer) => void;
  /**
   * Told about protocol problems the transport recovered from (bad checksum,
   * oversized packet, stray bytes). In ack mode a packet with a bad checksum
   * is nacked and dropped; in no-ack mode it is reported and delivered as is
   * (gdb will not resend it and would otherwise wait for a reply forever).
   */
  readonly onProblem?: (message: string) => void;
  /** Largest payload accepted, in wire bytes; longer packets are dropped (and nacked). Default 1 MiB. */
  readonly maxPacketSize?: number;
}

/** The modulo-256 sum of the bytes, as the two lowercase hex digits that follow `#`. */
export function checksum(bytes: Buffer | string): string {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  let sum = 0;
  for (let i = 0; i < b.length; i++) sum = (sum + b[i]!) & 0xff;
  return sum.toString(16).padStart(2, '0');
}

const needsEscape = (c: number): boolean => c === DOLLAR || c === HASH || c === ESCAPE || c === STAR;

/** Escapes binary data for a packet: `$`, `#`, `}` and `*` become `}` followed by the byte xor 0x20. */
export function escapeBinary(data: Buffer): Buffer {
  let extra = 0;
  for (let i = 0; i < data.length; i++) if (needsEscape(data[i]!)) extra++;
  if (extra === 0) return data;
  const out = Buffer.allocUnsafe(data.length + extra);
  let j = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if (needsEscape(c)) {
      out[j++] = ESCAPE;
      out[j++] = c ^ 0x20;
    } else out[j++] = c;
  }
  return out;
}

/** Undoes `escapeBinary`. A dangling final `}` is dropped. */
export function unescapeBinary(data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  let j = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if (c === ESCAPE) {
      if (i + 1 < data.length) out[j++] = data[++i]! ^ 0x20;
    } else out[j++] = c;
  }
  return out.subarray(0, j);
}

/**
 * Decodes a received payload as it was on the wire: `}x` is the byte x^0x20
 * and `c*n` is c followed by (n - 29) more copies of c. gdb escapes `$#}*` in
 * binary data (X, vFile:pwrite, qXfer writes), so a bare `*` is always a
 * repeat and a bare `}` always an escape. Malformed sequences are kept literally
 * and reported in `problems`.
 */
export function decodePayload(raw: Buffer, problems?: string[]): Buffer {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === ESCAPE) {
      if (i + 1 < raw.length) out.push(raw[++i]! ^ 0x20);
      else problems?.push('packet ends with an escape character');
    } else if (c === STAR) {
      const count = i + 1 < raw.length ? raw[i + 1]! - 29 : -1;
      if (out.length === 0 || count < 0) {
        problems?.push('run-length marker without a character or count');
        out.push(c);
        continue;
      }
      i++;
      const prev = out[out.length - 1]!;
      for (let k = 0; k < count; k++) out.push(prev);
    } else out.push(c);
  }
  return Buffer.from(out);
}

/** `$payload#cs` for a payload already in wire form (binary data escaped by the caller). */
export function frame(payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === DOLLAR || c === HASH) throw new RangeError(`packet payload contains an unescaped '${String.fromCharCode(c)}' at offset ${i}`);
  }
  return Buffer.concat([Buffer.from('$', 'latin1'), body, Buffer.from('#' + checksum(body), 'latin1')]);
}

const isHexDigit = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

type State = 'idle' | 'body' | 'sum1' | 'sum2';

/** A growable byte buffer for the packet being received. */
class ByteBuffer {
  private buf = Buffer.allocUnsafe(256);
  length = 0;
  push(c: number): void {
    if (this.length === this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    this.buf[this.length++] = c;
  }
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.length));
    this.length = 0;
    return out;
  }
  clear(): void {
    this.length = 0;
  }
}

/** Framing state machine for one connection; see the file comment. */
export class RspTransport {
  private state: State = 'idle';
  private readonly body = new ByteBuffer();
  private sum = 0;
  private sumText = '';
  private oversized = false;
  private acking = true;
  /** The last framed packet sent, kept for resending while it is unacknowledged. */
  private unacked: Buffer | undefined;
  private readonly maxPacketSize: number;

  constructor(private readonly options: TransportOptions) {
    this.maxPacketSize = options.maxPacketSize ?? 1 << 20;
  }

  /** True until `enterNoAckMode`. */
  get ackMode(): boolean {
    return this.acking;
  }

  /**
   * Stops sending and expecting acks. The dispatcher calls this right after
   * sending the OK reply to QStartNoAckMode; a `-` gdb may still send for that
   * reply makes it go out again, and its final `+` is simply absorbed.
   */
  enterNoAckMode(): void {
    this.acking = false;
  }

  /** Frames and sends a payload (wire form: binary data escaped, see `escapeBinary`). */
  send(payload: Buffer | string): void {
    const framed = frame(payload);
    this.unacked = this.acking ? framed : undefined;
    this.options.write(framed);
  }

  /** Consumes bytes from the debugger; any chunking is fine. */
  feed(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      switch (this.state) {
        case 'idle':
          this.idleByte(c);
          break;
        case 'body':
          if (c === HASH) this.state = 'sum1';
          else if (c === DOLLAR) {
            // `$` cannot occur inside a payload: the previous packet was cut short.
            this.problem('packet start inside a packet: the partial packet is dropped');
            this.startPacket();
          } else {
            this.sum = (this.sum + c) & 0xff;
            if (this.body.length < this.maxPacketSize) this.body.push(c);
            else this.oversized = true;
          }
          break;
        case 'sum1':
          this.sumText = isHexDigit(c) ? String.fromCharCode(c) : '';
          this.state = 'sum2';
          break;
        case 'sum2':
          this.state = 'idle';
          this.endPacket(this.sumText !== '' && isHexDigit(c) ? parseInt(this.sumText + String.fromCharCode(c), 16) : -1);
          break;
      }
    }
  }

  private idleByte(c: number): void {
    if (c === DOLLAR) this.startPacket();
    else if (c === INTERRUPT) this.options.onEvent({ kind: 'interrupt' });
    else if (c === PLUS) this.unacked = undefined;
    else if (c === MINUS) {
      if (this.unacked) this.options.write(this.unacked);
    } else this.problem(`stray byte 0x${c.toString(16).padStart(2, '0')} between packets`);
  }

  private startPacket(): void {
    this.state = 'body';
    this.body.clear();
    this.sum = 0;
    this.oversized = false;
  }

  private endPacket(expected: number): void {
    if (this.oversized) {
      this.body.clear();
      this.problem(`packet longer than ${this.maxPacketSize} bytes dropped`);
      if (this.acking) this.options.write(Buffer.from('-'));
      return;
    }
    if (expected !== this.sum) {
      const what = expected < 0 ? 'malformed checksum' : `bad checksum (computed ${this.sum.toString(16).padStart(2, '0')}, received ${expected.toString(16).padStart(2, '0')})`;
      if (this.acking) {
        this.body.clear();
        this.problem(`packet with a ${what} dropped and nacked`);
        this.options.write(Buffer.from('-'));
        return;
      }
      // Without acks gdb expects no retransmission protocol: the packet is used as received.
      this.problem(`packet with a ${what} accepted in no-ack mode`);
    } else if (this.acking) this.options.write(Buffer.from('+'));
    const problems: string[] = [];
    const payload = decodePayload(this.body.take(), problems);
    for (const p of problems) this.problem(p);
    this.options.onEvent({ kind: 'packet', payload });
  }

  private problem(message: string): void {
    this.options.onProblem?.(message);
  }
}

export interface ConnectionHandlers {
  /** A packet from gdb (decoded payload). */
  readonly onPacket: (payload: Buffer) => void;
  /** gdb sent the interrupt byte (Ctrl-C). */
  readonly onInterrupt?: () => void;
  /** The debugger connected (address of its end). */
  readonly onConnect?: (remote: string) => void;
  /** The debugger's connection ended (either side closed it, or it failed). */
  readonly onClose?: () => void;
  /** Recovered protocol problems and refused extra connections, for logging. */
  readonly onProblem?: (message: string) => void;
  readonly maxPacketSize?: number;
}

/**
 * One gdb connection over TCP on 127.0.0.1. The first connection is served;
 * any other arriving while it is open is accepted and closed at once, and the
 * listener is closed when the served connection ends (one session per listen).
 */
export class GdbConnection {
  private server: Server | undefined;
  private socket: Socket | undefined;
  private transport: RspTransport | undefined;
  private ended = false;

  constructor(private readonly handlers: ConnectionHandlers) {}

  /** Listens on 127.0.0.1:port (0 picks a free port); resolves with the bound port. */
  listen(port = 0): Promise<number> {
    if (this.server) return Promise.reject(new Error('GdbConnection is already listening'));
    const server = createServer((sock) => this.accept(sock));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        server.on('error', (e) => this.handlers.onProblem?.(`gdb listener: ${e.message}`));
        resolve((server.address() as { port: number }).port);
      });
    });
  }

  /** True while a debugger is connected. */
  get connected(): boolean {
    return this.socket !== undefined && !this.ended;
  }

  /** Sends one packet (wire-form payload) to the connected debugger; ignored when none is connected. */
  send(payload: Buffer | string): void {
    if (this.connected) this.transport!.send(payload);
  }

  /** See `RspTransport.enterNoAckMode`. */
  enterNoAckMode(): void {
    this.transport?.enterNoAckMode();
  }

  /** Closes the connection (after flushing what was written) and the listener. */
  close(): void {
    this.server?.close();
    if (this.socket && !this.ended) this.socket.end();
  }

  private accept(sock: Socket): void {
    if (this.socket) {
      this.handlers.onProblem?.(`refused a second gdb connection from ${sock.remoteAddress}:${sock.remotePort}`);
      sock.on('error', () => {});
      sock.destroy();
      return;
    }
    this.socket = sock;
    sock.setNoDelay(true);
    this.transport = new RspTransport({
      write: (bytes) => {
        if (!this.ended) sock.write(bytes);
      },
      onEvent: (e) => {
        if (this.ended) return;
        if (e.kind === 'interrupt') this.handlers.onInterrupt?.();
        else this.handlers.onPacket(e.payload);
      },
      ...(this.handlers.onProblem ? { onProblem: this.handlers.onProblem } : {}),
      ...(this.handlers.maxPacketSize !== undefined ? { maxPacketSize: this.handlers.maxPacketSize } : {}),
    });
    sock.on('data', (chunk: Buffer) => this.transport!.feed(chunk));
    const finish = () => {
      if (this.ended) return;
      this.ended = true;
      this.server?.close();
      this.handlers.onClose?.();
    };
    sock.on('close', finish);
    sock.on('error', (e) => {
      this.handlers.onProblem?.(`gdb connection: ${e.message}`);
      finish();
    });
    this.handlers.onConnect?.(`${sock.remoteAddress}:${sock.remotePort}`);
  }
}
