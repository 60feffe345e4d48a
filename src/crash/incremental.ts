/**
 * Incremental checking of expectDurable for the crash explorer (issue 15). A crash state's media
 * image is the durable view plus a kept prefix of each non-durable line's stores; an expectation
 * reads bytes of a file through the committed metadata (ext4 recovery replays committed
 * transactions only, fs/jbd2/recovery.c). So an expectation can change its verdict only when
 * - the durable view of a block it reads changes (a line persists: SFENCE after CLWB, CLFLUSH,
 *   a kernel write through the driver; src/hw/pmem.ts logs these blocks in durableLog),
 * - the committed mapping, size or name of its file changes (a journal commit), or
 * - it reads a line that is not yet durable (then each kept prefix is a different image).
 * An expectation that read only durable lines and held is "settled" until one of the first two
 * happens. At a crash point the explorer asks `prepare` once; it computes, for every
 * non-durable line and every prefix length, whether the bytes the unsettled or touched
 * expectations read in that line are as expected, so checking one state is one table read per
 * non-durable line and allocates nothing. A failing state is re-checked by the full path for its
 * report, and `crossCheck` compares the two on every state (tests).
 */
import type { Ext4 } from '../fs/ext4/ext4.ts';
import type { ExtentMap, ExtentLookup } from '../fs/ext4/extents.ts';
import { STORE_CONT, type PendingLine, type PmemDevice } from '../hw/pmem.ts';
import { assert } from '../lib/assert.ts';

/** A ctx.expectDurable promise; `index` numbers them from 1 in registration order (its name in reports). */
export interface Expectation { path: string; offsetBytes: number; bytes: Uint8Array; index: number }

const NONE: readonly ExpState[] = [];
/** A changed range of more pages than this is matched against every expectation of its file. */
const PAGE_SCAN_LIMIT = 64;

interface ExpState {
  readonly e: Expectation;
  /** The file's name under the mount point (null: not on the DAX filesystem, always missing). */
  readonly name: string | null;
  /** Holds on the durable image and reads no line that was non-durable when it was settled. */
  settled: boolean;
  /** Device block of each file page it reads (-1: hole or unwritten, reads zeros), when resolvable. */
  blocks: number[];
  /** The file is missing or too short after recovery: fails in every image until unsettled. */
  missing: boolean;
}

/** Changed page ranges [lo, hi) between two extent maps (both sorted), pushed into `out`. */
function changedPages(a: ExtentMap | undefined, b: ExtentMap, out: number[]): void {
  const cuts: number[] = [0];
  for (const m of [a, b]) {
    if (!m) continue;
    for (const e of m.extents()) cuts.push(e.lblk, e.lblk + e.lenBlocks);
  }
  cuts.sort((x, y) => x - y);
  const la: ExtentLookup = { kind: 'hole', lblk: 0, pblk: -1, lenBlocks: 0 };
  const lb: ExtentLookup = { kind: 'hole', lblk: 0, pblk: -1, lenBlocks: 0 };
  for (let i = 0; i < cuts.length - 1; i++) {
    const lo = cuts[i]!, hi = cuts[i + 1]!;
    if (lo === hi) continue;
    if (a) a.lookupInto(lo, la); else { la.kind = 'hole'; la.pblk = -1; }
    b.lookupInto(lo, lb);
    const same = la.kind === lb.kind && (la.kind === 'hole' || la.pblk === lb.pblk);
    if (!same) out.push(lo, hi);
  }
}

/**
 * Line key (block * 64 + line) -> index among this point's non-durable lines: an open-addressing
 * table in typed arrays whose entries carry the generation that wrote them, so emptying it for the
 * next crash point is one increment (Map.clear allocates a new table every time).
 */
class LineIndex {
  private keys = new Float64Array(64);
  private vals = new Int32Array(64);
  private gens = new Uint32Array(64);
  private gen = 1;
  private mask = 63;
  size = 0;

  /** Empty, with room for `n` entries at most half full. */
  reset(n: number): void {
    if (n * 2 > this.keys.length) {
      let len = this.keys.length;
      while (n * 2 > len) len *= 2;
      this.keys = new Float64Array(len); this.vals = new Int32Array(len); this.gens = new Uint32Array(len);
      this.mask = len - 1;
    }
    this.gen++;
    this.size = 0;
  }

  private slot(key: number): number {
    let h = (Math.imul(key | 0, 0x9e3779b1) ^ Math.floor(key / 4294967296)) >>> 0 & this.mask;
    while (this.gens[h] === this.gen && this.keys[h] !== key) h = (h + 1) & this.mask;
    return h;
  }

  set(key: number, v: number): void {
    const h = this.slot(key);
    if (this.gens[h] !== this.gen) { this.gens[h] = this.gen; this.keys[h] = key; this.size++; }
    this.vals[h] = v;
  }

  /** The index of `key`, or -1. */
  get(key: number): number {
    const h = this.slot(key);
    return this.gens[h] === this.gen ? this.vals[h]! : -1;
  }
}

export class IncrementalExpectations {
  private readonly fs: Ext4;
  private readonly pmem: PmemDevice;
  private readonly mount: string;
  private readonly all: ExpState[] = [];
  private readonly byPath = new Map<string, ExpState[]>();
  /** Per file, per page: the expectations that read it (a commit that changed a few pages looks up only those). */
  private readonly byPage = new Map<string, Map<number, ExpState[]>>();
  private readonly ranges: number[] = [];
  private readonly byBlock = new Map<number, ExpState[]>();
  /** The first unsettledN entries are the unsettled expectations (a count, not .length: no array resizing). */
  private readonly unsettled: ExpState[] = [];
  private unsettledN = 0;
  private lastTid = -1;
  private readonly snapExtents = new Map<number, { extents: ExtentMap; sizeBytes: number }>();
  private readonly snapNames = new Map<string, number>();
  private readonly look: ExtentLookup = { kind: 'hole', lblk: 0, pblk: -1, lenBlocks: 0 };
  // Per crash point (reused): line key -> index, the prefix table and its offsets.
  private readonly lineIndex = new LineIndex();
  private okTable = new Uint8Array(256);
  private okOffset = new Int32Array(16);
  private want = new Int16Array(0);
  private readonly scratch = new Int16Array(64);
  private readonly focus: ExpState[] = [];
  private focusN = 0;
  /** Every state at this point fails (an expectation reading only durable or missing data broke). */
  pointFails = false;
  private lineCount = 0;

  constructor(fs: Ext4, pmem: PmemDevice, mountPoint: string) {
    this.fs = fs;
    this.pmem = pmem;
    this.mount = mountPoint.endsWith('/') ? mountPoint : mountPoint + '/';
    pmem.durableLog = [];
    pmem.durableLogCount = 0;
  }

  add(e: Expectation): void {
    const name = e.path.startsWith(this.mount) ? e.path.slice(this.mount.length) : null;
    const st: ExpState = { e, name, settled: false, blocks: [], missing: false };
    this.all.push(st);
    let l = this.byPath.get(e.path);
    if (!l) { l = []; this.byPath.set(e.path, l); }
    l.push(st);
    let pages = this.byPage.get(e.path);
    if (!pages) { pages = new Map(); this.byPage.set(e.path, pages); }
    const hi = Math.floor((e.offsetBytes + Math.max(1, e.bytes.length) - 1) / 4096);
    for (let pg = Math.floor(e.offsetBytes / 4096); pg <= hi; pg++) {
      let at = pages.get(pg);
      if (!at) { at = []; pages.set(pg, at); }
      at.push(st);
    }
    this.unsettled[this.unsettledN++] = st;
  }

  private unsettle(st: ExpState): void {
    if (!st.settled) return;
    st.settled = false;
    this.unsettled[this.unsettledN++] = st;
  }

  /** A journal commit since the last point: unsettle expectations whose file's metadata changed. */
  private noteCommit(): void {
    let namesChanged = this.snapNames.size !== this.fs.committedNames.size;
    for (const [n, ino] of this.fs.committedNames) if (this.snapNames.get(n) !== ino) namesChanged = true;
    if (namesChanged) {
      for (const st of this.all) this.unsettle(st);
      this.snapNames.clear();
      for (const [n, ino] of this.fs.committedNames) this.snapNames.set(n, ino);
    }
    const ranges = this.ranges;
    for (const [ino, c] of this.fs.committed) {
      const old = this.snapExtents.get(ino);
      if (old === c) continue;
      this.snapExtents.set(ino, c);
      ranges.length = 0;
      const sizeChanged = !old || old.sizeBytes !== c.sizeBytes;
      if (!sizeChanged) changedPages(old.extents, c.extents, ranges);
      if (!sizeChanged && ranges.length === 0) continue;
      for (const [n, i] of this.fs.committedNames) if (i === ino) this.unsettleFile(this.mount + n, sizeChanged);
    }
  }

  /** Unsettle the expectations on `path` that read the changed pages in `ranges` (all of them with `all`). */
  private unsettleFile(path: string, all: boolean): void {
    const ranges = this.ranges;
    const pages = this.byPage.get(path);
    if (!pages) return;
    let span = 0;
    for (let r = 0; r < ranges.length; r += 2) span += ranges[r + 1]! - ranges[r]!;
    if (all || span > PAGE_SCAN_LIMIT) {
      const on = this.byPath.get(path) ?? NONE;
      for (let i = 0; i < on.length; i++) if (all || overlaps(on[i]!.e, ranges)) this.unsettle(on[i]!);
      return;
    }
    for (let r = 0; r < ranges.length; r += 2) {
      for (let pg = ranges[r]!; pg < ranges[r + 1]!; pg++) {
        const on = pages.get(pg) ?? NONE;
        for (let i = 0; i < on.length; i++) this.unsettle(on[i]!);
      }
    }
  }

  /** Resolve an expectation's pages through the committed metadata (see CrashView.inode). */
  private resolve(st: ExpState): void {
    const e = st.e;
    st.missing = true;
    if (st.name === null) return;
    const ino = this.fs.committedNames.get(st.name);
    if (ino === undefined) return;
    const c = this.fs.committed.get(ino);
    const size = c?.sizeBytes ?? 0;
    if (e.offsetBytes + e.bytes.length > size) return;
    st.missing = false;
    const first = Math.floor(e.offsetBytes / 4096), last = Math.floor((e.offsetBytes + e.bytes.length - 1) / 4096);
    const blocks = st.blocks;
    if (blocks.length !== last - first + 1) blocks.length = last - first + 1; // never 0: no reallocation
    for (let pg = first; pg <= last; pg++) {
      const m = c!.extents.lookupInto(pg, this.look);
      const b = m.kind === 'written' ? m.pblk : -1;
      blocks[pg - first] = b;
      if (b < 0) continue;
      let l = this.byBlock.get(b);
      if (!l) { l = []; this.byBlock.set(b, l); }
      if (!l.includes(st)) l.push(st);
    }
  }

  /** Does the expectation read a line in `lineIndex` (non-durable at this point)? */
  private touchesPending(st: ExpState): boolean {
    if (this.lineIndex.size === 0 || st.missing) return false;
    const e = st.e;
    const first = Math.floor(e.offsetBytes / 4096);
    for (let o = e.offsetBytes - (e.offsetBytes % 64); o < e.offsetBytes + e.bytes.length; o += 64) {
      const b = st.blocks[Math.floor(o / 4096) - first]!;
      if (b >= 0 && this.lineIndex.get(b * 64 + ((o % 4096) >>> 6)) >= 0) return true;
    }
    return false;
  }

  /** Does it hold on the durable image, ignoring the bytes in non-durable lines? */
  private holdsDurable(st: ExpState): boolean {
    if (st.missing) return false;
    const e = st.e;
    const first = Math.floor(e.offsetBytes / 4096);
    for (let k = 0; k < e.bytes.length; k++) {
      const o = e.offsetBytes + k;
      const b = st.blocks[Math.floor(o / 4096) - first]!;
      if (b >= 0 && this.lineIndex.get(b * 64 + ((o % 4096) >>> 6)) >= 0) continue;
      const v = b < 0 ? 0 : this.pmem.durableBlockByte(b, o % 4096);
      if (v !== e.bytes[k]) return false;
    }
    return true;
  }

  /** Build this crash point's table (see the module comment) for its non-durable `lines`. */
  prepare(lines: readonly PendingLine[]): void {
    const tid = this.fs.journal.committedTid;
    if (tid !== this.lastTid) { this.lastTid = tid; this.noteCommit(); }
    const log = this.pmem.durableLog!;
    for (let i = 0; i < this.pmem.durableLogCount; i++) {
      const l = this.byBlock.get(log[i]!) ?? NONE;
      for (let j = 0; j < l.length; j++) this.unsettle(l[j]!);
    }
    this.pmem.durableLogCount = 0;
    this.lineIndex.reset(lines.length);
    let cells = 0;
    if (this.okOffset.length < lines.length) this.okOffset = new Int32Array(lines.length * 2);
    for (let i = 0; i < lines.length; i++) {
      this.lineIndex.set(lines[i]!.block * 64 + lines[i]!.line, i);
      this.okOffset[i] = cells;
      cells += lines[i]!.units + 1;
    }
    this.lineCount = lines.length;
    if (this.okTable.length < cells) this.okTable = new Uint8Array(cells * 2);
    for (let c = 0; c < cells; c++) this.okTable[c] = 1;
    this.pointFails = false;
    this.focusN = 0;
    let kept = 0;
    for (let i = 0; i < this.unsettledN; i++) {
      const st = this.unsettled[i]!;
      this.resolve(st);
      const ok = this.holdsDurable(st);
      if (!ok) this.pointFails = true;
      if (this.touchesPending(st)) this.focus[this.focusN++] = st;
      else if (ok) { st.settled = true; continue; }
      this.unsettled[kept++] = st;
    }
    for (let i = kept; i < this.unsettledN; i++) this.unsettled[i] = undefined!; // no stale references
    this.unsettledN = kept;
    for (let i = 0; i < lines.length; i++) {
      const on = this.byBlock.get(lines[i]!.block) ?? NONE;
      for (let j = 0; j < on.length; j++) {
        const st = on[j]!;
        if (st.settled && this.touchesPending(st) && !this.inFocus(st)) this.focus[this.focusN++] = st;
      }
    }
    if (this.focusN > 0) this.fillTable(lines);
  }

  private inFocus(st: ExpState): boolean {
    for (let i = 0; i < this.focusN; i++) if (this.focus[i] === st) return true;
    return false;
  }

  /** okTable[okOffset[i] + k]: the focus expectations' bytes in line i are right when it keeps k units. */
  private fillTable(lines: readonly PendingLine[]): void {
    const n = lines.length;
    if (this.want.length < n * 64) this.want = new Int16Array(n * 128);
    const want = this.want;
    want.fill(-1, 0, n * 64);
    for (let f = 0; f < this.focusN; f++) {
      const st = this.focus[f]!;
      const e = st.e;
      const first = Math.floor(e.offsetBytes / 4096);
      for (let k = 0; k < e.bytes.length; k++) {
        const o = e.offsetBytes + k;
        const b = st.blocks[Math.floor(o / 4096) - first]!;
        const i = b < 0 ? -1 : this.lineIndex.get(b * 64 + ((o % 4096) >>> 6));
        if (i < 0) continue;
        const w = i * 64 + (o % 64);
        // Two expectations wanting different bytes in one place: no image satisfies both.
        want[w] = want[w] === -1 || want[w] === e.bytes[k] ? e.bytes[k]! : -2;
      }
    }
    const line = this.scratch;
    for (let i = 0; i < n; i++) {
      const l = lines[i]!;
      const base = l.line * 64;
      let bad = 0;
      for (let j = 0; j < 64; j++) {
        line[j] = this.pmem.durableBlockByte(l.block, base + j);
        const w = want[i * 64 + j]!;
        if (w !== -1 && w !== line[j]) bad++;
      }
      const off = this.okOffset[i]!;
      this.okTable[off] = bad === 0 ? 1 : 0;
      let unit = 0;
      for (let s = 0; s < l.stores.length; s++) {
        let st = l.stores[s]!;
        const cont = st >= STORE_CONT;
        if (cont) st -= STORE_CONT;
        else if (s > 0) this.okTable[off + unit] = bad === 0 ? 1 : 0;
        if (!cont) unit++;
        const j = Math.floor(st / 256) - base, v = st % 256;
        assert(j >= 0 && j < 64, `crash explorer: store outside its line ${l.block}:${l.line}`);
        const w = want[i * 64 + j]!;
        if (w !== -1) bad += (line[j] === w ? 0 : -1) + (v === w ? 0 : 1);
        line[j] = v;
      }
      this.okTable[off + unit] = bad === 0 ? 1 : 0;
      assert(unit === l.units, `crash explorer: line ${l.block}:${l.line} has ${unit} units, recorded ${l.units}`);
    }
  }

  /** Do the expectations hold in the state keeping choice[i] units of line i? Allocates nothing. */
  holds(choice: readonly number[]): boolean {
    if (this.pointFails) return false;
    if (this.focusN === 0) return true;
    for (let i = 0; i < this.lineCount; i++) if (this.okTable[this.okOffset[i]! + choice[i]!] === 0) return false;
    return true;
  }
}

function overlaps(e: Expectation, ranges: readonly number[]): boolean {
  const lo = Math.floor(e.offsetBytes / 4096);
  const hi = Math.floor((e.offsetBytes + Math.max(1, e.bytes.length) - 1) / 4096);
  for (let i = 0; i < ranges.length; i += 2) if (lo < ranges[i + 1]! && hi >= ranges[i]!) return true;
  return false;
}
