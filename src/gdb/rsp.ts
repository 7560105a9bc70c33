// GDB Remote Serial Protocol framing: `$payload#checksum`, acks, the
// interrupt byte, run-length decoding and binary escapes. It turns bytes
// into packets and packets into bytes; it knows nothing of what they mean.

export type Incoming = { readonly kind: 'packet'; readonly payload: string } | { readonly kind: 'interrupt' };

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

function decodeBody(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '}' && i + 1 < body.length) {
      out += String.fromCharCode(body.charCodeAt(++i) ^ 0x20);
    } else if (c === '*' && out.length > 0 && i + 1 < body.length) {
      out += out[out.length - 1]!.repeat(body.charCodeAt(++i) - 29);
    } else out += c;
  }
  return out;
}

/** Splits a byte stream into packets; bad checksums are nacked. */
export class PacketReader {
  private buf = '';
  constructor(private readonly sendRaw: (s: string) => void) {}
  ackMode = true;

  feed(chunk: Buffer): Incoming[] {
    this.buf += chunk.toString('latin1');
    const out: Incoming[] = [];
    for (;;) {
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
      out.push({ kind: 'packet', payload: decodeBody(body) });
    }
    return out;
  }
}

export const hexOf = (b: Buffer): string => b.toString('hex');
export const hexString = (s: string): string => Buffer.from(s, 'utf8').toString('hex');
export const textOfHex = (s: string): string => Buffer.from(s, 'hex').toString('utf8');
