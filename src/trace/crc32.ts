// CRC-32 (IEEE 802.3, the one zlib and gzip use), for checking trace frames.
// Node's zlib.crc32 (Node 20.15 and later) computes it natively, about 20
// times faster than the table loop, which older Nodes fall back to: every
// trace record is checksummed when it is written and when it is read.
import * as zlib from 'node:zlib';

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32Js(data: Uint8Array, seed = 0): number {
  let c = (seed ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

export function crc32(data: Uint8Array, seed = 0): number {
  return native ? native(data, seed) >>> 0 : crc32Js(data, seed);
}

/** The table loop, for checking the native one gives the same values. */
export const crc32Portable = crc32Js;
