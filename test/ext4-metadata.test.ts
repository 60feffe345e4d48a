/**
 * ext4-like metadata structures: extent map (fs/ext4/extents.c), block allocator outcome
 * (fs/ext4/mballoc.c) and JBD2 transaction lifecycle (fs/jbd2), all as of v6.1.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ExtentMap, EXT_INIT_MAX_LEN, EXT_UNWRITTEN_MAX_LEN } from '../src/fs/ext4/extents.ts';
import { BlockAllocator } from '../src/fs/ext4/balloc.ts';
import { Journal, DEFAULT_JOURNAL_COSTS, type JournalChange } from '../src/fs/ext4/journal.ts';
import { InvariantError } from '../src/lib/assert.ts';

function shape(m: ExtentMap): string[] {
  m.checkInvariants();
  return m.extents().map((e) => `${e.kind[0]}${e.lblk}+${e.lenBlocks}@${e.pblk}`);
}

describe('ExtentMap (fs/ext4/extents.c, v6.1)', () => {
  it('lookup reports hole / written / unwritten and the run length, like ext4_map_blocks without CREATE', () => {
    const m = new ExtentMap();
    m.insert(10, 100, 10, 'written');
    m.insert(30, 500, 5, 'unwritten');
    assert.deepEqual(m.lookup(0), { kind: 'hole', lblk: 0, pblk: -1, lenBlocks: 10 });
    assert.deepEqual(m.lookup(15), { kind: 'written', lblk: 15, pblk: 105, lenBlocks: 5 });
    assert.deepEqual(m.lookup(20), { kind: 'hole', lblk: 20, pblk: -1, lenBlocks: 10 });
    assert.deepEqual(m.lookup(32), { kind: 'unwritten', lblk: 32, pblk: 502, lenBlocks: 3 });
    assert.deepEqual(m.lookup(35), { kind: 'hole', lblk: 35, pblk: -1, lenBlocks: Infinity });
    // st_blocks counts unwritten (preallocated) blocks too.
    assert.equal(m.blocksMapped, 15);
    assert.equal(m.extentCount, 2);
  });

  it('insert merges logically and physically contiguous extents of one kind (ext4_can_extents_be_merged, '
    + 'ext4_ext_try_to_merge)', () => {
    const m = new ExtentMap();
    m.insert(0, 100, 10, 'written');
    m.insert(10, 110, 10, 'written'); // appends
    assert.deepEqual(shape(m), ['w0+20@100']);
    m.insert(20, 300, 5, 'written'); // logically contiguous, physically not
    m.insert(25, 305, 5, 'unwritten'); // contiguous both ways, other kind
    assert.deepEqual(shape(m), ['w0+20@100', 'w20+5@300', 'u25+5@305']);
    // Filling the gap between two extents merges all three.
    const g = new ExtentMap();
    g.insert(0, 100, 10, 'written');
    g.insert(20, 120, 10, 'written');
    g.insert(10, 110, 10, 'written');
    assert.deepEqual(shape(g), ['w0+30@100']);
    // Prepending to the right neighbour.
    const p = new ExtentMap();
    p.insert(10, 210, 5, 'unwritten');
    p.insert(5, 205, 5, 'unwritten');
    assert.deepEqual(shape(p), ['u5+10@205']);
  });

  it('insert into a mapped range is an invariant violation (ext4 maps only holes)', () => {
    const m = new ExtentMap();
    m.insert(10, 100, 10, 'written');
    assert.throws(() => m.insert(15, 900, 1, 'written'), InvariantError);
    assert.throws(() => m.insert(5, 900, 6, 'written'), InvariantError);
    m.insert(5, 900, 5, 'written'); // exactly the hole before it is fine
    assert.equal(m.extentCount, 2);
  });

  it('extent length is capped at EXT_INIT_MAX_LEN (32768) written and EXT_UNWRITTEN_MAX_LEN (32767) unwritten', () => {
    const w = new ExtentMap();
    w.insert(0, 1000, 40000, 'written');
    assert.deepEqual(shape(w), [`w0+${EXT_INIT_MAX_LEN}@1000`, `w32768+7232@33768`]);
    const u = new ExtentMap();
    u.insert(0, 1000, 40000, 'unwritten');
    assert.deepEqual(shape(u), [`u0+${EXT_UNWRITTEN_MAX_LEN}@1000`, `u32767+7233@33767`]);
    // A merge that would exceed the limit is refused, not partially done.
    const r = new ExtentMap();
    r.insert(0, 0, 32767, 'unwritten');
    r.insert(32767, 32767, 1, 'unwritten');
    assert.equal(r.extentCount, 2);
    const r2 = new ExtentMap();
    r2.insert(0, 0, 32767, 'written');
    r2.insert(32767, 32767, 1, 'written');
    assert.deepEqual(shape(r2), ['w0+32768@0']);
  });

  it('convertToWritten splits unwritten extents at the range edges and merges written pieces '
    + '(ext4_convert_unwritten_extents)', () => {
    const m = new ExtentMap();
    m.insert(0, 1000, 100, 'unwritten');
    m.convertToWritten(40, 20);
    assert.deepEqual(shape(m), ['u0+40@1000', 'w40+20@1040', 'u60+40@1060']);
    m.convertToWritten(0, 40); // merges with the written middle
    assert.deepEqual(shape(m), ['w0+60@1000', 'u60+40@1060']);
    m.convertToWritten(60, 40);
    assert.deepEqual(shape(m), ['w0+100@1000']);
    assert.equal(m.blocksMapped, 100);
    // Written neighbour on the left, physically contiguous: the converted part joins it.
    const n = new ExtentMap();
    n.insert(0, 500, 10, 'written');
    n.insert(10, 510, 10, 'unwritten');
    n.convertToWritten(10, 5);
    assert.deepEqual(shape(n), ['w0+15@500', 'u15+5@515']);
  });

  it('convertToWritten leaves holes and written blocks alone and spans several unwritten extents', () => {
    const m = new ExtentMap();
    m.insert(0, 100, 10, 'unwritten');
    m.insert(20, 300, 10, 'written');
    m.insert(40, 700, 10, 'unwritten');
    m.convertToWritten(5, 40);
    assert.deepEqual(shape(m), ['u0+5@100', 'w5+5@105', 'w20+10@300', 'w40+5@700', 'u45+5@705']);
    assert.equal(m.lookup(12).kind, 'hole');
  });

  it('remove (punch hole / truncate) splits at the edges and returns the freed physical ranges '
    + '(ext4_ext_remove_space)', () => {
    const m = new ExtentMap();
    m.insert(0, 1000, 100, 'written');
    assert.deepEqual(m.remove(10, 20), [{ pblk: 1010, lenBlocks: 20 }]);
    assert.deepEqual(shape(m), ['w0+10@1000', 'w30+70@1030']);
    assert.equal(m.blocksMapped, 80);
    m.insert(200, 5000, 10, 'unwritten');
    // Punch across an edge of one extent, a whole extent and a hole.
    assert.deepEqual(m.remove(50, 1000), [{ pblk: 1050, lenBlocks: 50 }, { pblk: 5000, lenBlocks: 10 }]);
    assert.deepEqual(shape(m), ['w0+10@1000', 'w30+20@1030']);
    assert.deepEqual(m.remove(12, 10), []); // a hole frees nothing
    // Truncate to 5 blocks: everything from block 5 to the end.
    assert.deepEqual(m.remove(5, Infinity), [{ pblk: 1005, lenBlocks: 5 }, { pblk: 1030, lenBlocks: 20 }]);
    assert.deepEqual(shape(m), ['w0+5@1000']);
    assert.equal(m.blocksMapped, 5);
  });

  it('convertToUnwritten turns written blocks unwritten in place, split at the edges (ext4_zero_range, '
    + 'CONVERT_UNWRITTEN)', () => {
    const m = new ExtentMap();
    m.insert(0, 100, 20, 'written');
    m.convertToUnwritten(5, 3);
    assert.deepEqual(shape(m), ['w0+5@100', 'u5+3@105', 'w8+12@108']);
    m.convertToWritten(5, 3);
    assert.deepEqual(shape(m), ['w0+20@100']);
  });

  it('the extent tree costs a block once a fifth extent leaves the inode, until an insert merges them back '
    + '(ext4_ext_grow_indepth, ext4_ext_try_to_merge_up)', () => {
    const m = new ExtentMap();
    for (let i = 0; i < 4; i++) m.insert(i * 10, 1000 + i * 100, 5, 'written');
    assert.equal(m.treeBlocks, 0);
    m.insert(40, 2000, 5, 'written');
    assert.equal(m.treeBlocks, 1);
    m.remove(40, 5);
    assert.equal(m.treeBlocks, 1, 'removal alone does not move extents back into the inode');
    m.insert(5, 1005, 5, 'written'); // merges with the first: still 4 extents, now merged up
    assert.equal(m.extentCount, 4);
    assert.equal(m.treeBlocks, 0);
    m.insert(40, 2000, 5, 'written');
    m.remove(0, Infinity);
    assert.equal(m.treeBlocks, 0, 'an emptied tree is depth 0 again');
  });

  it('clone is a deep copy; goalFor continues the nearest extent (ext4_ext_find_goal)', () => {
    const m = new ExtentMap();
    assert.equal(m.goalFor(0), -1); // no extents: no goal
    m.insert(0, 1000, 10, 'written');
    const snap = m.clone();
    m.insert(10, 1010, 10, 'written');
    m.remove(0, 5);
    assert.deepEqual(shape(snap), ['w0+10@1000']);
    assert.deepEqual(shape(m), ['w5+15@1005']);
    assert.equal(m.goalFor(20), 1020);
    assert.equal(m.goalFor(2), 1002); // before the first extent: the block that would precede it
  });
});

describe('BlockAllocator (outcome of fs/ext4/mballoc.c placement, v6.1)', () => {
  const GiB = 262144; // blocks per GiB

  it('aligned placement starts 512-block and goal-less requests on a 2 MiB-aligned block; unaligned starts at free '
    + 'space (oracle 6.1 §2)', () => {
    const a = new BlockAllocator({ totalBlocks: GiB, firstDataBlock: 1234, placement: 'aligned' });
    assert.deepEqual(a.alloc(-1, 512), [{ pblk: 1536, lenBlocks: 512 }]);
    assert.equal(a.allocOne(-1), 2048);
    const u = new BlockAllocator({ totalBlocks: GiB, firstDataBlock: 1234, placement: 'unaligned' });
    assert.deepEqual(u.alloc(-1, 512), [{ pblk: 1234, lenBlocks: 512 }]);
    assert.equal(u.allocOne(-1), 1746);
    a.checkInvariants();
    u.checkInvariants();
  });

  it('small requests with a goal continue at the goal in both modes (ext4_mb_find_by_goal)', () => {
    for (const placement of ['aligned', 'unaligned'] as const) {
      const b = new BlockAllocator({ totalBlocks: GiB, firstDataBlock: 1234, placement });
      const [first] = b.alloc(-1, 256);
      const next = b.alloc(first!.pblk + 256, 256);
      assert.deepEqual(next, [{ pblk: first!.pblk + 256, lenBlocks: 256 }], placement);
      assert.equal(b.allocOne(first!.pblk + 512), first!.pblk + 512, placement);
    }
  });

  it('aligned placement keeps the physical start congruent with the logical block, so PMD eligibility follows the file '
    + 'offset', () => {
    const b = new BlockAllocator({ totalBlocks: GiB, firstDataBlock: 1234, placement: 'aligned' });
    assert.deepEqual(b.alloc(-1, 300, 0), [{ pblk: 1536, lenBlocks: 300 }]);
    // 512 more for logical block 300: the goal 1836 is congruent to 300 mod 512, so it continues.
    assert.deepEqual(b.alloc(1836, 512, 300), [{ pblk: 1836, lenBlocks: 512 }]);
    // Without the logical block (0) a large request skips to the next aligned block.
    assert.deepEqual(b.alloc(2348, 512), [{ pblk: 2560, lenBlocks: 512 }]);
  });

  it('a goal that is not free moves to the first free range after it that holds the whole request', () => {
    const b = new BlockAllocator({ totalBlocks: 10000, firstDataBlock: 0, placement: 'unaligned' });
    b.alloc(-1, 1000);
    b.free(100, 50); // a 50-block hole below the goal
    assert.deepEqual(b.alloc(500, 60), [{ pblk: 1000, lenBlocks: 60 }]);
    assert.deepEqual(b.alloc(500, 40), [{ pblk: 1060, lenBlocks: 40 }]);
    // Wraps to the start when nothing after the goal fits.
    b.alloc(1100, 8900);
    assert.deepEqual(b.alloc(5000, 30), [{ pblk: 100, lenBlocks: 30 }]);
  });

  it('fragmented free space is used largest range first, in as few runs as possible', () => {
    const b = new BlockAllocator({ totalBlocks: 2000, firstDataBlock: 0, placement: 'unaligned' });
    for (let i = 0; i < 20; i++) b.alloc(i * 100, 100);
    assert.equal(b.freeBlocks, 0);
    b.free(100, 100);
    b.free(300, 120);
    b.free(700, 100);
    assert.equal(b.freeRangeCount, 3);
    assert.deepEqual(b.alloc(-1, 250), [
      { pblk: 300, lenBlocks: 120 }, { pblk: 100, lenBlocks: 100 }, { pblk: 700, lenBlocks: 30 }]);
    assert.equal(b.freeBlocks, 70);
    b.checkInvariants();
  });

  it('aligned placement with no aligned run for the whole request takes whole 2 MiB pieces from aligned starts', () => {
    const b = new BlockAllocator({ totalBlocks: 4096, firstDataBlock: 0, placement: 'aligned' });
    b.alloc(-1, 4096);
    b.free(100, 1100); // aligned 512..1200: 688 blocks, one PMD
    b.free(1300, 1100); // aligned 1536..2400: 864 blocks, one PMD
    const runs = b.alloc(-1, 1024);
    assert.deepEqual(runs, [{ pblk: 512, lenBlocks: 512 }, { pblk: 1536, lenBlocks: 512 }]);
  });

  it('a full device returns [] / -1; a request larger than the free space gets what is left', () => {
    const b = new BlockAllocator({ totalBlocks: 1000, firstDataBlock: 10, placement: 'aligned', pmdBlocks: 512 });
    const runs = b.alloc(-1, 5000);
    assert.equal(runs.reduce((s, r) => s + r.lenBlocks, 0), 990);
    assert.equal(b.freeBlocks, 0);
    assert.deepEqual(b.alloc(-1, 1), []);
    assert.equal(b.allocOne(500), -1);
  });

  it('free/alloc round trip restores one free range; freeing a free block is a double free (ext4_free_blocks)', () => {
    const b = new BlockAllocator({ totalBlocks: 100000, firstDataBlock: 1234, placement: 'unaligned' });
    const all = [...b.alloc(-1, 777), ...b.alloc(-1, 1), ...b.alloc(5000, 3000), ...b.alloc(-1, 512)];
    for (const r of [...all].reverse()) b.free(r.pblk, r.lenBlocks);
    assert.equal(b.freeBlocks, 100000 - 1234);
    assert.equal(b.freeRangeCount, 1);
    b.checkInvariants();
    assert.throws(() => b.free(2000, 1), InvariantError);
    const x = b.allocOne(-1);
    assert.equal(b.isFree(x), false);
    b.free(x, 1);
    assert.equal(b.isFree(x), true);
    assert.throws(() => b.free(5, 1), InvariantError); // below firstDataBlock
  });

  it('freed blocks wait for the journal commit before they can be allocated again (ext4_mb_free_metadata)', () => {
    const b = new BlockAllocator({ totalBlocks: 3000, firstDataBlock: 1000, placement: 'unaligned' });
    const [r] = b.alloc(-1, 100);
    assert.deepEqual(r, { pblk: 1000, lenBlocks: 100 });
    b.freeAfterCommit(1000, 100);
    assert.equal(b.pendingBlocks, 100);
    assert.equal(b.freeBlocks, 1900);
    assert.deepEqual(b.alloc(1000, 10), [{ pblk: 1100, lenBlocks: 10 }], 'the goal is busy until the commit');
    assert.equal(b.releasePending(), 100);
    assert.equal(b.pendingBlocks, 0);
    assert.deepEqual(b.alloc(1000, 10), [{ pblk: 1000, lenBlocks: 10 }]);
    b.checkInvariants();
  });

  it('mballoc placement: the goal when it holds the request, else the first buddy chunk of the exact order, else of a '
    + 'larger one; other sizes first fit (ext4_mb_regular_allocator)', () => {
    const b = new BlockAllocator({ totalBlocks: 65536, firstDataBlock: 1234, placement: 'mballoc' });
    // Free from 1234: buddy chunks 1234+2, 1236+4, ... 1280+256 (order 8), 1536+512 (order 9), 2048+2048 (order 11), ...
    assert.deepEqual(b.allocMballoc(-1, 0, 256), [{ pblk: 1280, lenBlocks: 256 }], 'order 8: 1 MiB-aligned, not 2 MiB');
    assert.deepEqual(b.allocMballoc(1536, 0, 256), [{ pblk: 1536, lenBlocks: 256 }], 'the goal, free for all of it');
    assert.deepEqual(b.allocMballoc(-1, 0, 1024), [{ pblk: 2048, lenBlocks: 1024 }], 'no free order-10 chunk: the first order-11 one, split');
    assert.deepEqual(b.allocMballoc(-1, 0, 1), [{ pblk: 1234, lenBlocks: 1 }], 'one block: first fit');
    assert.deepEqual(b.allocMballoc(-1, 0, 768), [{ pblk: 3072, lenBlocks: 768 }], 'not a power of two: the first free extent that holds it');
    b.checkInvariants();
  });

  it('memory grows with free ranges, not device size: a fresh 64 GiB device is one range', () => {
    const b = new BlockAllocator({ totalBlocks: 64 * GiB, firstDataBlock: 1234, placement: 'aligned' });
    assert.equal(b.freeRangeCount, 1);
    const runs: Array<{ pblk: number; lenBlocks: number }> = [];
    let goal = -1;
    for (let i = 0; i < 1000; i++) {
      const [r] = b.alloc(goal, 512, i * 512);
      runs.push(r!);
      goal = r!.pblk + r!.lenBlocks;
    }
    assert.equal(runs[0]!.pblk, 1536);
    assert.equal(b.freeRangeCount, 2); // [1234, 1536) and the tail
    for (let i = 0; i < 1000; i += 2) b.free(runs[i]!.pblk, 512);
    assert.equal(b.freeRangeCount, 501);
    const c = b.clone();
    c.allocOne(-1);
    assert.notEqual(c.freeBlocks, b.freeBlocks);
    b.checkInvariants();
  });
});

describe('Journal (fs/jbd2 transaction lifecycle, v6.1)', () => {
  const opts = { commitIntervalNs: 5_000_000_000, costs: DEFAULT_JOURNAL_COSTS };

  it('tids start at 1 running / 0 committed and advance by one per commit; an empty transaction is not '
    + 'committed', () => {
    const j = new Journal(opts);
    assert.equal(j.runningTid, 1);
    assert.equal(j.committedTid, 0);
    assert.equal(j.commit(0), null);
    assert.equal(j.commits, 0);
    assert.equal(j.startHandle(), 1);
    j.recordMetadata(12, 'extent', true, 3);
    j.stopHandle();
    const c = j.commit(100);
    assert.deepEqual(c, { tid: 1, blocks: 3, durationNs: opts.costs.commitBaseNs + 3 * opts.costs.commitPerBlockNs });
    assert.equal(j.runningTid, 2);
    assert.equal(j.committedTid, 1);
    assert.equal(j.commits, 1);
    assert.equal(j.commit(200), null);
  });

  it('fdatasync needs a commit only for datasync changes (i_datasync_tid); fsync for any change (i_sync_tid) — '
    + 'ext4_sync_file', () => {
    const j = new Journal(opts);
    j.startHandle();
    j.recordMetadata(12, 'inode', false); // timestamps only
    j.stopHandle();
    assert.equal(j.inodeSyncTid(12), 1);
    assert.equal(j.inodeDatasyncTid(12), 0);
    assert.equal(j.needsCommitForDatasync(12), false);
    assert.equal(j.needsCommitForSync(12), true);
    assert.equal(j.completeTransaction(j.inodeDatasyncTid(12), 0), null); // fdatasync: no commit
    j.startHandle();
    j.recordMetadata(12, 'size', true);
    j.stopHandle();
    assert.equal(j.needsCommitForDatasync(12), true);
    assert.equal(j.needsCommitForDatasync(13), false); // another inode has nothing pending
    assert.equal(j.completeTransaction(j.inodeDatasyncTid(12), 10)?.tid, 1);
    assert.equal(j.needsCommitForDatasync(12), false);
    assert.equal(j.completeTransaction(j.inodeSyncTid(12), 20), null); // already committed
    j.startHandle();
    j.recordMetadata(12, 'extent', true);
    j.stopHandle();
    assert.equal(j.inodeDatasyncTid(12), 2);
  });

  it('handles: commit with an open handle, changes outside a handle and unmatched stops are invariant violations '
    + '(t_updates)', () => {
    const j = new Journal(opts);
    assert.throws(() => j.recordMetadata(12, 'extent', true), InvariantError);
    assert.throws(() => j.stopHandle(), InvariantError);
    j.startHandle();
    j.startHandle(); // nested
    j.recordMetadata(12, 'alloc', true);
    j.stopHandle();
    assert.throws(() => j.commit(0), InvariantError);
    assert.equal(j.maybePeriodicCommit(10_000_000_000), null); // waits for the handle
    j.stopHandle();
    assert.equal(j.maybePeriodicCommit(10_000_000_000)?.tid, 1);
  });

  it('periodic commit every commitIntervalNs (commit= mount option) when the transaction is not empty', () => {
    const j = new Journal(opts);
    j.startHandle(); j.recordMetadata(12, 'extent', true); j.stopHandle();
    assert.equal(j.maybePeriodicCommit(4_999_999_999), null);
    assert.equal(j.maybePeriodicCommit(5_000_000_000)?.tid, 1);
    j.startHandle(); j.recordMetadata(12, 'extent', true); j.stopHandle();
    assert.equal(j.maybePeriodicCommit(9_999_999_999), null);
    assert.equal(j.maybePeriodicCommit(10_000_000_000)?.tid, 2);
    assert.equal(j.maybePeriodicCommit(20_000_000_000), null); // empty: nothing to commit
    assert.equal(j.commits, 2);
  });

  it('listeners run in registration order with each commit\'s changes, one entry per (inode, kind) with buffers '
    + 'counted once', () => {
    const j = new Journal(opts);
    const log: string[] = [];
    let seen: ReadonlyArray<JournalChange> = [];
    j.onCommit((tid, changes) => { log.push(`a${tid}`); seen = changes; });
    j.onCommit((tid) => { log.push(`b${tid}:${j.committedTid}`); });
    j.startHandle();
    j.recordMetadata(12, 'extent', true, 1);
    j.recordMetadata(12, 'extent', true, 2);
    j.recordMetadata(12, 'inode', false);
    j.recordMetadata(13, 'extent', false);
    j.recordMetadata(12, 'extent', false, 1);
    j.stopHandle();
    assert.equal(j.runningBlocks, 4);
    assert.equal(j.commit(1)?.blocks, 4);
    assert.deepEqual(seen, [
      { ino: 12, kind: 'extent', datasync: true, blocks: 2, records: 3 },
      { ino: 12, kind: 'inode', datasync: false, blocks: 1, records: 1 },
      { ino: 13, kind: 'extent', datasync: false, blocks: 1, records: 1 }]);
    j.startHandle(); j.recordMetadata(14, 'size', true); j.stopHandle();
    j.commit(2);
    assert.deepEqual(log, ['a1', 'b1:1', 'a2', 'b2:2']);
    assert.equal(seen.length, 1); // the first commit's array was not reused
    assert.throws(() => { j.onCommit(() => j.commit(3)); j.startHandle(); j.recordMetadata(1, 'size', true); j.stopHandle(); j.commit(3); }, InvariantError);
  });
});
