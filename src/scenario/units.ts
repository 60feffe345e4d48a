// Sizes and durations as people write them in scenario files, converted to plain numbers
// (bytes, nanoseconds). Strict on purpose: "4k" or "4 kb" could mean 4000 or 4096, so they are
// rejected with a hint instead of guessed.

import { ScenarioError } from './types.ts';

/** Multipliers for size suffixes: IEC (1024-based) and SI (1000-based). Case-sensitive. */
const SIZE_UNITS: ReadonlyMap<string, bigint> = new Map([
  ['B', 1n],
  ['KiB', 1n << 10n],
  ['MiB', 1n << 20n],
  ['GiB', 1n << 30n],
  ['TiB', 1n << 40n],
  ['PiB', 1n << 50n],
  ['KB', 1000n],
  ['MB', 1000n ** 2n],
  ['GB', 1000n ** 3n],
  ['TB', 1000n ** 4n],
  ['PB', 1000n ** 5n],
]);

/** Multipliers for duration suffixes, in nanoseconds. */
const DURATION_UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1000n],
  ['µs', 1000n],
  ['ms', 1000n ** 2n],
  ['s', 1000n ** 3n],
]);

const SIZE_EXPECTED = 'expected a size like 4KiB or 4096';
const DURATION_EXPECTED = 'expected a duration like 5s, 10ms, 3us, 200ns or a whole number of ns';
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A short description of a value for error messages: strings quoted, containers named. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

/**
 * Converts a size to bytes. Accepts a non-negative safe integer, a string of decimal digits,
 * a hex string ("0x7f0000001000"), or a number with a case-sensitive unit: B, KiB, MiB, GiB,
 * TiB, PiB (powers of 1024) or KB, MB, GB, TB, PB (powers of 1000), optionally with one space
 * and a decimal fraction when the result is whole ("1.5KiB" = 1536). Throws ScenarioError.
 */
export function parseBytes(v: unknown, where: string): number {
  return parseQuantity(v, where, SIZE_UNITS, SIZE_EXPECTED, 'bytes', true, sizeUnitHint);
}

/**
 * Converts a duration to nanoseconds. Accepts a non-negative safe integer (nanoseconds),
 * a string of digits, or a number with a unit ns, us (or µs), ms, s, with an optional
 * fraction when the result is a whole number of ns ("1.5us" = 1500). Throws ScenarioError.
 */
export function parseNs(v: unknown, where: string): number {
  return parseQuantity(v, where, DURATION_UNITS, DURATION_EXPECTED, 'ns', false, durationUnitHint);
}

/** Shared reader for parseBytes and parseNs: whole, non-negative, safe, exact. */
function parseQuantity(
  v: unknown,
  where: string,
  units: ReadonlyMap<string, bigint>,
  expected: string,
  unitName: string,
  allowHex: boolean,
  hint: (unit: string) => string | undefined,
): number {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v >= 0) return v;
    throw new ScenarioError(where, `${expected}, got ${v} (must be a whole number of ${unitName} >= 0)`);
  }
  if (typeof v !== 'string') throw new ScenarioError(where, `${expected}, got ${describeValue(v)}`);

  let exact: bigint | undefined;
  if (/^[0-9]+$/.test(v)) exact = BigInt(v);
  else if (allowHex && /^0x[0-9a-fA-F]+$/.test(v)) exact = BigInt(v);
  else {
    const m = /^([0-9]+)(?:\.([0-9]+))? ?([A-Za-zµ]+)$/.exec(v);
    const multiplier = m === null ? undefined : units.get(m[3] ?? '');
    if (m === null || multiplier === undefined) {
      const unit = /^[0-9.]+ *([A-Za-zµ]+)$/.exec(v)?.[1];
      const why = unit === undefined ? undefined : hint(unit);
      throw new ScenarioError(where, `${expected}, got ${JSON.stringify(v)}${why === undefined ? '' : ` (${why})`}`);
    }
    const fraction = m[2] ?? '';
    const scaled = BigInt((m[1] ?? '') + fraction) * multiplier;
    const divisor = 10n ** BigInt(fraction.length);
    if (scaled % divisor !== 0n) {
      throw new ScenarioError(where, `${JSON.stringify(v)} is not a whole number of ${unitName}`);
    }
    exact = scaled / divisor;
  }
  if (exact > MAX_SAFE) {
    throw new ScenarioError(where, `${JSON.stringify(v)} is too large (limit ${Number.MAX_SAFE_INTEGER} ${unitName})`);
  }
  return Number(exact);
}

/** Why a size unit was refused, when the writer's intent is guessable. */
function sizeUnitHint(unit: string): string | undefined {
  const lower = unit.toLowerCase();
  for (const known of SIZE_UNITS.keys()) {
    if (known.toLowerCase() === lower && known.includes('i')) return `units are case-sensitive: write ${known}`;
  }
  const letter = lower[0]?.toUpperCase() ?? '';
  if (/^[kmgtp]b?$/.test(lower)) {
    return `ambiguous unit "${unit}": write ${letter}iB for powers of 1024 or ${letter}B for powers of 1000`;
  }
  if (lower === 'b' || lower === 'bytes') return 'write B, or no unit, for bytes';
  return undefined;
}

/** Why a duration unit was refused, when the writer's intent is guessable. */
function durationUnitHint(unit: string): string | undefined {
  const lower = unit.toLowerCase();
  if (DURATION_UNITS.has(lower)) return `units are case-sensitive: write ${lower}`;
  if (lower === 'sec' || lower === 'secs' || lower === 'seconds') return 'write s';
  if (lower === 'msec' || lower === 'msecs') return 'write ms';
  if (lower === 'usec' || lower === 'usecs') return 'write us';
  if (lower === 'nsec' || lower === 'nsecs') return 'write ns';
  return undefined;
}

const FORMAT_UNITS: readonly (readonly [string, number])[] = [
  ['PiB', 2 ** 50],
  ['TiB', 2 ** 40],
  ['GiB', 2 ** 30],
  ['MiB', 2 ** 20],
  ['KiB', 2 ** 10],
];

/**
 * Pretty-prints a byte count exactly: the largest IEC unit in which the value needs at most
 * three decimals ("128 MiB", "1.5 KiB"), else plain bytes ("1000 B").
 */
export function formatBytes(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new Error(`formatBytes: expected a whole number of bytes >= 0, got ${n}`);
  }
  for (const [name, unit] of FORMAT_UNITS) {
    // n / unit has at most three binary fraction digits (so at most three decimals) when
    // unit / 8 divides n.
    if (n >= unit && n % (unit / 8) === 0) return `${n / unit} ${name}`;
  }
  return `${n} B`;
}
