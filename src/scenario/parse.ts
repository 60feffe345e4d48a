// Scenario files (YAML or JSON) -> a validated, typed Scenario. Nothing here runs anything:
// it checks shapes, names, units and references between steps, fills in defaults, and reports
// the first problem as a ScenarioError naming where it is (`steps[4] (mmap).flags[1]`) and,
// when the YAML parser knows it, the line.

import { LineCounter, isNode, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { describeValue, parseBytes, parseNs } from './units.ts';
import { streamByte as streamByteOf } from '../lib/data.ts';
import { tmpfsMaxPages } from '../mm/shmem-limit.ts';
import {
  ACCESS_PAGES_MAX,
  ACCESS_SIZES,
  ACCESS_ORDERS,
  CPUS_MAX,
  ERRNO_NAMES,
  FALLOC_FLAG_NAMES,
  MADVISE_NAMES,
  MCL_FLAG_NAMES,
  MLOCK_FLAG_NAMES,
  MREMAP_FLAG_NAMES,
  MMAP_FLAG_ALIASES,
  MMAP_FLAG_NAMES,
  MSYNC_FLAG_NAMES,
  OPEN_ACCESS_MODES,
  OPEN_FLAG_NAMES,
  PROT_NAMES,
  STEPS_MAX,
  SCENARIO_BYTES_MAX,
  STEP_KINDS,
  ScenarioError,
  SIGNAL_NAMES,
} from './types.ts';
import type {
  ArgsByOp,
  BufferSpec,
  DataSpec,
  DeviceSpec,
  Expect,
  FileExpect,
  FlagSet,
  KernelSpec,
  KnobValue,
  MachineSpec,
  MapRangeArgs,
  MkfsArgs,
  MountArgs,
  Op,
  ReadArgs,
  Scenario,
  Step,
  StepOf,
  WriteArgs,
} from './types.ts';

type PathKey = string | number;
type Mapping = Record<string, unknown>;
type Reader<T> = (v: unknown, at: At) => T;

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const NAME_LENGTH_MAX = 64;
const PATH_LENGTH_MAX = 4096;
const PAGE_BYTES = 4096;
const ALIAS_COUNT_MAX = 1000;

/** State shared by one parse: where lines come from, and the names declared so far. */
interface Context {
  source: string;
  lineOf(path: readonly PathKey[]): number | undefined;
  devices: Set<string>;
  fds: Set<string>;
  maps: Set<string>;
  /** Report name -> where it was first used. */
  reports: Map<string, string>;
}

/** A position in the scenario: the printable `where` and the YAML path used to find its line. */
class At {
  readonly ctx: Context;
  readonly where: string;
  readonly path: readonly PathKey[];

  constructor(ctx: Context, where: string, path: readonly PathKey[]) {
    this.ctx = ctx;
    this.where = where;
    this.path = path;
  }

  key(k: string): At {
    const part = /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? (this.where === '' ? k : `.${k}`) : `[${JSON.stringify(k)}]`;
    return new At(this.ctx, this.where + part, [...this.path, k]);
  }

  item(i: number): At {
    return new At(this.ctx, `${this.where}[${i}]`, [...this.path, i]);
  }

  line(): number | undefined {
    return this.ctx.lineOf(this.path);
  }

  fail(detail: string): never {
    throw new ScenarioError(this.where, detail, this.ctx.source, this.line());
  }
}

// ---- "Did you mean" ----

/** Edit distance (insertions, deletions, substitutions), case-insensitive. */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (x[i - 1] === y[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[y.length] ?? 0;
}

/**
 * `; did you mean X?` when X is the one nearest candidate within edit distance 2 (1 for a
 * two-letter word, none for one letter), or is the word plus a unit suffix (length -> lengthBytes).
 */
function didYouMean(word: string, candidates: readonly string[]): string {
  const withUnit = candidates.filter((c) => c === `${word}Bytes` || c === `${word}Ns`);
  if (withUnit.length === 1) return `; did you mean ${withUnit[0]}?`;
  const limit = Math.min(2, word.length - 1);
  let best: string[] = [];
  let bestDistance = limit;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d > limit) continue;
    if (d < bestDistance || best.length === 0) {
      best = [c];
      bestDistance = d;
    } else if (d === bestDistance) {
      best.push(c);
    }
  }
  return best.length === 1 ? `; did you mean ${best[0]}?` : '';
}

// ---- Plain values ----

function isMapping(v: unknown): v is Mapping {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A mapping whose keys must all be in `allowed`. */
function asMapping(v: unknown, at: At, allowed: readonly string[]): Mapping {
  if (!isMapping(v)) at.fail(`expected a mapping, got ${describeValue(v)}`);
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) {
      at.key(k).fail(`unknown key "${k}"${didYouMean(k, allowed)} (allowed: ${allowed.join(', ')})`);
    }
  }
  return v;
}

/** A mapping with free-form keys (counters, paths, map names); each value is read by `readValue`. */
function asRecord<T>(v: unknown, at: At, readValue: Reader<T>): Record<string, T> {
  if (!isMapping(v)) at.fail(`expected a mapping, got ${describeValue(v)}`);
  const out: Record<string, T> = {};
  for (const [k, value] of Object.entries(v)) {
    if (k === '' || k === '__proto__') at.key(k).fail(`"${k}" cannot be used as a key`);
    out[k] = readValue(value, at.key(k));
  }
  return out;
}

function asList(v: unknown, at: At): unknown[] {
  if (!Array.isArray(v)) at.fail(`expected a list, got ${describeValue(v)}`);
  return v;
}

function asString(v: unknown, at: At): string {
  if (typeof v !== 'string' || v === '') at.fail(`expected text, got ${describeValue(v)}`);
  return v;
}

function asBool(v: unknown, at: At): boolean {
  if (typeof v !== 'boolean') at.fail(`expected true or false, got ${describeValue(v)}`);
  return v;
}

/** A name for an fd, mapping, thread, device...: letters, digits, _ . - (not starting with a digit). */
function asName(v: unknown, at: At): string {
  if (typeof v !== 'string' || !NAME_PATTERN.test(v) || v.length > NAME_LENGTH_MAX) {
    const rule = `letters, digits, _ . -, starting with a letter or _, at most ${NAME_LENGTH_MAX}`;
    at.fail(`expected a name (${rule}), got ${describeValue(v)}`);
  }
  return v;
}

function asPath(v: unknown, at: At): string {
  if (typeof v !== 'string' || !v.startsWith('/') || v.length > PATH_LENGTH_MAX || v.includes('\0')) {
    at.fail(`expected an absolute path like /mnt/f, got ${describeValue(v)}`);
  }
  return v;
}

function asInt(v: unknown, at: At, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    at.fail(`expected a whole number from ${min} to ${max}, got ${describeValue(v)}`);
  }
  return v;
}

function asCount(v: unknown, at: At): number {
  return asInt(v, at, 0, Number.MAX_SAFE_INTEGER);
}

function asByteValue(v: unknown, at: At): number {
  return asInt(v, at, 0, 255);
}

function asOneOf<T extends string | number>(v: unknown, at: At, values: readonly T[]): T {
  const found = values.find((value) => value === v);
  if (found === undefined) {
    const hint = typeof v === 'string' ? didYouMean(v, values.map(String)) : '';
    at.fail(`expected one of ${values.join(', ')}, got ${describeValue(v)}${hint}`);
  }
  return found;
}

/** parseBytes, with the error placed (line number) at `at`. */
function asBytes(v: unknown, at: At): number {
  return placed(at, () => parseBytes(v, at.where));
}

function asPositiveBytes(v: unknown, at: At): number {
  const n = asBytes(v, at);
  if (n === 0) at.fail('must be greater than 0');
  return n;
}

function asNs(v: unknown, at: At): number {
  return placed(at, () => parseNs(v, at.where));
}

/** Runs a units.ts conversion and re-throws its error with this position's source and line. */
function placed(at: At, convert: () => number): number {
  try {
    return convert();
  } catch (e) {
    if (e instanceof ScenarioError) at.fail(e.detail);
    throw e;
  }
}

/**
 * A list of flag names, canonicalised through `aliases`, plus raw numbers (or "0x..." strings)
 * for bits with no name, OR-ed into extraBits. A name listed twice is an error.
 */
function asFlags<N extends string>(
  v: unknown,
  at: At,
  names: readonly N[],
  aliases: Readonly<Record<string, N>> = {},
): FlagSet<N> {
  const out: FlagSet<N> = { names: [], extraBits: 0 };
  asList(v, at).forEach((item, i) => {
    const itemAt: At = at.item(i);
    const raw = typeof item === 'string' && /^0x[0-9a-fA-F]+$/.test(item) ? Number.parseInt(item, 16) : item;
    if (typeof raw === 'number') {
      out.extraBits = (out.extraBits | asInt(raw, itemAt, 0, 0xffff_ffff)) >>> 0;
      return;
    }
    const alias = typeof raw === 'string' && Object.hasOwn(aliases, raw) ? aliases[raw] : undefined;
    const name = names.find((n) => n === raw) ?? alias;
    if (name === undefined) {
      const hint = typeof raw === 'string' ? didYouMean(raw, names) : '';
      const allowed = `${names.join(', ')}, or a number for other bits`;
      itemAt.fail(`unknown flag ${describeValue(raw)}${hint} (allowed: ${allowed})`);
    }
    if (out.names.includes(name)) itemAt.fail(`${name} is listed twice`);
    out.names.push(name);
  });
  return out;
}

/** Permission bits from an octal string. Numbers are refused: YAML 1.2 reads 0644 as decimal 644. */
function asMode(v: unknown, at: At): number {
  if (typeof v !== 'string' || !/^(?:0o)?[0-7]{1,5}$/.test(v) || Number.parseInt(v.replace('0o', ''), 8) > 0o7777) {
    at.fail(`expected permission bits as a quoted octal string such as "0644", got ${describeValue(v)}` +
      (typeof v === 'number' ? ' (YAML reads an unquoted 0644 as the decimal number 644)' : ''));
  }
  return Number.parseInt(v.replace('0o', ''), 8);
}

/** A knob value: keys ending Bytes take sizes, Ns durations; others a number, text or boolean. */
function asKnobValue(name: string, v: unknown, at: At): KnobValue {
  if (name.endsWith('Bytes')) return asBytes(v, at);
  if (name.endsWith('Ns')) return asNs(v, at);
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string' || typeof v === 'boolean') return v;
  return at.fail(`expected a number, text or true/false, got ${describeValue(v)}`);
}

// ---- References between steps ----

function declare(names: Set<string>, name: string): string {
  names.add(name);
  return name;
}

function refTo(kind: string, names: (ctx: Context) => Set<string>, declaredBy: string): Reader<string> {
  return (v, at) => {
    const name = asName(v, at);
    const known = names(at.ctx);
    if (!known.has(name)) {
      const list = known.size === 0 ? 'none yet' : [...known].join(', ');
      at.fail(`${kind} "${name}" is not declared by ${declaredBy}${didYouMean(name, [...known])} (known: ${list})`);
    }
    return name;
  };
}

const asFdRef = refTo('fd', (ctx) => ctx.fds, 'an earlier open step');
const asMapRef = refTo('map', (ctx) => ctx.maps, 'an earlier mmap step');
const asDeviceRef = refTo('device', (ctx) => ctx.devices, 'machine.devices');

// ---- Mappings with known keys ----

/** The keys of one mapping, read one by one after unknown keys have been refused. */
class Fields {
  readonly at: At;
  readonly values: Mapping;
  readonly allowed: readonly string[];

  constructor(v: unknown, at: At, allowed: readonly string[]) {
    this.at = at;
    this.values = asMapping(v, at, allowed);
    this.allowed = allowed;
  }

  has(key: string): boolean {
    this.assertAllowed(key);
    return Object.hasOwn(this.values, key);
  }

  need<T>(key: string, read: Reader<T>): T {
    if (!this.has(key)) this.at.fail(`missing ${key}`);
    return read(this.values[key], this.at.key(key));
  }

  may<T>(key: string, read: Reader<T>): T | undefined {
    return this.has(key) ? read(this.values[key], this.at.key(key)) : undefined;
  }

  or<T>(key: string, read: Reader<T>, fallback: T): T {
    return this.has(key) ? read(this.values[key], this.at.key(key)) : fallback;
  }

  /** Sets out[key] only when the key is present, for outputs that list just what was written (Expect). */
  put<T, K extends keyof T & string>(out: T, key: K, read: Reader<NonNullable<T[K]>>): void {
    if (this.has(key)) out[key] = read(this.values[key], this.at.key(key));
  }

  private assertAllowed(key: string): void {
    if (!this.allowed.includes(key)) {
      throw new Error(`scenario parser: key ${key} read but not in the allowed list at ${this.at.where}`);
    }
  }
}

// ---- Ops ----

/** Keys every step may carry next to its op's own arguments. */
const COMMON_KEYS = ['thread', 'process', 'expect'] as const;

interface Common {
  thread: string | undefined;
  process: string | undefined;
}

/** How one step kind is read: the keys its arguments may have, and the reader that builds them. */
export interface StepReader<O extends Op> {
  keys: readonly string[];
  read(f: Fields, common: Common): ArgsByOp[O];
}

/** One reader per step kind (STEP_KINDS in types.ts), as the runner has one handler per kind (steps/index.ts). */
export type StepReaders = { [O in Op]: StepReader<O> };

const FD_KEYS = ['fd'] as const;
const RANGE_KEYS = ['map', 'offsetBytes', 'lengthBytes'] as const;
const READ_KEYS = ['fd', 'lengthBytes', 'chunkBytes', 'buffer', 'bufferOffsetBytes'] as const;
const WRITE_KEYS = [...READ_KEYS, 'byte', 'data'] as const;
/** Upper bound on the bytes a `data: { bytes | string | pattern }` sequence lists. */
const DATA_BYTES_MAX = 1 << 16;

/**
 * `data:` of a write or an expect: `{ bytes: [1, 2, 3] }`, `{ string: "text" }` (UTF-8), `{ pattern:
 * "0xdeadbeef" }` (the hex digits' bytes in the order written), or `{ pattern: random, seed: N }`.
 */
function asData(v: unknown, at: At): DataSpec {
  const f = new Fields(v, at, ['bytes', 'string', 'pattern', 'seed']);
  const given = ['bytes', 'string', 'pattern'].filter((k) => f.has(k));
  if (given.length !== 1) at.fail(`give exactly one of bytes, string, pattern (got ${given.join(', ') || 'none'})`);
  if (f.has('seed') && !f.has('pattern')) at.key('seed').fail('seed is only for pattern: random');
  let bytes: number[];
  if (f.has('bytes')) {
    bytes = f.need('bytes', (x, a) => asList(x, a).map((b, i) => asByteValue(b, a.item(i))));
  } else if (f.has('string')) {
    bytes = [...new TextEncoder().encode(f.need('string', asString))];
  } else {
    const pat = f.need('pattern', asString);
    if (pat === 'random') return { kind: 'random', seed: f.need('seed', asCount) };
    if (f.has('seed')) at.key('seed').fail('seed is only for pattern: random');
    const hex = /^0x([0-9a-fA-F]{2})+$/.test(pat) ? pat.slice(2) : at.key('pattern').fail(
      `expected random or hex digits in whole bytes like "0xdeadbeef", got ${JSON.stringify(pat)}`);
    bytes = [];
    for (let i = 0; i < hex.length; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
  }
  if (bytes.length === 0) at.fail('the data is empty');
  if (bytes.length > DATA_BYTES_MAX) at.fail(`at most ${DATA_BYTES_MAX} bytes (use a pattern)`);
  return { kind: 'bytes', bytes };
}

function asBuffer(v: unknown, at: At): BufferSpec {
  const f = new Fields(v, at, ['map', 'offsetBytes']);
  return { map: f.need('map', asMapRef), offsetBytes: f.or('offsetBytes', asBytes, 0) };
}

function readFd(f: Fields): { fd: string } {
  return { fd: f.need('fd', asFdRef) };
}

function readRead(f: Fields): ReadArgs {
  return {
    fd: f.need('fd', asFdRef),
    lengthBytes: f.need('lengthBytes', asBytes),
    chunkBytes: f.may('chunkBytes', asPositiveBytes),
    buffer: f.may('buffer', asBuffer),
    bufferOffsetBytes: readBufferOffset(f),
  };
}

/**
 * `bufferOffsetBytes`: the runner's own (page-aligned, already touched) buffer is used from this
 * byte on, so an O_DIRECT step can ask for a misaligned user address; 0-4095, not with `buffer`.
 */
function readBufferOffset(f: Fields): number {
  if (!f.has('bufferOffsetBytes')) return 0;
  if (f.has('buffer')) f.at.key('bufferOffsetBytes').fail('give buffer (a mapping) or bufferOffsetBytes, not both');
  const off = f.need('bufferOffsetBytes', asBytes);
  if (off >= PAGE_BYTES) f.at.key('bufferOffsetBytes').fail(`expected 0 to ${PAGE_BYTES - 1}, got ${off}`);
  return off;
}

/** A write's length defaults to its `data` sequence's length; byte, data and buffer exclude each other. */
function readWrite(f: Fields): WriteArgs {
  const sources = ['byte', 'data', 'buffer'].filter((k) => f.has(k));
  if (sources.length > 1) f.at.key(sources[1]!).fail(`give one of byte, data, buffer (got ${sources.join(', ')})`);
  const data = f.may('data', asData);
  if (!f.has('lengthBytes') && data?.kind !== 'bytes') {
    f.at.fail('missing lengthBytes (required unless data gives bytes, a string or a hex pattern)');
  }
  const lengthBytes = f.has('lengthBytes') || data?.kind !== 'bytes'
    ? f.need('lengthBytes', asBytes) : data.bytes.length;
  return {
    fd: f.need('fd', asFdRef), lengthBytes, chunkBytes: f.may('chunkBytes', asPositiveBytes),
    buffer: f.may('buffer', asBuffer), bufferOffsetBytes: readBufferOffset(f), byte: f.may('byte', asByteValue), data,
  };
}

/** The bytes of one store: `byte`, a little-endian `value` of sizeBytes, or sizeBytes bytes of `data`. */
function readStoreBytes(f: Fields, size: number): number[] {
  const given = ['byte', 'value', 'data'].filter((k) => f.has(k));
  if (given.length !== 1) f.at.fail(`give exactly one of byte, value, data (got ${given.join(', ') || 'none'})`);
  if (f.has('byte')) {
    if (size !== 1) f.at.key('byte').fail(`byte stores one byte; use value or data for sizeBytes ${size}`);
    return [f.need('byte', asByteValue)];
  }
  if (f.has('data')) {
    const d = f.need('data', asData);
    return Array.from({ length: size }, (_, i) => streamByteOf(d, i));
  }
  const value = f.need('value', (x, a) => {
    if (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0) return BigInt(x);
    if (typeof x === 'string' && /^0x[0-9a-fA-F]{1,16}$/.test(x)) return BigInt(x);
    return a.fail(`expected a non-negative whole number or hex like "0xdeadbeefcafe", got ${describeValue(x)}`);
  });
  if (value >> BigInt(8 * size) !== 0n) f.at.key('value').fail(`${value} does not fit in ${size} bytes`);
  return Array.from({ length: size }, (_, i) => Number((value >> BigInt(8 * i)) & 0xffn));
}

function readRange(f: Fields): MapRangeArgs {
  return {
    map: f.need('map', asMapRef),
    offsetBytes: f.or('offsetBytes', asBytes, 0),
    lengthBytes: f.may('lengthBytes', asBytes),
  };
}

function readMount(f: Fields): MountArgs {
  const fs = f.may('fs', (v, at) => asOneOf(v, at, ['ext4', 'xfs', 'tmpfs'] as const));
  const device = f.may('device', asDeviceRef);
  if (fs === 'tmpfs' && device !== undefined) f.at.key('device').fail('tmpfs takes no device; remove device');
  if (fs !== 'tmpfs' && device === undefined) {
    f.at.fail(fs === undefined ? 'missing fs or device' : `missing device (required for ${fs})`);
  }
  const options = f.or('options', (v, at) => asList(v, at).map((o, i) => asString(o, at.item(i))), []);
  if (fs === 'tmpfs' || device === undefined) {
    // tmpfs options are checked here, so a typo is named instead of coming back as EINVAL.
    const bad = tmpfsMaxPages(options, 1);
    if (typeof bad === 'string') f.at.key('options').fail(`${bad} (tmpfs takes size=, nr_blocks=, nr_inodes=, ` +
      'mode=, uid=, gid=, mpol=, huge=never and the generic mount flags)');
  }
  return { device, fs, target: f.need('target', asPath), options };
}

/** mkfs: xfs takes `suBytes`/`sw` (-d su=,sw=) and `extsizeBytes` (-d extszinherit=), 4 KiB multiples. */
function readMkfs(f: Fields): MkfsArgs {
  const fs = f.need('fs', (v, at) => asOneOf(v, at, ['ext4', 'xfs', 'tmpfs'] as const));
  const geo = (key: 'suBytes' | 'extsizeBytes'): number => {
    const v = f.or(key, asBytes, 0);
    if (v !== 0 && fs !== 'xfs') f.at.key(key).fail(`${key} is an mkfs.xfs option; this mkfs makes ${fs}`);
    if (v % 4096 !== 0) f.at.key(key).fail(`${key} must be a multiple of the 4 KiB block`);
    return v;
  };
  const suBytes = geo('suBytes');
  const extsizeBytes = geo('extsizeBytes');
  const sw = f.or('sw', asCount, suBytes > 0 ? 1 : 0);
  if (sw !== 0 && suBytes === 0) f.at.key('sw').fail('sw needs suBytes (mkfs.xfs -d su=,sw=)');
  return { device: f.need('device', asDeviceRef), fs, placement: f.may('placement', asPlacement),
    xfs: { suBytes, sw, extsizeBytes } };
}

const MOUNT_KEYS = ['device', 'fs', 'target', 'options'] as const;

/**
 * The parser's table of step readers, keyed by step kind. A reader gets the step's mapping (its
 * unknown keys already refused) and returns the kind's args with defaults filled in; names it
 * declares (fd, map) are visible to the steps after it.
 */
export const STEP_READERS: StepReaders = {
  create: {
    keys: ['path', 'sizeBytes', 'content', 'writeChunkBytes', 'fsync', 'mode'],
    read: (f) => ({
      path: f.need('path', asPath),
      sizeBytes: f.need('sizeBytes', asBytes),
      content: f.or('content', (v, at) => asOneOf(v, at, ['written', 'sparse'] as const), 'written'),
      writeChunkBytes: f.or('writeChunkBytes', asPositiveBytes, PAGE_BYTES),
      fsync: f.or('fsync', asBool, false),
      mode: f.may('mode', asMode),
    }),
  },
  open: {
    keys: ['path', 'flags', 'fd'],
    read: (f) => {
      const path = f.need('path', asPath);
      const flags = f.need('flags', (v, at) => asFlags(v, at, OPEN_FLAG_NAMES));
      if (flags.names.filter((n) => OPEN_ACCESS_MODES.includes(n)).length !== 1) {
        f.at.key('flags').fail(`name exactly one access mode (${OPEN_ACCESS_MODES.join(', ')})`);
      }
      return { path, flags, fd: declare(f.at.ctx.fds, f.need('fd', asName)) };
    },
  },
  close: { keys: FD_KEYS, read: readFd },
  read: { keys: READ_KEYS, read: readRead },
  write: { keys: WRITE_KEYS, read: readWrite },
  pread: {
    keys: [...READ_KEYS, 'offsetBytes'],
    read: (f) => ({ ...readRead(f), offsetBytes: f.or('offsetBytes', asBytes, 0) }),
  },
  pwrite: {
    keys: [...WRITE_KEYS, 'offsetBytes'],
    read: (f) => ({ ...readWrite(f), offsetBytes: f.or('offsetBytes', asBytes, 0) }),
  },
  ftruncate: {
    keys: ['fd', 'sizeBytes'],
    read: (f) => ({ fd: f.need('fd', asFdRef), sizeBytes: f.need('sizeBytes', asBytes) }),
  },
  fallocate: {
    keys: ['fd', 'offsetBytes', 'lengthBytes', 'mode'],
    read: (f) => ({
      fd: f.need('fd', asFdRef),
      offsetBytes: f.need('offsetBytes', asBytes),
      lengthBytes: f.need('lengthBytes', asBytes),
      mode: f.or('mode', (v, at) => asFlags(v, at, FALLOC_FLAG_NAMES), { names: [], extraBits: 0 }),
    }),
  },
  fsync: { keys: FD_KEYS, read: readFd },
  fdatasync: { keys: FD_KEYS, read: readFd },
  unlink: { keys: ['path'], read: (f) => ({ path: f.need('path', asPath) }) },
  mkdir: { keys: ['path'], read: (f) => ({ path: f.need('path', asPath) }) },
  stat: { keys: ['path'], read: (f) => ({ path: f.need('path', asPath) }) },
  mmap: {
    keys: ['fd', 'lengthBytes', 'prot', 'flags', 'addrBytes', 'offsetBytes', 'map'],
    read: (f) => {
      const flags = f.need('flags', (v, at) => asFlags(v, at, MMAP_FLAG_NAMES, MMAP_FLAG_ALIASES));
      const anonymous = flags.names.includes('MAP_ANONYMOUS');
      const fd = f.may('fd', asFdRef);
      if (fd === undefined && !anonymous) f.at.fail('missing fd (required unless flags include MAP_ANONYMOUS)');
      if (fd !== undefined && anonymous) {
        f.at.key('fd').fail('an MAP_ANONYMOUS mapping has no file; remove fd or MAP_ANONYMOUS');
      }
      const addrBytes = f.may('addrBytes', asBytes);
      const fixed = flags.names.find((n) => n === 'MAP_FIXED' || n === 'MAP_FIXED_NOREPLACE');
      if (fixed !== undefined && addrBytes === undefined) f.at.fail(`missing addrBytes (required with ${fixed})`);
      return {
        fd,
        lengthBytes: f.need('lengthBytes', asBytes),
        prot: f.need('prot', (v, at) => asFlags(v, at, PROT_NAMES)),
        flags,
        addrBytes,
        offsetBytes: f.or('offsetBytes', asBytes, 0),
        map: declare(f.at.ctx.maps, f.need('map', asName)),
      };
    },
  },
  munmap: { keys: RANGE_KEYS, read: readRange },
  mprotect: {
    keys: [...RANGE_KEYS, 'prot'],
    read: (f) => ({ ...readRange(f), prot: f.need('prot', (v, at) => asFlags(v, at, PROT_NAMES)) }),
  },
  madvise: {
    keys: [...RANGE_KEYS, 'advice'],
    read: (f) => ({ ...readRange(f), advice: f.need('advice', (v, at) => asOneOf(v, at, MADVISE_NAMES)) }),
  },
  msync: {
    keys: [...RANGE_KEYS, 'flags'],
    read: (f) => ({ ...readRange(f), flags: f.need('flags', (v, at) => asFlags(v, at, MSYNC_FLAG_NAMES)) }),
  },
  access: {
    keys: ['map', 'op', 'offsetBytes', 'lengthBytes', 'strideBytes', 'pages', 'order', 'exponent', 'byte',
      'background'],
    read: (f) => {
      const map = f.need('map', asMapRef);
      const op = f.need('op', (v, at) => asOneOf(v, at, ['read', 'write'] as const));
      const rangeKeys = ['offsetBytes', 'lengthBytes', 'strideBytes'].filter((k) => f.has(k));
      if (f.has('pages') && rangeKeys.length > 0) {
        const also = rangeKeys.join(', ');
        f.at.key('pages').fail(
          `give either pages or offsetBytes/lengthBytes/strideBytes, not both (also given: ${also})`);
      }
      if (op === 'read' && f.has('byte')) f.at.key('byte').fail('byte is only for op: write');
      const span = f.has('pages')
        ? { kind: 'pages' as const, pages: f.need('pages', asPages) }
        : {
            kind: 'range' as const,
            offsetBytes: f.or('offsetBytes', asBytes, 0),
            lengthBytes: f.may('lengthBytes', asBytes),
            strideBytes: f.or('strideBytes', asPositiveBytes, PAGE_BYTES),
          };
      const order = f.or('order', (v, at) => asOneOf(v, at, ACCESS_ORDERS), 'ascending');
      if (order !== 'zipf' && f.has('exponent')) f.at.key('exponent').fail('exponent is only for order: zipf');
      const exponent = f.may('exponent', (v, at) => {
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) {
          return at.fail(`expected a number from 0 to 100, got ${describeValue(v)}`);
        }
        return v;
      });
      const background = f.or('background', asBool, false);
      if (background && f.has('expect')) {
        f.at.key('expect').fail(
          'a background access has no result of its own yet: put expect on the wait step that joins it');
      }
      // orderIndex is the step's index, filled in by readOp (a reader does not see it).
      return { map, op, span, order, exponent, orderIndex: -1, byte: f.may('byte', asByteValue), background };
    },
  },
  load: {
    keys: ['map', 'offsetBytes', 'sizeBytes'],
    read: (f) => ({
      map: f.need('map', asMapRef), offsetBytes: f.need('offsetBytes', asBytes),
      sizeBytes: f.or('sizeBytes', (v, at) => asOneOf(v, at, ACCESS_SIZES), 1),
    }),
  },
  store: {
    keys: ['map', 'offsetBytes', 'sizeBytes', 'byte', 'value', 'data'],
    read: (f) => {
      const size = f.or('sizeBytes', (v, at) => asOneOf(v, at, ACCESS_SIZES), 1);
      const bytes = readStoreBytes(f, size);
      return { map: f.need('map', asMapRef), offsetBytes: f.need('offsetBytes', asBytes), byte: bytes[0]!, bytes };
    },
  },
  memset: {
    keys: [...RANGE_KEYS, 'byte'],
    read: (f) => ({ ...readRange(f), byte: f.need('byte', asByteValue) }),
  },
  memcpy: {
    keys: ['map', 'offsetBytes', 'from', 'lengthBytes'],
    read: (f) => {
      const from = f.need('from', asBuffer);
      return {
        map: f.need('map', asMapRef), offsetBytes: f.or('offsetBytes', asBytes, 0),
        fromMap: from.map, fromOffsetBytes: from.offsetBytes, lengthBytes: f.need('lengthBytes', asBytes),
      };
    },
  },
  mincore: { keys: RANGE_KEYS, read: readRange },
  flush: {
    keys: ['map', 'offsetBytes', 'lengthBytes', 'insn'],
    read: (f) => ({
      map: f.need('map', asMapRef),
      offsetBytes: f.need('offsetBytes', asBytes),
      lengthBytes: f.need('lengthBytes', asBytes),
      insn: f.need('insn', (v, at) => asOneOf(v, at, ['clwb', 'clflushopt', 'clflush'] as const)),
    }),
  },
  fence: {
    keys: ['insn'],
    read: (f) => ({ insn: f.need('insn', (v, at) => asOneOf(v, at, ['sfence', 'mfence'] as const)) }),
  },
  mkfs: {
    keys: ['device', 'fs', 'placement', 'suBytes', 'sw', 'extsizeBytes'],
    read: readMkfs,
  },
  mount: { keys: MOUNT_KEYS, read: readMount },
  umount: { keys: ['target'], read: (f) => ({ target: f.need('target', asPath) }) },
  remount: {
    keys: ['target', 'mode'],
    read: (f) => ({
      target: f.need('target', asPath),
      mode: f.need('mode', (v, at) => asOneOf(v, at, ['ro', 'rw'] as const)),
    }),
  },
  dropCaches: {
    keys: ['value'],
    read: (f) => ({ value: f.or('value', (v, at) => asOneOf(v, at, [1, 2, 3] as const), 3) }),
  },
  setKnob: {
    keys: ['name', 'value'],
    read: (f) => {
      const name = f.need('name', asName);
      return { name, value: f.need('value', (v, at) => asKnobValue(name, v, at)) };
    },
  },
  sleep: { keys: ['durationNs'], read: (f) => ({ durationNs: f.need('durationNs', asNs) }) },
  copy: {
    keys: ['from', 'to', 'chunkBytes', 'background'],
    read: (f) => ({
      from: f.need('from', asPath),
      to: f.need('to', asPath),
      chunkBytes: f.or('chunkBytes', asBytes, 1024 * 1024),
      background: f.or('background', asBool, false),
    }),
  },
  stop: { keys: ['thread'], read: (f) => ({ thread: f.may('thread', asName) }) },
  loop: {
    keys: ['steps', 'repeat', 'background'],
    read: (f, common) => {
      const background = f.or('background', asBool, false);
      if (background && common.thread === undefined) {
        f.at.fail('a background loop needs its own thread: give it a thread name');
      }
      const repeat = f.may('repeat', asCount);
      if (repeat === undefined && !background) f.at.fail('a loop that is not background needs repeat');
      return { steps: f.need('steps', (x, a) => readLoopBody(x, a, common)), repeat, background };
    },
  },
  wait: { keys: ['thread'], read: (f) => ({ thread: f.may('thread', asName) }) },
  report: {
    keys: ['name'],
    read: (f) => ({ name: f.need('name', asReportName) }),
  },
  spawn: {
    keys: [],
    read: (f, common) => {
      return { thread: common.thread ?? f.at.fail('missing thread'), process: common.process };
    },
  },
  fork: {
    keys: ['child'],
    read: (f, common) => {
      if (common.thread !== undefined) f.at.key('thread').fail('fork copies a process; name its process, not a thread');
      const child = f.need('child', asName);
      if (child === (common.process ?? 'main')) f.at.key('child').fail('the child needs a name of its own');
      return { child };
    },
  },
  exit: {
    keys: ['status'],
    read: (f, common) => {
      if ((common.process ?? 'main') === 'main') {
        f.at.fail('exit needs the process of a forked child (main cannot exit)');
      }
      return { status: f.or('status', (v, at) => asInt(v, at, 0, 255), 0) };
    },
  },
  waitpid: { keys: ['child'], read: (f) => ({ child: f.need('child', asName) }) },
  mremap: {
    keys: ['map', 'offsetBytes', 'oldLengthBytes', 'newLengthBytes', 'flags', 'newAddrBytes'],
    read: (f) => ({
      map: f.need('map', asMapRef),
      offsetBytes: f.or('offsetBytes', asBytes, 0),
      oldLengthBytes: f.may('oldLengthBytes', asBytes),
      newLengthBytes: f.need('newLengthBytes', asBytes),
      flags: f.or('flags', (v, at) => asFlags(v, at, MREMAP_FLAG_NAMES), { names: [], extraBits: 0 }),
      newAddrBytes: f.may('newAddrBytes', asBytes),
    }),
  },
  mlock: {
    keys: [...RANGE_KEYS, 'flags'],
    read: (f) => ({ ...readRange(f), flags: f.or('flags', (v, at) => asFlags(v, at, MLOCK_FLAG_NAMES),
      { names: [], extraBits: 0 }) }),
  },
  munlock: { keys: RANGE_KEYS, read: readRange },
  mlockall: {
    keys: ['flags'],
    read: (f) => ({ flags: f.need('flags', (v, at) => asFlags(v, at, MCL_FLAG_NAMES)) }),
  },
  munlockall: { keys: [], read: () => ({}) },
};

function isOp(name: string): name is Op {
  return Object.hasOwn(STEP_READERS, name);
}

function asPages(v: unknown, at: At): number[] {
  const list = asList(v, at);
  if (list.length === 0) at.fail('pages is empty');
  if (list.length > ACCESS_PAGES_MAX) at.fail(`at most ${ACCESS_PAGES_MAX} pages`);
  return list.map((p, i) => asCount(p, at.item(i)));
}

/** A report name, unique in the scenario. */
function asReportName(v: unknown, at: At): string {
  const name = asName(v, at);
  const first = at.ctx.reports.get(name);
  if (first !== undefined) at.fail(`duplicate report name "${name}" (first used at ${first})`);
  at.ctx.reports.set(name, at.where);
  return name;
}

function asPlacement(v: unknown, at: At): 'aligned' | 'unaligned' | 'mballoc' {
  return asOneOf(v, at, ['aligned', 'unaligned', 'mballoc'] as const);
}

// ---- Expectations ----

const EXPECT_KEYS = [
  'errno', 'signal', 'signalPage', 'result', 'vmstat', 'rusage', 'meminfo', 'events', 'files', 'smaps', 'data',
];

function readExpect(v: unknown, at: At): Expect {
  const f = new Fields(v, at, EXPECT_KEYS);
  const out: Expect = {};
  f.put(out, 'errno', (x, a) => asOneOf(x, a, ['ok', ...ERRNO_NAMES] as const));
  f.put(out, 'signal', (x, a) => asOneOf(x, a, SIGNAL_NAMES));
  f.put(out, 'signalPage', asCount);
  if (out.signalPage !== undefined && out.signal !== 'SIGBUS' && out.signal !== 'SIGSEGV') {
    at.key('signalPage').fail('signalPage needs signal: SIGBUS or SIGSEGV');
  }
  f.put(out, 'result', asResult);
  f.put(out, 'vmstat', asCounters);
  f.put(out, 'rusage', asRusage);
  f.put(out, 'meminfo', asCounters);
  f.put(out, 'events', asCounters);
  f.put(out, 'files', asFileExpects);
  f.put(out, 'smaps', asSmapsExpects);
  f.put(out, 'data', asData);
  return out;
}

/** A call's return value: any whole number, or a size with units. */
function asResult(v: unknown, at: At): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  return asBytes(v, at);
}

function asCounters(v: unknown, at: At): Record<string, number> {
  return asRecord(v, at, asCount);
}

function asRusage(v: unknown, at: At): { minflt?: number; majflt?: number } {
  const f = new Fields(v, at, ['minflt', 'majflt']);
  const out: { minflt?: number; majflt?: number } = {};
  f.put(out, 'minflt', asCount);
  f.put(out, 'majflt', asCount);
  return out;
}

function asFileExpects(v: unknown, at: At): Record<string, FileExpect> {
  return asRecord(v, at, (value, fileAt) => {
    asPath(fileAt.path[fileAt.path.length - 1], fileAt);
    const f = new Fields(value, fileAt, ['sizeBytes', 'blocks']);
    const out: FileExpect = {};
    f.put(out, 'sizeBytes', asBytes);
    f.put(out, 'blocks', asCount);
    return out;
  });
}

function asSmapsExpects(v: unknown, at: At): Record<string, Record<string, number | string>> {
  return asRecord(v, at, (value, mapAt) => {
    asMapRef(mapAt.path[mapAt.path.length - 1], mapAt);
    return asRecord(value, mapAt, (field, fieldAt) => {
      if (typeof field === 'number' || (typeof field === 'string' && field !== '')) return field;
      return fieldAt.fail(`expected a number or text, got ${describeValue(field)}`);
    });
  });
}

// ---- Steps ----

function readStep(v: unknown, at: At, index: number): Step {
  if (!isMapping(v)) at.fail(`expected a step like { mmap: { ... } }, got ${describeValue(v)}`);
  const keys = Object.keys(v);
  const [name] = keys;
  if (keys.length !== 1 || name === undefined) {
    const misplaced = keys.some((k) => (COMMON_KEYS as readonly string[]).includes(k));
    at.fail(`a step has exactly one key, its op; got ${keys.length === 0 ? 'none' : keys.join(', ')}` +
      (misplaced ? ' (thread, process and expect go inside the op\'s arguments)' : ''));
  }
  if (!isOp(name)) {
    return at.key(name).fail(`unknown op "${name}"${didYouMean(name, STEP_KINDS)} (ops: ${STEP_KINDS.join(', ')})`);
  }
  return readOp(name, v[name], new At(at.ctx, `${at.where} (${name})`, [...at.path, name]), index, at.line());
}

function readOp<O extends Op>(op: O, raw: unknown, at: At, index: number, line: number | undefined): Step {
  const spec: StepReader<O> = STEP_READERS[op];
  // `dropCaches: 3` is shorthand for `dropCaches: { value: 3 }`; a bare `op:` means no arguments.
  const value = op === 'dropCaches' && typeof raw === 'number' ? { value: raw } : (raw ?? {});
  const f = new Fields(value, at, [...spec.keys, ...COMMON_KEYS]);
  const common: Common = { thread: f.may('thread', asName), process: f.may('process', asName) };
  const args = spec.read(f, common);
  if (op === 'access') (args as ArgsByOp['access']).orderIndex = index;
  if (op === 'loop') indexLoopBody((args as ArgsByOp['loop']).steps, index, line);
  const step: StepOf<O> = { op, index, line, ...common, expect: f.may('expect', readExpect), args };
  // A StepOf<O> for a generic O is one member of the Step union; TypeScript cannot see that itself.
  return step as Step;
}

/** Steps a loop may not contain: they start or end threads, processes or background work. */
const NOT_IN_LOOP: ReadonlySet<string> = new Set(['loop', 'spawn', 'fork', 'exit', 'waitpid', 'wait', 'stop',
  'mkfs', 'mount', 'umount', 'report']);

/** The steps of a loop: they run on the loop's thread and process, without expect of their own. */
function readLoopBody(v: unknown, at: At, common: Common): Step[] {
  const list = asList(v, at);
  if (list.length === 0) at.fail('a loop needs at least one step');
  if (list.length > STEPS_MAX) at.fail(`at most ${STEPS_MAX} steps, got ${list.length}`);
  return list.map((raw, i) => {
    const st = readStep(raw, at.item(i), -1);
    const sat = at.item(i);
    if (NOT_IN_LOOP.has(st.op)) sat.fail(`${st.op} cannot run inside a loop`);
    const other = (x: string | undefined, y: string | undefined) => x !== undefined && x !== y;
    if (other(st.thread, common.thread)) sat.fail('a loop\'s steps run on the loop\'s thread');
    if (other(st.process, common.process)) sat.fail('a loop\'s steps run in the loop\'s process');
    if (st.expect !== undefined) sat.fail('a step inside a loop has no expect (put checks after the loop or its wait)');
    const bg = (st.op === 'access' || st.op === 'copy') && st.args.background;
    if (bg) sat.fail('a loop\'s steps are not background work');
    return { ...st, thread: common.thread, process: common.process } as Step;
  });
}

/** Gives a loop's inner steps the loop's index (their results and random orders are the loop's). */
function indexLoopBody(steps: Step[], index: number, line: number | undefined): void {
  for (const st of steps) {
    st.index = index;
    if (st.line === undefined) st.line = line;
    if (st.op === 'access') st.args.orderIndex = index;
  }
}

// ---- Top level ----

const TOP_KEYS = ['name', 'seed', 'kernel', 'machine', 'mounts', 'steps'];

function readKernel(v: unknown, at: At): KernelSpec {
  if (!isMapping(v)) at.fail(`expected a mapping, got ${describeValue(v)}`);
  const knobs: Record<string, KnobValue> = {};
  let profile: string | undefined;
  for (const [key, value] of Object.entries(v)) {
    if (key === 'profile') {
      profile = asString(value, at.key(key));
      continue;
    }
    asName(key, at.key(key));
    // defineProperty, not assignment: a key named __proto__ must stay a (rejected) knob name,
    // not replace the object's prototype and vanish.
    Object.defineProperty(knobs, key, { value: asKnobValue(key, value, at.key(key)), enumerable: true,
      writable: true, configurable: true });
  }
  return { profile, knobs };
}

function readDevice(v: unknown, at: At): DeviceSpec {
  const f = new Fields(v, at, ['name', 'type', 'sizeBytes', 'latencyNs', 'placement', 'readAheadKb', 'maxSectorsKb']);
  const name = f.need('name', asName);
  if (at.ctx.devices.has(name)) at.key('name').fail(`device "${name}" is declared twice`);
  const device: DeviceSpec = {
    name,
    type: f.need('type', (x, a) => asOneOf(x, a, ['block', 'pmem'] as const)),
    sizeBytes: f.need('sizeBytes', asPositiveBytes),
    latencyNs: f.may('latencyNs', asNs),
    readAheadKb: f.may('readAheadKb', (x, a) => asInt(x, a, 0, 1 << 20)),
    maxSectorsKb: f.may('maxSectorsKb', (x, a) => asInt(x, a, 4, 1 << 20)),
    placement: f.may('placement', asPlacement),
  };
  at.ctx.devices.add(name);
  return device;
}

function readMachine(v: unknown, at: At): MachineSpec {
  const f = new Fields(v, at, ['memoryBytes', 'cpus', 'devices']);
  return {
    memoryBytes: f.need('memoryBytes', asPositiveBytes),
    cpus: f.or('cpus', (x, a) => asInt(x, a, 1, CPUS_MAX), 1),
    devices: f.or('devices', (x, a) => asList(x, a).map((d, i) => readDevice(d, a.item(i))), []),
  };
}

function readScenario(root: unknown, ctx: Context): Scenario {
  const at = new At(ctx, '', []);
  const f = new Fields(root, at, TOP_KEYS);
  // machine first: mounts and steps refer to its devices whatever the key order in the file.
  const machine = f.need('machine', readMachine);
  return {
    source: ctx.source,
    name: f.may('name', asString),
    seed: f.or('seed', asCount, 1),
    kernel: f.or('kernel', readKernel, { profile: undefined, knobs: {} }),
    machine,
    mounts: f.or('mounts', (x, a) => asList(x, a).map((m, i) => readMount(new Fields(m, a.item(i), MOUNT_KEYS))), []),
    steps: f.need('steps', (x, a) => {
      const list = asList(x, a);
      if (list.length > STEPS_MAX) a.fail(`at most ${STEPS_MAX} steps, got ${list.length}`);
      return list.map((s, i) => readStep(s, a.item(i), i));
    }),
  };
}

/** Line (1-based) of the node at `path`, or of its nearest ancestor present in the document. */
function lineFinder(doc: Document, lineCounter: LineCounter): (path: readonly PathKey[]) => number | undefined {
  return (path) => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
}

/**
 * Parses and validates a scenario written in YAML (or JSON, which YAML reads too).
 * Throws ScenarioError for the first problem found, with its path, source name and line.
 */
export function parseScenario(text: string, sourceName: string): Scenario {
  if (text.length > SCENARIO_BYTES_MAX) {
    throw new ScenarioError('', `the file is ${text.length} characters long, at most ${SCENARIO_BYTES_MAX} ` +
      `(16 MiB: ${STEPS_MAX} steps need far less; split it, or use patterns instead of inline data)`, sourceName);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    const firstLine = syntax.message.split('\n')[0] ?? syntax.message;
    const message = firstLine.replace(/ at line \d+, column \d+:?$/, '');
    throw new ScenarioError('', `YAML: ${message}`, sourceName, syntax.linePos?.[0].line);
  }
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: ALIAS_COUNT_MAX });
  } catch (e) {
    throw new ScenarioError('', `YAML: ${e instanceof Error ? e.message : String(e)}`, sourceName);
  }
  const ctx: Context = {
    source: sourceName,
    lineOf: lineFinder(doc, lineCounter),
    devices: new Set(),
    fds: new Set(),
    maps: new Set(),
    reports: new Map(),
  };
  if (root === null || root === undefined) throw new ScenarioError('', 'the file is empty', sourceName);
  return readScenario(root, ctx);
}
