// The bytes of a scenario's `data:` (write, pwrite, store, expect): a cyclic byte sequence, or
// seeded pseudo-random bytes that any offset computes directly (so a chunked write and the C
// runner, src/oracle/runner.c data_byte(), produce the same stream). And the digest both sides
// print for the bytes a step read: hex up to DATA_HEX_MAX bytes, else an FNV-1a hash.

import { mix32 } from './prng.ts';

/** A byte stream: `bytes` repeated, or the seeded generator (the shape of types.ts DataSpec). */
export type ByteStream = { kind: 'bytes'; bytes: readonly number[] } | { kind: 'random'; seed: number };

/** Reads of at most this many bytes show their data as hex; longer ones as a hash. */
export const DATA_HEX_MAX = 64;
/** Reads of at most this many bytes per step keep their data (for reports, expect and the oracle). */
export const DATA_CAPTURE_MAX = 1 << 20;

/** Byte `i` (from 0) of the stream. */
export function streamByte(s: ByteStream, i: number): number {
  if (s.kind === 'bytes') return s.bytes[i % s.bytes.length]!;
  const w = Math.floor(i / 4);
  const x = mix32(((w >>> 0) ^ mix32(((s.seed >>> 0) ^ Math.floor(w / 2 ** 32)) >>> 0)) >>> 0);
  return (x >>> (8 * (i % 4))) & 0xff;
}

/** Fills `out` with bytes [start, start + out.length) of the stream. */
export function fillStream(s: ByteStream, start: number, out: Uint8Array): Uint8Array {
  for (let i = 0; i < out.length; i++) out[i] = streamByte(s, start + i);
  return out;
}

/** How a step's read data is shown and compared: lowercase hex, or `fnv1a32:XXXXXXXX len N`. */
export function dataDigest(b: Uint8Array): string {
  if (b.length <= DATA_HEX_MAX) {
    let s = '';
    for (const x of b) s += x.toString(16).padStart(2, '0');
    return s;
  }
  let h = 0x811c9dc5;
  for (const x of b) h = Math.imul(h ^ x, 0x01000193) >>> 0;
  return `fnv1a32:${h.toString(16).padStart(8, '0')} len ${b.length}`;
}

/** The first offset where `got` differs from the stream, or -1 when every byte matches. */
export function firstMismatch(s: ByteStream, got: Uint8Array): number {
  for (let i = 0; i < got.length; i++) if (got[i] !== streamByte(s, i)) return i;
  return -1;
}
