// GDB Remote Serial Protocol framing: `$payload#checksum`, acks, the
// interrupt byte, run-length decoding and binary escapes. It turns bytes
// into packets and packets into bytes; it knows nothing of what they mean.
//
// Input is bounded: a packet may be at most MAX_PACKET bytes between `$` and
// `#` (the PacketSize the server announces), and its run-length expansion at
// most MAX_DECODED bytes. A packet over the limit, or one whose run-length
// encoding is malformed, is dropped and answered with an error; nothing a
// client sends makes the reader throw or buffer without limit.

export type Incoming =
  | { readonly kind: 'packet'; readonly payload: string }
  | { readonly kind: 'interrupt' }
  /** A packet that was dropped: answer it with `reply` (an error packet). */
  | { readonly kind: 'malformed'; readonly reply: string };

/** Largest packet (bytes between `$` and `#`) accepted; announced in qSupported as PacketSize. */
export const MAX_PACKET = 0x20000;
/** Largest payload a packet may decode to (run-length expansion included). */
export const MAX_DECODED = 4 * MAX_PACKET;

export function checksum(s: string): string {
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum = (sum + s.charCodeAt(i)) & 0xff;
  return sum.toString(16).padStart(2, '0');
}

/** Escapes `#$}*` in a reply payload (binary data uses latin1 strings). */
export function escapeBinary(s: string): string {
  return s.replace(/[#$}*]/g, (c) => '}' + String.fromCharCode(c.charCodeAt(0) ^ 0x20));
}

export function frame(payload: string): string {
  const body = escapeBinary(payload);
  return `$${body}#${checksum(body)}`;
}

/** The payload of a packet body, or an error message when it cannot be decoded. */
export function decodeBody(body: string): { payload: string } | { error: string } {
  const parts: string[] = [];
  let size = 0;
  let last = '';
  for (let i = 0; i < body.length; i++) {
    let c = body[i]!;
    if (c === '}') {
      if (i + 1 >= body.length) return { error: 'the packet ends with an escape character' };
      c = String.fromCharCode(body.charCodeAt(++i) ^ 0x20);
    } else if (c === '*') {
      // `X*N`: N - 29 more copies of X. gdb only sends counts from 3 ('\x20') up, never '#' or '$'.
      if (last === '' || i + 1 >= body.length) return { error: 'a run-length marker without a character to repeat or a count' };
      const n = body.charCodeAt(++i) - 29;
      if (n < 0 || n > 126 - 29) return { error: `a run-length count out of range (${n})` };
      size += n;
      if (size > MAX_DECODED) return { error: `the packet decodes to more than ${MAX_DECODED} bytes` };
      parts.push(last.repeat(n));
      continue;
    }
    parts.push(c);
    last = c;
    if (++size > MAX_DECODED) return { error: `the packet decodes to more than ${MAX_DECODED} bytes` };
  }
  return { payload: parts.join('') };
}

/** The reply to a packet that was dropped: gdb's error packet with a message. */
const errorReply = (msg: string): string => `E.trr: ${msg}`;

/** Splits a byte stream into packets; bad checksums are nacked, oversized or malformed packets answered with an error. */
export class PacketReader {
  private buf = '';
  /** Dropping the rest of an oversized packet, up to its `#` and checksum. */
  private skipping = false;
  constructor(private readonly sendRaw: (s: string) => void) {}
  ackMode = true;

  feed(chunk: Buffer): Incoming[] {
    this.buf += chunk.toString('latin1');
    const out: Incoming[] = [];
    for (;;) {
      if (this.skipping) {
        const hash = this.buf.indexOf('#');
        if (hash < 0) {
          this.buf = '';
          break;
        }
        this.skipping = false;
        this.buf = this.buf.slice(Math.min(hash + 3, this.buf.length));
        continue;
      }
      const i = this.buf.search(/[$\x03]/);
      if (i < 0) {
        this.buf = '';
        break;
      }
      if (this.buf[i] === '\x03') {
        out.push({ kind: 'interrupt' });
        this.buf = this.buf.slice(i + 1);
        continue;
      }
      const hash = this.buf.indexOf('#', i);
      if (hash < 0 || hash + 3 > this.buf.length) {
        if ((hash < 0 ? this.buf.length : hash) - i - 1 > MAX_PACKET) {
          // No end in sight within the limit: drop what came, and the rest up to its '#'.
          out.push({ kind: 'malformed', reply: errorReply(`packet longer than the PacketSize of ${MAX_PACKET} bytes; dropped`) });
          this.skipping = hash < 0;
          this.buf = hash < 0 ? '' : this.buf.slice(hash + 1);
          continue;
        }
        this.buf = this.buf.slice(i);
        break;
      }
      const body = this.buf.slice(i + 1, hash);
      const sum = this.buf.slice(hash + 1, hash + 3);
      this.buf = this.buf.slice(hash + 3);
      if (sum.toLowerCase() !== checksum(body)) {
        if (this.ackMode) this.sendRaw('-');
        continue;
      }
      if (this.ackMode) this.sendRaw('+');
      if (body.length > MAX_PACKET) {
        out.push({ kind: 'malformed', reply: errorReply(`packet longer than the PacketSize of ${MAX_PACKET} bytes; dropped`) });
        continue;
      }
      const decoded = decodeBody(body);
      out.push('payload' in decoded ? { kind: 'packet', payload: decoded.payload } : { kind: 'malformed', reply: errorReply(`${decoded.error}; dropped`) });
    }
    return out;
  }
}

export const hexOf = (b: Buffer): string => b.toString('hex');
export const hexString = (s: string): string => Buffer.from(s, 'utf8').toString('hex');
export const textOfHex = (s: string): string => Buffer.from(s, 'hex').toString('utf8');
