// Rewrites a trace with one record changed, to test that replay notices.
import { copyFileSync, cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TraceRecord } from '../../src/trace/format.js';
import { TraceReader, TraceWriter } from '../../src/trace/trace-stream.js';

/**
 * Copies a trace, letting `change` replace one record. With `cutAfter`, the
 * copy stops after that record and is left as a killed recorder leaves it
 * (records in the journal, no end record).
 */
export function tamperTrace(src: string, dst: string, change: (r: TraceRecord, index: number) => TraceRecord | undefined, cutAfter?: number): number {
  const reader = TraceReader.open(src);
  mkdirSync(dst, { recursive: true });
  cpSync(join(src, 'files'), join(dst, 'files'), { recursive: true });
  if (existsSync(join(src, 'files.json'))) copyFileSync(join(src, 'files.json'), join(dst, 'files.json'));
  const writer = TraceWriter.create(dst, reader.header);
  let changed = -1;
  for (const { index, record } of reader.scan()) {
    const next = changed < 0 ? change(record, index) : undefined;
    if (next) changed = index;
    writer.append(next ?? record);
    if (cutAfter !== undefined && index >= cutAfter) return changed;
  }
  writer.close();
  return changed;
}
