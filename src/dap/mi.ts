// gdb's Machine Interface (MI3) output, parsed: one line is a result record
// (`TOKEN^done,...`), an asynchronous record (`*stopped,...`, `=...`,
// `+...`), a stream record (`~"..."` console, `@"..."` target, `&"..."`
// log) or the `(gdb)` prompt. Values are C strings, tuples `{a=...}` and
// lists `[...]` (of values or of results).

export type MiValue = string | MiTuple | MiValue[];
export interface MiTuple {
  [name: string]: MiValue;
}

export type MiRecord =
  | { readonly type: 'result'; readonly token?: number; readonly cls: string; readonly results: MiTuple }
  | { readonly type: 'exec' | 'status' | 'notify'; readonly token?: number; readonly cls: string; readonly results: MiTuple }
  | { readonly type: 'console' | 'target' | 'log'; readonly text: string }
  | { readonly type: 'prompt' }
  | { readonly type: 'unknown'; readonly line: string };

export class MiParseError extends Error {}

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  get done(): boolean {
    return this.i >= this.s.length;
  }

  private peek(): string {
    return this.s[this.i] ?? '';
  }

  private expect(c: string): void {
    if (this.s[this.i] !== c) throw new MiParseError(`expected ${JSON.stringify(c)} at column ${this.i} of ${JSON.stringify(this.s.slice(0, 200))}`);
    this.i++;
  }

  /** A C string as gdb writes it: \n, \t, \", \\, octal \ooo bytes (UTF-8 text is written as its bytes). */
  cstring(): string {
    this.expect('"');
    const bytes: number[] = [];
    for (;;) {
      if (this.done) throw new MiParseError(`unterminated string in ${JSON.stringify(this.s.slice(0, 200))}`);
      const c = this.s[this.i++]!;
      if (c === '"') break;
      if (c !== '\\') {
        for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
        continue;
      }
      const e = this.s[this.i++] ?? '';
      const simple: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, e: 27, '"': 34, '\\': 92, "'": 39 };
      if (e in simple) bytes.push(simple[e]!);
      else if (/[0-7]/.test(e)) {
        let oct = e;
        while (oct.length < 3 && /[0-7]/.test(this.peek())) oct += this.s[this.i++];
        bytes.push(parseInt(oct, 8) & 0xff);
      } else for (const b of Buffer.from('\\' + e, 'utf8')) bytes.push(b);
    }
    return Buffer.from(bytes).toString('utf8');
  }

  private name(): string {
    const start = this.i;
    while (!this.done && !/[={}[\],"]/.test(this.peek())) this.i++;
    return this.s.slice(start, this.i);
  }

  value(): MiValue {
    const c = this.peek();
    if (c === '"') return this.cstring();
    if (c === '{') {
      this.i++;
      const t: MiTuple = {};
      if (this.peek() === '}') {
        this.i++;
        return t;
      }
      for (;;) {
        this.result(t);
        if (this.peek() === ',') {
          this.i++;
          continue;
        }
        this.expect('}');
        return t;
      }
    }
    if (c === '[') {
      this.i++;
      const list: MiValue[] = [];
      if (this.peek() === ']') {
        this.i++;
        return list;
      }
      for (;;) {
        if (this.peek() === '"' || this.peek() === '{' || this.peek() === '[') list.push(this.value());
        else {
          // A list of results (`[frame={...},frame={...}]`): keep the values.
          const t: MiTuple = {};
          this.result(t);
          list.push(Object.values(t)[0]!);
        }
        if (this.peek() === ',') {
          this.i++;
          continue;
        }
        this.expect(']');
        return list;
      }
    }
    throw new MiParseError(`unexpected ${JSON.stringify(c)} at column ${this.i} of ${JSON.stringify(this.s.slice(0, 200))}`);
  }

  /** `name=value` into `t`; a repeated name (gdb's `bkpt={...},bkpt={...}`) becomes a list. */
  result(t: MiTuple): void {
    const n = this.name();
    this.expect('=');
    const v = this.value();
    if (n in t) {
      const prev = t[n]!;
      t[n] = Array.isArray(prev) && (prev as MiValue[] & { repeated?: true }).repeated ? [...prev, v] : Object.assign([prev, v], { repeated: true });
    } else t[n] = v;
  }

  results(): MiTuple {
    const t: MiTuple = {};
    while (this.peek() === ',') {
      this.i++;
      this.result(t);
    }
    if (!this.done) throw new MiParseError(`trailing text at column ${this.i} of ${JSON.stringify(this.s.slice(0, 200))}`);
    return t;
  }

  word(): string {
    const start = this.i;
    while (!this.done && this.peek() !== ',') this.i++;
    return this.s.slice(start, this.i);
  }

  skip(n: number): void {
    this.i += n;
  }
}

/** One line of gdb's MI output. */
export function parseMiLine(raw: string): MiRecord {
  const line = raw.replace(/\r$/, '');
  if (/^\(gdb\)\s*$/.test(line)) return { type: 'prompt' };
  const m = /^(\d*)([\^*+=~@&])/.exec(line);
  if (!m) return { type: 'unknown', line };
  const p = new Parser(line);
  p.skip(m[0].length);
  const kind = m[2]!;
  if (kind === '~' || kind === '@' || kind === '&') {
    const text = p.cstring();
    return { type: kind === '~' ? 'console' : kind === '@' ? 'target' : 'log', text };
  }
  const token = m[1] ? Number(m[1]) : undefined;
  const cls = p.word();
  const results = p.results();
  const type = kind === '^' ? 'result' : kind === '*' ? 'exec' : kind === '+' ? 'status' : 'notify';
  return token === undefined ? { type, cls, results } : { type, token, cls, results };
}

/** A C string for an MI command argument. */
export function miQuote(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
}

/** Field access helpers for parsed results. */
export const str = (v: MiValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
export const tuple = (v: MiValue | undefined): MiTuple | undefined => (v !== undefined && typeof v === 'object' && !Array.isArray(v) ? v : undefined);
export const list = (v: MiValue | undefined): MiValue[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
