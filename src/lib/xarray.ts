/**
 * XArray: the radix tree behind every inode's page cache (`mapping->i_pages`).
 *
 * Models lib/xarray.c and include/linux/xarray.h, Linux v6.1. Page-cache pages, DAX entries and
 * the shadow entries of evicted pages all live here. The shape follows the kernel:
 * - nodes of 64 slots (XA_CHUNK_SHIFT = 6); a node at `shift` s splits its range into 64 slots
 *   of 2^s indexes each; leaves have shift 0;
 * - the root grows (xas_expand) when an index beyond its range is stored and shrinks
 *   (xas_shrink) when only slot 0 is left; a node is freed as soon as it holds nothing
 *   (xas_delete_node); a lone order-0 entry at index 0 lives in the head with no node at all;
 * - an entry of order k lives in a node whose shift is k rounded down to a multiple of 6, in
 *   2^(k mod 6) slots: the first (canonical) slot holds the entry, the others sibling markers;
 * - three marks per slot, kept only on canonical slots; a parent's mark bit for a slot is the
 *   OR of the child's bits, and the array-wide bit (xa_flags) is the OR of the root's, so a
 *   marked search skips every unmarked subtree.
 *
 * Entries are positive safe integers; 0 means empty. Odd entries are value entries
 * (xa_mk_value), even ones stand for pointers (pages). Indexes are integers 0 .. XA_INDEX_MAX.
 * Arithmetic stays exact above 2^32 (division by powers of two on doubles); below 2^32 the
 * lookup uses 32-bit shifts.
 *
 * One deliberate difference: storing an entry whose range lies inside a larger multi-order
 * entry throws; the kernel would need xas_split() (page cache) or an explicit erase first
 * (DAX, grab_mapping_entry), and the caller must say which it means.
 */

export const XA_MARK_0 = 0;
export const XA_MARK_1 = 1;
export const XA_MARK_2 = 2;
/** Bits of index consumed by one tree level. */
export const XA_CHUNK_SHIFT = 6;
/** Slots per node. */
export const XA_CHUNK_SIZE = 64;
/** Largest index accepted (inclusive). */
export const XA_INDEX_MAX = 2 ** 46;
/** Largest multi-order entry accepted (2^18 indexes, 1 GiB of 4 KiB pages). */
export const XA_ORDER_MAX = 18;

const XA_CHUNK_MASK = XA_CHUNK_SIZE - 1;
const XA_MARK_COUNT = 3;
/** Largest node shift: a root at shift 42 covers 2^48 indexes, enough for XA_INDEX_MAX. */
const XA_SHIFT_MAX = 42;
/** Slot value meaning "a child node lives in children[offset]". Siblings are -1 .. -64. */
const SLOT_CHILD = -1000;
const TWO_POW_32 = 4294967296;
/** Freed nodes kept for reuse, so steady-state store/erase does not allocate. */
const NODE_POOL_MAX = 4096;

const POW2 = new Float64Array(64);
for (let i = 0; i < 64; i++) POW2[i] = 2 ** i;

/** Encode a non-negative integer as a value entry; models xa_mk_value(), include/linux/xarray.h v6.1. */
export function xaMkValue(v: number): number {
  if (!Number.isSafeInteger(v) || v < 0 || v > (Number.MAX_SAFE_INTEGER - 1) / 2) {
    throw new Error(`xaMkValue: ${v} is not an integer in 0 .. 2^52-1`);
  }
  return v * 2 + 1;
}

/** Decode a value entry; models xa_to_value(), include/linux/xarray.h v6.1. */
export function xaToValue(entry: number): number {
  if (!xaIsValue(entry)) throw new Error(`xaToValue: ${entry} is not a value entry`);
  return (entry - 1) / 2;
}

/** True for a value entry (odd); models xa_is_value(), include/linux/xarray.h v6.1. */
export function xaIsValue(entry: number): boolean {
  return entry % 2 === 1;
}

/** Models struct xa_node, include/linux/xarray.h v6.1 (no RCU, no private_list). */
class XaNode {
  shift = 0;
  /** Slot of this node in its parent. */
  offset = 0;
  parent: XaNode | null = null;
  /** Occupied slots: entries, siblings and children. */
  count = 0;
  /** > 0 entry, 0 empty, SLOT_CHILD child node, -(c+1) sibling of the entry in slot c. */
  readonly slots = new Float64Array(XA_CHUNK_SIZE);
  /** Mark m, slot o: bit (o & 31) of word 2m + (o >>> 5). */
  readonly marks = new Uint32Array(2 * XA_MARK_COUNT);
  /** Child nodes; allocated the first time this node gets a child (leaves never do). */
  children: (XaNode | null)[] | null = null;
}

const nodePool: XaNode[] = [];

function allocNode(shift: number, parent: XaNode | null, offset: number): XaNode {
  if (shift > XA_SHIFT_MAX) throw new Error(`XArray: node shift ${shift} above ${XA_SHIFT_MAX}`);
  const node = nodePool.pop() ?? new XaNode();
  node.shift = shift;
  node.parent = parent;
  node.offset = offset;
  node.count = 0;
  return node;
}

function freeNode(node: XaNode): void {
  node.slots.fill(0);
  node.marks.fill(0);
  if (node.children !== null) node.children.fill(null);
  node.parent = null;
  node.count = 0;
  if (nodePool.length < NODE_POOL_MAX) nodePool.push(node);
}

/** Place `child` in `parent`'s slot `off` (which must be empty). */
function linkChild(parent: XaNode, off: number, child: XaNode): void {
  if (parent.children === null) parent.children = new Array<XaNode | null>(XA_CHUNK_SIZE).fill(null);
  parent.slots[off] = SLOT_CHILD;
  parent.children[off] = child;
  child.parent = parent;
  child.offset = off;
}

function childAt(node: XaNode, off: number): XaNode {
  const child = node.children === null ? null : node.children[off];
  if (child === null || child === undefined) {
    throw new Error(`XArray: slot ${off} of shift-${node.shift} node is marked as a child but holds none`);
  }
  return child;
}

function getBit(node: XaNode, off: number, mark: number): boolean {
  return ((node.marks[2 * mark + (off >>> 5)]! >>> (off & 31)) & 1) === 1;
}

function setBit(node: XaNode, off: number, mark: number): void {
  const w = 2 * mark + (off >>> 5);
  node.marks[w] = node.marks[w]! | (1 << (off & 31));
}

function clearBit(node: XaNode, off: number, mark: number): void {
  const w = 2 * mark + (off >>> 5);
  node.marks[w] = node.marks[w]! & ~(1 << (off & 31));
}

function anyBit(node: XaNode, mark: number): boolean {
  return (node.marks[2 * mark]! | node.marks[2 * mark + 1]!) !== 0;
}

function ctz32(w: number): number {
  return 31 - Math.clz32(w & -w);
}

/** First slot >= off whose bit for `mark` is set, 64 if none (models xas_find_chunk). */
function nextMarked(node: XaNode, mark: number, off: number): number {
  if (off < 32) {
    const w = node.marks[2 * mark]! & (-1 << off);
    if (w !== 0) return ctz32(w);
    off = 32;
  }
  if (off < 64) {
    const w = node.marks[2 * mark + 1]! & (-1 << (off - 32));
    if (w !== 0) return 32 + ctz32(w);
  }
  return XA_CHUNK_SIZE;
}

/** Order of the entry whose canonical slot is `c` (its sibling run gives 2^(order - shift) slots). */
function orderAt(node: XaNode, c: number): number {
  const sib = -(c + 1);
  let n = 1;
  while (c + n < XA_CHUNK_SIZE && node.slots[c + n] === sib) n++;
  if ((n & (n - 1)) !== 0 || c % n !== 0) {
    throw new Error(`XArray: entry in slot ${c} of shift-${node.shift} node has ${n} slots ` +
      '(misaligned multi-order entry)');
  }
  return node.shift + 31 - Math.clz32(n);
}

/** Offset of `index` in a node at `shift`, exact for every index up to 2^53. */
function offsetAt(index: number, shift: number): number {
  if (index < TWO_POW_32) return shift < 32 ? (index >>> shift) & XA_CHUNK_MASK : 0;
  return Math.floor(index / POW2[shift]!) % XA_CHUNK_SIZE;
}

function assertIndex(op: string, index: number): void {
  if (!(index >= 0 && index <= XA_INDEX_MAX && Math.floor(index) === index)) {
    throw new Error(`XArray.${op}: index ${index} is not an integer in 0 .. 2^46`);
  }
}

function assertMark(op: string, mark: number): void {
  if (mark !== 0 && mark !== 1 && mark !== 2) throw new Error(`XArray.${op}: mark ${mark} is not 0, 1 or 2`);
}

/** Clamp the inclusive upper bound of a range walk; it may exceed XA_INDEX_MAX. */
function clampLast(op: string, last: number): number {
  if (!(last >= 0 && Math.floor(last) === last)) {
    throw new Error(`XArray.${op}: last ${last} is not a non-negative integer`);
  }
  return last > XA_INDEX_MAX ? XA_INDEX_MAX : last;
}

/** A radix tree of entries indexed by page offset; models struct xarray, lib/xarray.c v6.1. */
export class XArray {
  private root: XaNode | null = null;
  /** Largest index the root node covers; -1 without a root node. */
  private rootMaxIndex = -1;
  /** The entry at index 0 when there is no node (xa_head holding an entry). */
  private head = 0;
  /** Bit m: some entry carries mark m (XA_FLAGS_MARK in xa_flags); also the head entry's marks. */
  private rootMarks = 0;
  private entries = 0;
  private indexes = 0;
  private nodes = 0;
  /** Bumped on every change of tree shape, so a walk knows when its cached node may be stale. */
  private shapeSeq = 0;

  // Result of locate(): node and canonical slot of the entry found (node null: the head).
  private locNode: XaNode | null = null;
  private locOff = 0;

  // Result of walk()/findFrom(): where the entry found lives.
  private wNode: XaNode | null = null;
  private wBase = 0;
  private wOff = 0;
  private wEntry = 0;
  private wOrder = 0;
  private wFirst = 0;

  /** Number of entries; a multi-order entry counts once. */
  get count(): number {
    return this.entries;
  }

  /** Number of indexes covered (2^k per order-k entry), like mapping->nrpages in v6.1. */
  get indexCount(): number {
    return this.indexes;
  }

  /** Radix-tree nodes in use (each is one 576-byte radix_tree_node slab object in Linux). */
  get nodeCount(): number {
    return this.nodes;
  }

  /**
   * Entry covering `index`, 0 if none. Models xa_load(), lib/xarray.c v6.1 (xas_load and
   * xas_descend, following a sibling to its canonical slot). Allocates nothing.
   */
  load(index: number): number {
    let node: XaNode | null = this.root;
    if ((index >>> 0) === index) {
      // An integer below 2^32: 32-bit shifts are exact (a shift of 32 or more selects slot 0).
      if (node === null) return index === 0 ? this.head : 0;
      if (index > this.rootMaxIndex) return 0;
      for (;;) {
        const shift: number = node.shift;
        const off: number = shift < 32 ? (index >>> shift) & XA_CHUNK_MASK : 0;
        const v: number = node.slots[off]!;
        if (v >= 0) return v;
        if (v !== SLOT_CHILD) return node.slots[-v - 1]!;
        node = node.children![off]!;
      }
    }
    return this.loadWide(index);
  }

  /** load() for indexes of 2^32 and above (or invalid ones): exact division instead of shifts. */
  private loadWide(index: number): number {
    assertIndex('load', index);
    let node = this.root;
    if (node === null || index > this.rootMaxIndex) return 0;
    for (;;) {
      const off: number = Math.floor(index / POW2[node.shift]!) % XA_CHUNK_SIZE;
      const v = node.slots[off]!;
      if (v >= 0) return v;
      if (v !== SLOT_CHILD) return node.slots[-v - 1]!;
      node = node.children![off]!;
    }
  }

  /**
   * Store `entry` over the 2^order-aligned range containing `index`; returns what covered
   * `index` before (0 if nothing). Entries inside the range are replaced (their subtrees
   * freed). Marks survive only when an entry of the same order at the same range is replaced.
   * Models xas_store() with XA_STATE_ORDER (xas_create, xas_expand), lib/xarray.c v6.1.
   * Throws when the range lies inside a larger entry (the kernel needs xas_split for that).
   */
  store(index: number, entry: number, order = 0): number {
    assertIndex('store', index);
    if (!Number.isSafeInteger(entry) || entry <= 0) {
      throw new Error(`XArray.store: entry ${entry} is not a positive integer (erase() removes entries)`);
    }
    if (!Number.isInteger(order) || order < 0 || order > XA_ORDER_MAX) {
      throw new Error(`XArray.store: order ${order} is not an integer in 0 .. ${XA_ORDER_MAX}`);
    }
    const sizeIndexes = POW2[order]!;
    const first = index - (index % sizeIndexes);
    const lastIndex = first + sizeIndexes - 1;
    if (lastIndex > XA_INDEX_MAX) throw new Error(`XArray.store: order-${order} range at ${first} ends beyond 2^46`);

    const cur = this.locate(first);
    if (cur !== 0) {
      const node = this.locNode;
      const curOrder = node === null ? 0 : orderAt(node, this.locOff);
      if (curOrder > order) {
        throw new Error(
          `XArray.store: order-${order} range at ${first} lies inside an order-${curOrder} entry; erase it first`,
        );
      }
      if (curOrder === order) {
        // The same range holds an entry of the same order: xas_store replaces the canonical slot
        // in place and the marks stay. No node changes shape, so walks in progress stay valid.
        if (node === null) this.head = entry;
        else node.slots[this.locOff] = entry;
        return cur;
      }
    }
    const prev = this.load(index);

    if (order === 0 && first === 0 && this.root === null) {
      if (this.head === 0) {
        this.entries++;
        this.indexes++;
      }
      this.head = entry;
      this.rootMarks = 0;
      return prev;
    }

    const levelShift = order - (order % XA_CHUNK_SHIFT);
    this.expand(lastIndex, levelShift);
    let node = this.root!;
    let base = 0;
    while (node.shift > levelShift) {
      const unit = POW2[node.shift]!;
      const off = Math.floor((first - base) / unit);
      const v = node.slots[off]!;
      base += off * unit;
      if (v === SLOT_CHILD) {
        node = childAt(node, off);
        continue;
      }
      if (v !== 0) {
        throw new Error(`XArray.store: slot ${off} at shift ${node.shift} holds an entry above index ${first}`);
      }
      const child = allocNode(node.shift - XA_CHUNK_SHIFT, node, off);
      linkChild(node, off, child);
      node.count++;
      this.nodes++;
      node = child;
    }
    const off0 = (first - base) / POW2[levelShift]!;
    this.replaceSlots(node, off0, POW2[order - levelShift]!, entry, order);
    this.shapeSeq++;
    return prev;
  }

  /**
   * Remove the entry covering `index` (all of a multi-order entry); returns it, 0 if none.
   * Empty nodes are freed and the tree shrinks. Models xa_erase() (xas_store of NULL,
   * update_node, xas_delete_node, xas_shrink), lib/xarray.c v6.1.
   */
  erase(index: number): number {
    assertIndex('erase', index);
    const cur = this.locate(index);
    if (cur === 0) return 0;
    const node = this.locNode;
    this.shapeSeq++;
    if (node === null) {
      this.head = 0;
      this.rootMarks = 0;
      this.entries--;
      this.indexes--;
      return cur;
    }
    const c = this.locOff;
    const order = orderAt(node, c);
    const n = POW2[order - node.shift]!;
    for (let o = c; o < c + n; o++) node.slots[o] = 0;
    node.count -= n;
    this.entries--;
    this.indexes -= POW2[order]!;
    for (let m = 0; m < XA_MARK_COUNT; m++) {
      if (getBit(node, c, m)) {
        clearBit(node, c, m);
        this.propagate(node, m);
      }
    }
    this.deleteEmpty(node);
    this.shrink();
    return cur;
  }

  /** Order of the entry covering `index`, 0 if none; models xa_get_order(), lib/xarray.c v6.1. */
  entryOrder(index: number): number {
    assertIndex('entryOrder', index);
    if (this.locate(index) === 0 || this.locNode === null) return 0;
    return orderAt(this.locNode, this.locOff);
  }

  /** Whether the entry covering `index` carries `mark`; models xa_get_mark(), lib/xarray.c v6.1. */
  getMark(index: number, mark: number): boolean {
    assertIndex('getMark', index);
    assertMark('getMark', mark);
    if (this.locate(index) === 0) return false;
    if (this.locNode === null) return ((this.rootMarks >>> mark) & 1) === 1;
    return getBit(this.locNode, this.locOff, mark);
  }

  /**
   * Set `mark` on the entry covering `index` and on every ancestor; no-op on an empty index.
   * Models xa_set_mark() (xas_set_mark), lib/xarray.c v6.1.
   */
  setMark(index: number, mark: number): void {
    assertIndex('setMark', index);
    assertMark('setMark', mark);
    if (this.locate(index) === 0) return;
    const node = this.locNode;
    if (node === null) {
      this.rootMarks |= 1 << mark;
    } else if (!getBit(node, this.locOff, mark)) {
      setBit(node, this.locOff, mark);
      this.propagate(node, mark);
    }
  }

  /**
   * Clear `mark` on the entry covering `index`, and on each ancestor left with no marked slot.
   * Models xa_clear_mark() (xas_clear_mark), lib/xarray.c v6.1.
   */
  clearMark(index: number, mark: number): void {
    assertIndex('clearMark', index);
    assertMark('clearMark', mark);
    if (this.locate(index) === 0) return;
    const node = this.locNode;
    if (node === null) {
      this.rootMarks &= ~(1 << mark);
    } else if (getBit(node, this.locOff, mark)) {
      clearBit(node, this.locOff, mark);
      this.propagate(node, mark);
    }
  }

  /** Whether any entry carries `mark`; models xa_marked(), include/linux/xarray.h v6.1. */
  marked(mark: number): boolean {
    assertMark('marked', mark);
    return ((this.rootMarks >>> mark) & 1) === 1;
  }

  /**
   * First index in [start, last] holding an entry (carrying `mark` if given), -1 if none.
   * For a multi-order entry: its first index, or `start` when start falls inside it.
   * Models xa_find() (xas_find, xas_find_marked), lib/xarray.c v6.1.
   */
  find(start: number, last: number, mark?: number): number {
    assertIndex('find', start);
    last = clampLast('find', last);
    if (mark !== undefined) assertMark('find', mark);
    return this.findFrom(start, last, mark ?? -1);
  }

  /**
   * Call fn(index, entry, order) for each entry in [start, last] in ascending order (only those
   * carrying `mark` if given); a multi-order entry is visited once, at its first index or at
   * `start` when start falls inside it. fn returning false stops the walk. fn may store, erase
   * and change marks; the walk then resumes after the visited entry.
   * Models xa_for_each_range() / xa_for_each_marked(), include/linux/xarray.h v6.1.
   */
  forEach(
    start: number,
    last: number,
    fn: (index: number, entry: number, order: number) => boolean | void,
    mark?: number,
  ): void {
    assertIndex('forEach', start);
    last = clampLast('forEach', last);
    if (mark !== undefined) assertMark('forEach', mark);
    const m = mark ?? -1;
    let index = this.findFrom(start, last, m);
    while (index >= 0) {
      const node = this.wNode;
      const base = this.wBase;
      const next = this.wFirst + POW2[this.wOrder]!;
      const seq = this.shapeSeq;
      if (fn(index, this.wEntry, this.wOrder) === false || next > last) return;
      index = seq === this.shapeSeq && node !== null ? this.walk(node, base, next, last, m)
        : this.findFrom(next, last, m);
    }
  }

  /**
   * Collect the entries of [start, last] in ascending order, as forEach() would visit them (a
   * multi-order entry once, at its first index or at `start`), into idx/ent/ord: at most `max`
   * of them; returns how many. Allocates and calls nothing per entry: the batch lookup of hot
   * paths, like find_get_entries() and the xas_next_entry() fast step within one node that
   * filemap_map_pages relies on (mm/filemap.c, include/linux/xarray.h v6.1).
   */
  gather(start: number, last: number, idx: Float64Array, ent: Float64Array, ord: Uint8Array, max: number): number {
    assertIndex('gather', start);
    last = clampLast('gather', last);
    let n = 0;
    let index = this.findFrom(start, last, -1);
    while (index >= 0 && n < max) {
      const node = this.wNode;
      let order = this.wOrder;
      idx[n] = index;
      ent[n] = this.wEntry;
      ord[n] = order;
      n++;
      let next = this.wFirst + POW2[order]!;
      if (next > last || node === null) break;
      if (node.shift === 0) {
        // Step along the leaf's slots while the next entry is in the same node.
        const base = this.wBase;
        let off = next - base;
        while (off < XA_CHUNK_SIZE && n < max) {
          const v = node.slots[off]!;
          if (v <= 0) { off++; continue; }
          if (base + off > last) return n;
          order = orderAt(node, off);
          idx[n] = base + off;
          ent[n] = v;
          ord[n] = order;
          n++;
          off += 1 << order;
        }
        next = base + off;
        if (next > last || n >= max) break;
      }
      index = this.walk(node, this.wBase, next, last, -1);
    }
    return n;
  }

  /**
   * For each entry in [start, last] carrying `fromMark`, set `toMark`; stops after `limit`
   * entries. Returns how many entries were visited. Models tag_pages_for_writeback(),
   * mm/page-writeback.c v6.1 (DIRTY -> TOWRITE before a data-integrity writeback).
   */
  setMarkRange(start: number, last: number, fromMark: number, toMark: number, limit = Infinity): number {
    assertIndex('setMarkRange', start);
    last = clampLast('setMarkRange', last);
    assertMark('setMarkRange', fromMark);
    assertMark('setMarkRange', toMark);
    if (!(limit >= 0)) throw new Error(`XArray.setMarkRange: limit ${limit} is negative`);
    let tagged = 0;
    let index = this.findFrom(start, last, fromMark);
    while (index >= 0 && tagged < limit) {
      const node = this.wNode;
      tagged++;
      if (node === null) {
        this.rootMarks |= 1 << toMark;
        return tagged;
      }
      if (!getBit(node, this.wOff, toMark)) {
        setBit(node, this.wOff, toMark);
        this.propagate(node, toMark);
      }
      const next = this.wFirst + POW2[this.wOrder]!;
      if (next > last) break;
      index = this.walk(node, this.wBase, next, last, fromMark);
    }
    return tagged;
  }

  /** Drop every entry and node; models xa_destroy(), lib/xarray.c v6.1. */
  clear(): void {
    this.root = null;
    this.rootMaxIndex = -1;
    this.head = 0;
    this.rootMarks = 0;
    this.entries = 0;
    this.indexes = 0;
    this.nodes = 0;
    this.locNode = null;
    this.wNode = null;
    this.shapeSeq++;
  }

  /**
   * Check the tree's structural invariants and throw on the first violation: parent mark bits
   * equal the OR of the child's, marks only on entries and children, siblings aligned and
   * following their canonical slot, node counts exact, no empty node, no shrinkable root,
   * totals (count, indexCount, nodeCount, array-wide marks) consistent. For tests.
   */
  checkInvariants(): void {
    const fail = (msg: string): never => {
      throw new Error(`XArray invariant: ${msg}`);
    };
    const root = this.root;
    if (root === null) {
      if (this.rootMaxIndex !== -1) fail(`rootMaxIndex ${this.rootMaxIndex} without a root node`);
      if (this.nodes !== 0) fail(`nodeCount ${this.nodes} without a root node`);
      const n = this.head === 0 ? 0 : 1;
      if (this.entries !== n || this.indexes !== n) {
        fail(`count ${this.entries}/${this.indexes} with head ${this.head}`);
      }
      if (this.head === 0 && this.rootMarks !== 0) fail(`marks ${this.rootMarks} on an empty array`);
      return;
    }
    if (this.head !== 0) fail('head entry alongside a root node');
    if (root.parent !== null) fail('root has a parent');
    if (this.rootMaxIndex !== POW2[root.shift + XA_CHUNK_SHIFT]! - 1) {
      fail(`rootMaxIndex ${this.rootMaxIndex} for root shift ${root.shift}`);
    }
    if (root.count === 1 && root.slots[0] === SLOT_CHILD) fail('root holds only a child in slot 0 (not shrunk)');
    if (root.count === 1 && root.shift === 0 && root.slots[0]! > 0) {
      fail('leaf root holds only index 0 (not shrunk to head)');
    }
    const totals = { entries: 0, indexes: 0, nodes: 0 };
    this.checkNode(root, 0, totals, fail);
    if (totals.entries !== this.entries) fail(`count ${this.entries}, tree holds ${totals.entries}`);
    if (totals.indexes !== this.indexes) fail(`indexCount ${this.indexes}, tree covers ${totals.indexes}`);
    if (totals.nodes !== this.nodes) fail(`nodeCount ${this.nodes}, tree has ${totals.nodes}`);
    for (let m = 0; m < XA_MARK_COUNT; m++) {
      if (anyBit(root, m) !== (((this.rootMarks >>> m) & 1) === 1)) fail(`array-wide mark ${m} disagrees with root`);
    }
  }

  private checkNode(
    node: XaNode,
    base: number,
    totals: { entries: number; indexes: number; nodes: number },
    fail: (msg: string) => never,
  ): void {
    const where = `shift-${node.shift} node at ${base}`;
    totals.nodes++;
    if (node.shift % XA_CHUNK_SHIFT !== 0 || node.shift > XA_SHIFT_MAX) fail(`${where}: bad shift`);
    let used = 0;
    let canonical = -1;
    for (let o = 0; o < XA_CHUNK_SIZE; o++) {
      const v = node.slots[o]!;
      const child = node.children === null ? null : node.children[o];
      if (v !== SLOT_CHILD && child !== null && child !== undefined) fail(`${where}: stale child in slot ${o}`);
      if (v === 0) {
        for (let m = 0; m < XA_MARK_COUNT; m++) if (getBit(node, o, m)) fail(`${where}: mark ${m} on empty slot ${o}`);
        canonical = -1;
        continue;
      }
      used++;
      if (v === SLOT_CHILD) {
        canonical = -1;
        if (node.shift === 0) fail(`${where}: leaf has a child in slot ${o}`);
        const c = childAt(node, o);
        if (c.parent !== node || c.offset !== o) fail(`${where}: child in slot ${o} has wrong parent/offset`);
        if (c.shift !== node.shift - XA_CHUNK_SHIFT) fail(`${where}: child in slot ${o} has shift ${c.shift}`);
        if (c.count === 0) fail(`${where}: empty child in slot ${o}`);
        for (let m = 0; m < XA_MARK_COUNT; m++) {
          if (getBit(node, o, m) !== anyBit(c, m)) fail(`${where}: mark ${m} of slot ${o} is not the OR of its child`);
        }
        this.checkNode(c, base + o * POW2[node.shift]!, totals, fail);
      } else if (v > 0) {
        if (!Number.isSafeInteger(v)) fail(`${where}: slot ${o} holds ${v}`);
        canonical = o;
        const order = orderAt(node, o);
        totals.entries++;
        totals.indexes += POW2[order]!;
      } else {
        if (v !== -(canonical + 1) || canonical < 0) fail(`${where}: sibling in slot ${o} does not follow its entry`);
        for (let m = 0; m < XA_MARK_COUNT; m++) {
          if (getBit(node, o, m)) fail(`${where}: mark ${m} on sibling slot ${o}`);
        }
      }
    }
    if (used !== node.count) fail(`${where}: count ${node.count}, ${used} slots used`);
    if (used === 0) fail(`${where}: empty node`);
  }

  /**
   * Find the entry covering `index`; returns it (0 if none) and leaves its node and canonical
   * slot in locNode/locOff (node null: the head entry). Models xas_load + xas_descend.
   */
  private locate(index: number): number {
    let node = this.root;
    this.locNode = null;
    if (node === null) return index === 0 ? this.head : 0;
    if (index > this.rootMaxIndex) return 0;
    for (;;) {
      const off = offsetAt(index, node.shift);
      const v = node.slots[off]!;
      if (v === SLOT_CHILD) {
        node = childAt(node, off);
        continue;
      }
      if (v === 0) return 0;
      this.locNode = node;
      this.locOff = v > 0 ? off : -v - 1;
      return node.slots[this.locOff]!;
    }
  }

  /**
   * Make the root cover [0, lastIndex] at a shift of at least minShift, adding levels above
   * the old root (and moving a head entry into a leaf first). Models xas_expand(), v6.1.
   */
  private expand(lastIndex: number, minShift: number): void {
    let root = this.root;
    if (root === null) {
      if (this.head === 0) {
        let shift = minShift;
        while (POW2[shift + XA_CHUNK_SHIFT]! - 1 < lastIndex) shift += XA_CHUNK_SHIFT;
        this.setRoot(allocNode(shift, null, 0));
        this.nodes++;
        return;
      }
      root = allocNode(0, null, 0);
      root.slots[0] = this.head;
      root.count = 1;
      for (let m = 0; m < XA_MARK_COUNT; m++) if (((this.rootMarks >>> m) & 1) === 1) setBit(root, 0, m);
      this.head = 0;
      this.nodes++;
      this.setRoot(root);
    }
    while (root.shift < minShift || this.rootMaxIndex < lastIndex) {
      const top = allocNode(root.shift + XA_CHUNK_SHIFT, null, 0);
      linkChild(top, 0, root);
      top.count = 1;
      for (let m = 0; m < XA_MARK_COUNT; m++) if (anyBit(root, m)) setBit(top, 0, m);
      this.nodes++;
      this.setRoot(top);
      root = top;
    }
  }

  private setRoot(node: XaNode | null): void {
    this.root = node;
    this.rootMaxIndex = node === null ? -1 : POW2[node.shift + XA_CHUNK_SHIFT]! - 1;
  }

  /**
   * Put an order-`order` entry in slots off0 .. off0+n-1 of `node`, freeing whatever they held;
   * no slot keeps a mark (a new entry, or one of another order, starts unmarked). Models the slot
   * loop of xas_store().
   */
  private replaceSlots(node: XaNode, off0: number, n: number, entry: number, order: number): void {
    let used = 0;
    for (let o = off0; o < off0 + n; o++) {
      const v = node.slots[o]!;
      if (v === 0) continue;
      used++;
      if (v === SLOT_CHILD) {
        this.freeSubtree(childAt(node, o));
        node.children![o] = null;
      } else if (v > 0) {
        this.entries--;
        this.indexes -= POW2[orderAt(node, o)]!;
      }
    }
    node.slots[off0] = entry;
    for (let o = off0 + 1; o < off0 + n; o++) node.slots[o] = -(off0 + 1);
    node.count += n - used;
    this.entries++;
    this.indexes += POW2[order]!;
    for (let m = 0; m < XA_MARK_COUNT; m++) {
      const before = anyBit(node, m);
      for (let o = off0; o < off0 + n; o++) clearBit(node, o, m);
      // Ancestors only record whether this node has any marked slot.
      if (anyBit(node, m) !== before) this.propagate(node, m);
    }
  }

  /** Free `top` and everything below it, taking its entries out of the totals. */
  private freeSubtree(top: XaNode): void {
    for (let o = 0; o < XA_CHUNK_SIZE; o++) {
      const v = top.slots[o]!;
      if (v === SLOT_CHILD) {
        this.freeSubtree(childAt(top, o));
      } else if (v > 0) {
        this.entries--;
        this.indexes -= POW2[orderAt(top, o)]!;
      }
    }
    freeNode(top);
    this.nodes--;
  }

  /**
   * After `node`'s bits for `mark` changed, make each ancestor's bit the OR of its child's
   * bits, stopping where nothing changes. Models the upward loops of xas_set_mark/xas_clear_mark.
   */
  private propagate(node: XaNode, mark: number): void {
    let has = anyBit(node, mark);
    let child = node;
    let parent = node.parent;
    while (parent !== null) {
      if (getBit(parent, child.offset, mark) === has) return;
      if (has) {
        setBit(parent, child.offset, mark);
      } else {
        clearBit(parent, child.offset, mark);
        has = anyBit(parent, mark);
      }
      child = parent;
      parent = parent.parent;
    }
    if (has) this.rootMarks |= 1 << mark;
    else this.rootMarks &= ~(1 << mark);
  }

  /** Free `node` and each ancestor left empty; models xas_delete_node(), lib/xarray.c v6.1. */
  private deleteEmpty(node: XaNode): void {
    while (node.count === 0) {
      for (let m = 0; m < XA_MARK_COUNT; m++) {
        if (anyBit(node, m)) throw new Error(`XArray: empty shift-${node.shift} node still carries mark ${m}`);
      }
      const parent = node.parent;
      if (parent === null) {
        freeNode(node);
        this.nodes--;
        this.setRoot(null);
        return;
      }
      const off = node.offset;
      parent.slots[off] = 0;
      parent.children![off] = null;
      parent.count--;
      freeNode(node);
      this.nodes--;
      node = parent;
    }
  }

  /**
   * Drop root levels that only hold slot 0, and turn a leaf root holding only index 0 back
   * into a head entry. Models xas_shrink(), lib/xarray.c v6.1.
   */
  private shrink(): void {
    for (;;) {
      const root = this.root;
      if (root === null || root.count !== 1) return;
      const v = root.slots[0]!;
      if (v === SLOT_CHILD) {
        const child = childAt(root, 0);
        child.parent = null;
        child.offset = 0;
        freeNode(root);
        this.nodes--;
        this.setRoot(child);
      } else if (v > 0 && root.shift === 0) {
        this.head = v;
        freeNode(root);
        this.nodes--;
        this.setRoot(null);
        return;
      } else {
        return;
      }
    }
  }

  /** findFrom: walk from the root (or the head entry); results as for walk(). */
  private findFrom(start: number, last: number, mark: number): number {
    if (start > last) return -1;
    const root = this.root;
    if (root === null) {
      if (this.head === 0 || start !== 0) return -1;
      if (mark >= 0 && ((this.rootMarks >>> mark) & 1) === 0) return -1;
      this.wNode = null;
      this.wBase = 0;
      this.wOff = 0;
      this.wEntry = this.head;
      this.wOrder = 0;
      this.wFirst = 0;
      return 0;
    }
    if (start > this.rootMaxIndex) return -1;
    if (mark >= 0 && ((this.rootMarks >>> mark) & 1) === 0) return -1;
    return this.walk(root, 0, start, last, mark);
  }

  /**
   * From `index` inside (or just past) `node`, whose first index is `base`, find the next
   * entry at or after `index` and at most `last` (with `mark` when mark >= 0): descend into
   * children, climb out of exhausted nodes, skip unmarked subtrees by their mark bits.
   * Returns the index found (or -1) and leaves the entry's place in the w* fields.
   * Models xas_find() and xas_find_marked(), lib/xarray.c v6.1.
   */
  private walk(node: XaNode, base: number, index: number, last: number, mark: number): number {
    for (;;) {
      const unit = POW2[node.shift]!;
      let off = Math.floor((index - base) / unit);
      if (off < XA_CHUNK_SIZE) {
        const v0 = node.slots[off]!;
        if (v0 < 0 && v0 !== SLOT_CHILD) {
          // index is inside a multi-order entry whose canonical slot is earlier.
          const c = -v0 - 1;
          if (mark < 0 || getBit(node, c, mark)) return this.found(node, base, c, index);
          off++;
        }
        if (mark < 0) {
          for (; off < XA_CHUNK_SIZE; off++) {
            const v = node.slots[off]!;
            if (v > 0 || v === SLOT_CHILD) break;
          }
        } else {
          off = nextMarked(node, mark, off);
        }
        if (off < XA_CHUNK_SIZE) {
          const slotStart = base + off * unit;
          if (slotStart > last) return -1;
          if (slotStart > index) index = slotStart;
          if (node.slots[off] === SLOT_CHILD) {
            node = childAt(node, off);
            base = slotStart;
            continue;
          }
          return this.found(node, base, off, index);
        }
      }
      const parent = node.parent;
      if (parent === null) return -1;
      index = base + XA_CHUNK_SIZE * unit;
      if (index > last) return -1;
      base -= node.offset * POW2[parent.shift]!;
      node = parent;
    }
  }

  private found(node: XaNode, base: number, c: number, index: number): number {
    this.wNode = node;
    this.wBase = base;
    this.wOff = c;
    this.wEntry = node.slots[c]!;
    this.wOrder = orderAt(node, c);
    this.wFirst = base + c * POW2[node.shift]!;
    return index;
  }
}
