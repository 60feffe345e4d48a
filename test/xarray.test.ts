// Tests for src/lib/xarray.ts, the model of Linux's XArray (lib/xarray.c, include/linux/xarray.h, v6.1).
// Behaviour references: Documentation/core-api/xarray.rst and lib/test_xarray.c (v6.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  XArray,
  XA_INDEX_MAX,
  XA_MARK_0,
  XA_MARK_1,
  XA_MARK_2,
  xaIsValue,
  xaMkValue,
  xaToValue,
} from '../src/lib/xarray.ts';

const DIRTY = XA_MARK_0;
const WRITEBACK = XA_MARK_1;
const TOWRITE = XA_MARK_2;

function listEntries(xa: XArray, start: number, last: number, mark?: number): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  xa.forEach(start, last, (index, entry, order) => {
    out.push([index, entry, order]);
  }, mark);
  return out;
}

test('value entries encode v as 2v+1 (xa_mk_value / xa_to_value / xa_is_value, include/linux/xarray.h)', () => {
  assert.equal(xaMkValue(0), 1);
  assert.equal(xaMkValue(21), 43);
  assert.equal(xaToValue(43), 21);
  assert.equal(xaIsValue(43), true);
  assert.equal(xaIsValue(42), false);
  assert.equal(xaToValue(xaMkValue(2 ** 40 + 3)), 2 ** 40 + 3);
  assert.throws(() => xaToValue(42), /not a value entry/);
  assert.throws(() => xaMkValue(-1), /not an integer/);
});

test('store/load/erase of single entries (xa_store, xa_load, xa_erase; test_xarray.c check_xa_load)', () => {
  const xa = new XArray();
  assert.equal(xa.load(7), 0);
  assert.equal(xa.store(7, 100), 0);
  assert.equal(xa.store(8, xaMkValue(5)), 0);
  assert.equal(xa.load(7), 100);
  assert.equal(xa.load(8), xaMkValue(5));
  assert.equal(xa.load(6), 0);
  assert.equal(xa.load(9), 0);
  assert.equal(xa.store(7, 102), 100, 'store returns the entry it replaced');
  assert.equal(xa.count, 2);
  assert.equal(xa.indexCount, 2);
  assert.equal(xa.erase(7), 102);
  assert.equal(xa.erase(7), 0, 'erasing an empty index returns nothing');
  assert.equal(xa.load(7), 0);
  assert.equal(xa.count, 1);
  xa.checkInvariants();
  assert.equal(xa.erase(8), xaMkValue(5));
  assert.equal(xa.count, 0);
  assert.equal(xa.nodeCount, 0);
  xa.checkInvariants();
});

test('index 0 alone lives in the head without a node, and the tree shrinks back to it (xas_expand, xas_shrink)', () => {
  const xa = new XArray();
  xa.store(0, 10);
  assert.equal(xa.nodeCount, 0, 'an entry at index 0 alone is kept in xa_head');
  xa.setMark(0, DIRTY);
  xa.store(1, 12);
  assert.equal(xa.nodeCount, 1, 'a second index needs one leaf node');
  assert.equal(xa.getMark(0, DIRTY), true, 'the head entry keeps its mark when moved into a node');
  assert.equal(xa.getMark(1, DIRTY), false);
  xa.checkInvariants();
  xa.erase(1);
  assert.equal(xa.nodeCount, 0, 'xas_shrink turns a leaf root holding only index 0 back into the head');
  assert.equal(xa.load(0), 10);
  assert.equal(xa.getMark(0, DIRTY), true);
  assert.equal(xa.marked(DIRTY), true);
  xa.checkInvariants();
  xa.store(3000, 14);
  assert.equal(xa.nodeCount, 3, 'root at shift 6 with leaves for 0..63 and 2944..3007');
  xa.erase(3000);
  assert.equal(xa.nodeCount, 0);
  assert.equal(xa.load(0), 10);
  xa.checkInvariants();
});

test('sparse indexes up to 2^46 use a node per level on each path, not memory per index (xas_expand, '
  + 'xas_create)', () => {
  const xa = new XArray();
  const indexes = [5, 2 ** 40, 2 ** 40 + 1, 2 ** 33 + 9, XA_INDEX_MAX];
  for (const [i, index] of indexes.entries()) xa.store(index, 2 * i + 2);
  for (const [i, index] of indexes.entries()) assert.equal(xa.load(index), 2 * i + 2);
  for (const index of [4, 6, 2 ** 40 - 1, 2 ** 40 + 2, 2 ** 33 + 8, XA_INDEX_MAX - 1, 2 ** 32, 2 ** 31]) {
    assert.equal(xa.load(index), 0, `index ${index} is empty`);
  }
  // Root at shift 42 (covers 2^48). 2^46 sits in root slot 16: 7 nodes (shifts 36..0) of its own.
  // Root slot 0 holds one shift-36 node; under it 2^40 (slot 16) has 6 nodes (shifts 30..0);
  // 5 has 6 (shifts 30..0); 2^33+9 shares 5's shift-30 node and adds 5 (24..0); 2^40+1 shares 2^40's leaf.
  assert.equal(xa.nodeCount, 1 + 7 + 1 + 6 + 6 + 5);
  assert.equal(xa.find(6, XA_INDEX_MAX), 2 ** 33 + 9);
  assert.deepEqual(listEntries(xa, 2 ** 33, XA_INDEX_MAX).map((e) => e[0]), [2 ** 33 + 9, 2 ** 40, 2 ** 40 + 1, XA_INDEX_MAX]);
  xa.checkInvariants();
  for (const index of indexes) xa.erase(index);
  assert.equal(xa.nodeCount, 0);
  assert.equal(xa.count, 0);
  xa.checkInvariants();
});

test('an order-9 entry covers 512 indexes and is erased whole, then order-0 entries fill the range (XA_STATE_ORDER, '
  + 'xa_get_order; test_xarray.c check_multi_store)', () => {
  const xa = new XArray();
  const pmd = xaMkValue(77);
  assert.equal(xa.store(1000, pmd, 9), 0, 'an unaligned index is rounded down to the order, as XA_STATE_ORDER does');
  for (let i = 512; i < 1024; i++) assert.equal(xa.load(i), pmd);
  assert.equal(xa.load(511), 0);
  assert.equal(xa.load(1024), 0);
  assert.equal(xa.entryOrder(700), 9);
  assert.equal(xa.count, 1);
  assert.equal(xa.indexCount, 512);
  assert.equal(xa.nodeCount, 1, 'one shift-6 node holds the entry in 8 slots (1 canonical + 7 siblings)');
  xa.checkInvariants();
  assert.equal(xa.erase(700), pmd, 'erasing any index of a multi-order entry removes all of it');
  assert.equal(xa.load(512), 0);
  assert.equal(xa.load(1023), 0);
  assert.equal(xa.count, 0);
  assert.equal(xa.nodeCount, 0);
  for (let i = 512; i < 1024; i++) xa.store(i, 2 * i);
  assert.equal(xa.count, 512);
  assert.equal(xa.indexCount, 512);
  assert.equal(xa.entryOrder(700), 0);
  assert.equal(xa.load(700), 1400);
  assert.equal(xa.nodeCount, 9, 'root at shift 6 plus 8 leaves');
  xa.checkInvariants();
});

test('an order-9 store replaces the order-0 entries in its range and frees their nodes (xas_store, '
  + 'xas_free_nodes)', () => {
  const xa = new XArray();
  for (let i = 0; i < 1024; i++) xa.store(i, 2 * i + 2);
  xa.setMark(600, DIRTY);
  xa.setMark(3, DIRTY);
  assert.equal(xa.nodeCount, 17);
  assert.equal(xa.store(600, xaMkValue(1), 9), 2 * 600 + 2, 'returns the entry that covered the index');
  assert.equal(xa.count, 512 + 1);
  assert.equal(xa.indexCount, 1024);
  assert.equal(xa.nodeCount, 9, 'the 8 leaves under 512..1023 were freed');
  assert.equal(xa.load(1023), xaMkValue(1));
  assert.equal(xa.load(511), 1024);
  assert.equal(xa.getMark(600, DIRTY), false, 'a new multi-order entry starts unmarked');
  assert.equal(xa.find(4, 1023, DIRTY), -1);
  assert.equal(xa.marked(DIRTY), true, 'index 3 is still dirty');
  xa.checkInvariants();
});

test('storing inside a larger entry throws; same-order replacement keeps marks (xas_store keeps marks of a replaced '
  + 'entry)', () => {
  const xa = new XArray();
  xa.store(512, 4, 9);
  xa.setMark(512, DIRTY);
  assert.throws(() => xa.store(520, 6), /inside an order-9 entry/);
  assert.throws(() => xa.store(520, 6, 3), /inside an order-9 entry/);
  assert.equal(xa.load(520), 4, 'the failed store changed nothing');
  xa.checkInvariants();
  assert.equal(xa.store(1000, 8, 9), 4);
  assert.equal(xa.getMark(512, DIRTY), true, 'replacing an entry of the same order at the same index keeps its marks');
  assert.equal(xa.store(1000, 10, 12), 8, 'a larger order swallows the entry');
  assert.equal(xa.getMark(512, DIRTY), false);
  assert.equal(xa.entryOrder(0), 12);
  assert.equal(xa.load(4095), 10);
  assert.equal(xa.load(4096), 0);
  xa.checkInvariants();
});

test('small large folios (orders 2-4) use sibling slots in a leaf (xa_get_order, xas_descend sibling handling)', () => {
  const xa = new XArray();
  xa.store(4, 100, 2);
  xa.store(8, 102, 3);
  xa.store(16, 104, 4);
  xa.store(3, 106);
  for (let i = 4; i < 8; i++) assert.equal(xa.load(i), 100);
  for (let i = 8; i < 16; i++) assert.equal(xa.load(i), 102);
  for (let i = 16; i < 32; i++) assert.equal(xa.load(i), 104);
  assert.equal(xa.load(32), 0);
  assert.deepEqual([xa.entryOrder(5), xa.entryOrder(13), xa.entryOrder(31), xa.entryOrder(3)], [2, 3, 4, 0]);
  assert.equal(xa.count, 4);
  assert.equal(xa.indexCount, 4 + 8 + 16 + 1);
  xa.setMark(13, DIRTY);
  assert.equal(xa.getMark(8, DIRTY), true, 'a mark set through any index lands on the whole entry');
  assert.equal(xa.getMark(15, DIRTY), true);
  assert.equal(xa.getMark(16, DIRTY), false);
  assert.equal(xa.find(10, 100), 10, 'start inside an entry is returned as is');
  assert.equal(xa.find(10, 100, DIRTY), 10);
  assert.equal(xa.find(16, 100, DIRTY), -1);
  assert.deepEqual(listEntries(xa, 6, 100), [[6, 100, 2], [8, 102, 3], [16, 104, 4]], 'each entry visited once');
  assert.deepEqual(listEntries(xa, 0, 100, DIRTY), [[8, 102, 3]]);
  xa.checkInvariants();
  xa.erase(9);
  assert.equal(xa.load(8), 0);
  assert.equal(xa.load(15), 0);
  assert.equal(xa.marked(DIRTY), false, 'the array-wide mark goes with the last marked entry');
  xa.checkInvariants();
});

test('marks propagate to every ancestor and clear when no marked entry is left below (xas_set_mark, xas_clear_mark, '
  + 'xa_marked)', () => {
  const xa = new XArray();
  const a = 5;
  const b = 3 * 4096 + 7;
  const c = 2 ** 33 + 9;
  for (const i of [a, b, c, a + 1, b + 1]) xa.store(i, 2);
  assert.equal(xa.marked(DIRTY), false);
  xa.setMark(b, DIRTY);
  xa.setMark(c, DIRTY);
  xa.setMark(c, WRITEBACK);
  xa.setMark(999, DIRTY);
  assert.equal(xa.getMark(999, DIRTY), false, 'setting a mark on an empty index does nothing');
  assert.equal(xa.marked(DIRTY), true);
  assert.equal(xa.marked(TOWRITE), false);
  xa.checkInvariants();
  assert.equal(xa.find(0, XA_INDEX_MAX, DIRTY), b);
  assert.equal(xa.find(b + 1, XA_INDEX_MAX, DIRTY), c);
  assert.equal(xa.find(0, XA_INDEX_MAX, WRITEBACK), c);
  xa.clearMark(b, DIRTY);
  assert.equal(xa.getMark(b, DIRTY), false);
  assert.equal(xa.find(0, XA_INDEX_MAX, DIRTY), c);
  xa.checkInvariants();
  xa.clearMark(c, DIRTY);
  assert.equal(xa.marked(DIRTY), false);
  assert.equal(xa.marked(WRITEBACK), true);
  xa.erase(c);
  assert.equal(xa.marked(WRITEBACK), false, 'erasing a marked entry clears its marks up the tree');
  xa.checkInvariants();
});

test('find and forEach cross node boundaries, honour start, last and stop requests (xa_find, '
  + 'xa_for_each_range)', () => {
  const xa = new XArray();
  const stored: number[] = [];
  for (let i = 60; i < 70; i++) stored.push(i);
  for (let i = 4090; i < 4100; i++) stored.push(i);
  stored.push(262143, 262144);
  for (const i of stored) xa.store(i, i * 2 + 2);
  for (const i of [62, 4092, 4095, 4096, 262144]) xa.setMark(i, DIRTY);
  assert.deepEqual(listEntries(xa, 0, XA_INDEX_MAX).map((e) => e[0]), stored);
  assert.deepEqual(listEntries(xa, 64, 4095).map((e) => e[0]), [64, 65, 66, 67, 68, 69, 4090, 4091, 4092, 4093, 4094, 4095]);
  assert.deepEqual(listEntries(xa, 0, XA_INDEX_MAX, DIRTY).map((e) => e[0]), [62, 4092, 4095, 4096, 262144]);
  assert.deepEqual(listEntries(xa, 4093, 4096, DIRTY).map((e) => e[0]), [4095, 4096]);
  assert.equal(xa.find(70, 4089), -1);
  assert.equal(xa.find(70, 4090), 4090);
  assert.equal(xa.find(4100, 300000), 262143);
  assert.equal(xa.find(4097, 262143, DIRTY), -1);
  assert.equal(xa.find(5, 3), -1, 'an empty range finds nothing');
  const seen: number[] = [];
  xa.forEach(0, XA_INDEX_MAX, (index) => {
    seen.push(index);
    return seen.length < 3;
  });
  assert.deepEqual(seen, [60, 61, 62], 'returning false stops the walk');
  xa.checkInvariants();
});

test('gather returns what forEach visits, in batches, stopping exactly at last (find_get_entries, '
  + 'xas_next_entry)', () => {
  const xa = new XArray();
  for (let i = 0; i < 200; i++) if (i < 8 || i >= 12) xa.store(i, 2 * (i + 1));
  xa.store(8, 999, 2); // an order-2 entry over 8..11, in sibling slots of the first leaf
  const idx = new Float64Array(300), ent = new Float64Array(300), ord = new Uint8Array(300);
  const take = (start: number, last: number, max = 300) => {
    const n = xa.gather(start, last, idx, ent, ord, max);
    return Array.from({ length: n }, (_, i) => [idx[i]!, ent[i]!, ord[i]!]);
  };
  assert.deepEqual(take(5, 20), listEntries(xa, 5, 20));
  assert.equal(take(5, 20).at(-1)![0], 20);
  assert.deepEqual(take(9, 13), [[9, 999, 2], [12, 26, 0], [13, 28, 0]]); // start inside the order-2 entry
  assert.deepEqual(take(0, 199), listEntries(xa, 0, 199)); // crosses from one leaf to the next ones
  assert.deepEqual(take(60, 70, 3), [[60, 122, 0], [61, 124, 0], [62, 126, 0]]);
  assert.deepEqual(take(63, 63), [[63, 128, 0]]);
  assert.deepEqual(take(250, 400), []);
});

test('forEach survives the callback erasing entries, as truncate does while walking the mapping (xas_for_each with '
  + 'xas_store)', () => {
  const xa = new XArray();
  for (let i = 0; i < 200; i++) xa.store(i * 3, 2);
  xa.store(1024, 4, 9);
  const visited: number[] = [];
  xa.forEach(0, XA_INDEX_MAX, (index) => {
    visited.push(index);
    xa.erase(index);
  });
  assert.equal(visited.length, 201);
  assert.equal(visited[200], 1024);
  assert.equal(xa.count, 0);
  assert.equal(xa.nodeCount, 0);
  xa.checkInvariants();
});

test('setMarkRange tags DIRTY entries TOWRITE within a range and a limit (tag_pages_for_writeback, '
  + 'mm/page-writeback.c)', () => {
  const xa = new XArray();
  for (let i = 0; i < 300; i++) xa.store(i, 2);
  xa.store(512, 4, 9);
  for (const i of [1, 64, 65, 128, 299, 700]) xa.setMark(i, DIRTY);
  assert.equal(xa.setMarkRange(2, 520, DIRTY, TOWRITE), 5, '64, 65, 128, 299 and the order-9 entry');
  assert.equal(xa.getMark(1, TOWRITE), false, 'outside the range');
  assert.equal(xa.getMark(64, TOWRITE), true);
  assert.equal(xa.getMark(1023, TOWRITE), true);
  assert.equal(xa.getMark(2, TOWRITE), false, 'only entries carrying the source mark');
  assert.deepEqual(listEntries(xa, 0, XA_INDEX_MAX, TOWRITE).map((e) => e[0]), [64, 65, 128, 299, 512]);
  xa.checkInvariants();
  const ya = new XArray();
  for (let i = 0; i < 100; i++) {
    ya.store(i, 2);
    ya.setMark(i, DIRTY);
  }
  assert.equal(ya.setMarkRange(10, 99, DIRTY, TOWRITE, 7), 7);
  assert.deepEqual(listEntries(ya, 0, 99, TOWRITE).map((e) => e[0]), [10, 11, 12, 13, 14, 15, 16]);
  ya.checkInvariants();
});

test('invalid arguments throw (XA_BUG_ON-style assertions)', () => {
  const xa = new XArray();
  assert.throws(() => xa.store(1, 0), /not a positive integer/);
  assert.throws(() => xa.store(1, 1.5), /not a positive integer/);
  assert.throws(() => xa.store(1, -3), /not a positive integer/);
  assert.throws(() => xa.store(-1, 2), /index -1/);
  assert.throws(() => xa.load(0.5), /index 0.5/);
  assert.throws(() => xa.load(XA_INDEX_MAX + 1), /index/);
  assert.throws(() => xa.store(1, 2, 40), /order 40/);
  assert.throws(() => xa.store(XA_INDEX_MAX, 2, 9), /beyond 2\^46/);
  assert.throws(() => xa.setMark(1, 3), /mark 3/);
  assert.throws(() => xa.find(0, -1), /last -1/);
  assert.equal(xa.count, 0);
  xa.checkInvariants();
});

// ---- Differential test against a plain reference model ----

interface RefEntry {
  first: number;
  order: number;
  entry: number;
  marks: number;
}

/** Reference: a map from an entry's first index to the entry; no tree. */
class RefArray {
  readonly byFirst = new Map<number, RefEntry>();

  cover(index: number): RefEntry | undefined {
    for (let k = 0; k <= 18; k++) {
      const r = this.byFirst.get(index - (index % 2 ** k));
      if (r !== undefined && r.order === k) return r;
    }
    return undefined;
  }

  /** Returns the previous entry, or 'throw' when the tree must refuse the store. */
  store(index: number, entry: number, order: number): number | 'throw' {
    const size = 2 ** order;
    const first = index - (index % size);
    if (first + size - 1 > XA_INDEX_MAX) return 'throw';
    const cov = this.cover(first);
    if (cov !== undefined && cov.order > order) return 'throw';
    const prev = this.cover(index)?.entry ?? 0;
    const marks = cov !== undefined && cov.order === order ? cov.marks : 0;
    for (const f of [...this.byFirst.keys()]) if (f >= first && f < first + size) this.byFirst.delete(f);
    this.byFirst.set(first, { first, order, entry, marks });
    return prev;
  }

  sorted(start: number, last: number, mark: number): Array<[number, number, number]> {
    const out: Array<[number, number, number]> = [];
    for (const r of this.byFirst.values()) {
      const end = r.first + 2 ** r.order - 1;
      if (end < start || r.first > last) continue;
      if (mark >= 0 && ((r.marks >>> mark) & 1) === 0) continue;
      out.push([Math.max(r.first, start), r.entry, r.order]);
    }
    return out.sort((x, y) => x[0] - y[0]);
  }
}

test('differential: thousands of seeded random operations match a reference model (xa_* semantics, test_xarray.c '
  + 'style)', () => {
  const gIdx = new Float64Array(128), gEnt = new Float64Array(128), gOrd = new Uint8Array(128);
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return Math.floor((seed / 4294967296) * n);
  };
  const orders = [0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 6, 7, 9, 9, 12];
  const bases = [0, 0, 0, 4096, 2 ** 20, 2 ** 33 - 4096, 2 ** 40, XA_INDEX_MAX - 8192];
  const pickIndex = (): number => {
    const base = bases[rand(bases.length)]!;
    return Math.min(base + rand(base === 0 ? 20000 : 8192), XA_INDEX_MAX);
  };
  for (let round = 0; round < 4; round++) {
    const xa = new XArray();
    const ref = new RefArray();
    for (let step = 0; step < 4000; step++) {
      const op = rand(100);
      const index = pickIndex();
      const mark = rand(3);
      if (op < 35) {
        const order = orders[rand(orders.length)]!;
        const entry = 1 + rand(1000000);
        const want = ref.store(index, entry, order);
        if (want === 'throw') {
          assert.throws(() => xa.store(index, entry, order));
        } else {
          assert.equal(xa.store(index, entry, order), want, `store(${index}, ${entry}, ${order})`);
        }
      } else if (op < 50) {
        const r = ref.cover(index);
        if (r !== undefined) ref.byFirst.delete(r.first);
        assert.equal(xa.erase(index), r?.entry ?? 0, `erase(${index})`);
      } else if (op < 62) {
        const r = ref.cover(index);
        if (r !== undefined) r.marks |= 1 << mark;
        xa.setMark(index, mark);
      } else if (op < 68) {
        const r = ref.cover(index);
        if (r !== undefined) r.marks &= ~(1 << mark);
        xa.clearMark(index, mark);
      } else if (op < 78) {
        const r = ref.cover(index);
        assert.equal(xa.load(index), r?.entry ?? 0, `load(${index})`);
        assert.equal(xa.entryOrder(index), r?.order ?? 0, `entryOrder(${index})`);
        assert.equal(xa.getMark(index, mark), r !== undefined && ((r.marks >>> mark) & 1) === 1, `getMark(${index})`);
      } else if (op < 88) {
        const last = rand(4) === 0 ? XA_INDEX_MAX : index + rand(5000);
        const m = rand(2) === 0 ? -1 : mark;
        const want = ref.sorted(index, last, m);
        assert.equal(xa.find(index, last, m < 0 ? undefined : m), want.length > 0 ? want[0]![0] : -1, `find(${index}, ${last}, ${m})`);
        assert.deepEqual(listEntries(xa, index, last, m < 0 ? undefined : m), want, `forEach(${index}, ${last}, ${m})`);
        // gather: the same entries, in batches of at most `max` (find_get_entries-style).
        const max = 1 + rand(70);
        const got = xa.gather(index, last, gIdx, gEnt, gOrd, max);
        const want2 = ref.sorted(index, last, -1).slice(0, max);
        assert.deepEqual(Array.from({ length: got }, (_, i) => [gIdx[i]!, gEnt[i]!, gOrd[i]!]), want2, `gather(${index}, ${last}, max ${max})`);
      } else if (op < 93) {
        const last = index + rand(20000);
        const to = rand(3);
        const limit = rand(3) === 0 ? 1 + rand(5) : Infinity;
        const hits = ref.sorted(index, last, mark).slice(0, limit === Infinity ? undefined : limit);
        for (const [i] of hits) ref.cover(i)!.marks |= 1 << to;
        assert.equal(xa.setMarkRange(index, last, mark, to, limit), hits.length, 'setMarkRange');
      } else if (op < 94 && rand(10) === 0) {
        xa.clear();
        ref.byFirst.clear();
      } else {
        for (let m = 0; m < 3; m++) {
          const any = [...ref.byFirst.values()].some((r) => ((r.marks >>> m) & 1) === 1);
          assert.equal(xa.marked(m), any, `marked(${m})`);
        }
      }
      if (step % 50 === 0) xa.checkInvariants();
      assert.equal(xa.count, ref.byFirst.size);
    }
    xa.checkInvariants();
    let indexes = 0;
    for (const r of ref.byFirst.values()) indexes += 2 ** r.order;
    assert.equal(xa.indexCount, indexes);
    assert.deepEqual(listEntries(xa, 0, XA_INDEX_MAX), ref.sorted(0, XA_INDEX_MAX, -1));
    // Erase everything: every node must be freed (xas_delete_node) and the array empty.
    for (const r of [...ref.byFirst.values()]) assert.equal(xa.erase(r.first + rand(2 ** r.order)), r.entry);
    assert.equal(xa.count, 0);
    assert.equal(xa.indexCount, 0);
    assert.equal(xa.nodeCount, 0);
    assert.equal(xa.marked(DIRTY) || xa.marked(WRITEBACK) || xa.marked(TOWRITE), false);
    xa.checkInvariants();
  }
});
