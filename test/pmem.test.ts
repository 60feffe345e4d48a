// Tests for src/hw/pmem.ts, the persistent-memory device behind the CPU cache.
// Behaviour references: /work/shared/reference/linux-fault-path.md §4.10 (dax_writeback_mapping_range,
// dax_flush, arch_wb_cache_pmem, v6.1); the Intel SDM's persistence rules for CLWB/CLFLUSHOPT (weakly
// ordered, need SFENCE) and CLFLUSH (ordered); drivers/nvdimm/pmem.c pmem_do_write -> memcpy_flushcache
// (v6.1: driver writes bypass the cache); Jan Kara's MAP_SYNC series (seed 003) for why user-space
// flushes at line granularity matter.
import { mulberry32 } from '../src/lib/prng.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CACHE_LINE_BYTES, PmemDevice } from '../src/hw/pmem.ts';
import { InvariantError } from '../src/lib/assert.ts';

const PAGE = 4096;
const BASE = 0x100000; // pmem PFNs above a 4 GiB DRAM
const GiB = 2 ** 30;

function dev(writeCache = true, blocks = 16): PmemDevice {
  return new PmemDevice({ name: 'pmem0', sizeBytes: blocks * PAGE, pfnBase: BASE, writeCache });
}
const addr = (pfn: number, off: number): number => pfn * PAGE + off;

test('a cached store is visible to loads but lost on power failure (store not flushed, §4.10 step e)', () => {
  const d = dev();
  d.writeByte(BASE + 1, 10, 0xab);
  assert.equal(d.readByte(BASE + 1, 10), 0xab);
  assert.equal(d.durableByte(BASE + 1, 10), 0);
  assert.equal(d.dirtyLineCount(), 1);
  d.powerFail();
  assert.equal(d.readByte(BASE + 1, 10), 0);
  assert.equal(d.dirtyLineCount(), 0);
});

test('CLWB without SFENCE is not a persistence guarantee: lost on power failure (SDM CLWB ordering)', () => {
  const d = dev();
  d.writeByte(BASE, 5, 7);
  d.clwb(addr(BASE, 5));
  assert.equal(d.durableByte(BASE, 5), 0);
  assert.equal(d.dirtyLineCount(), 1, 'a pending line is still not durable');
  d.powerFail();
  assert.equal(d.readByte(BASE, 5), 0);
});

test('CLWB + SFENCE and CLFLUSHOPT + SFENCE make the line durable', () => {
  const d = dev();
  d.writeByte(BASE, 5, 7);
  d.writeByte(BASE, 200, 8);
  d.clwb(addr(BASE, 0));         // any byte of the line names the line
  d.clflushopt(addr(BASE, 192));
  d.sfence();
  assert.equal(d.dirtyLineCount(), 0);
  d.powerFail();
  assert.equal(d.readByte(BASE, 5), 7);
  assert.equal(d.readByte(BASE, 200), 8);
  assert.equal(d.linesFlushed, 2);
});

test('CLFLUSH alone is durable (ordered with stores in this model)', () => {
  const d = dev();
  d.writeByte(BASE + 3, 4095, 9);
  d.clflush(addr(BASE + 3, 4032));
  assert.equal(d.durableByte(BASE + 3, 4095), 9);
  d.powerFail();
  assert.equal(d.readByte(BASE + 3, 4095), 9);
});

test('a store to a flushed line makes it dirty again; the new byte is lost, the old one kept', () => {
  const d = dev();
  d.writeByte(BASE, 1, 1);
  d.clwb(addr(BASE, 1));
  d.sfence();
  d.writeByte(BASE, 1, 2);
  assert.equal(d.dirtyLineCount(), 1);
  assert.equal(d.readByte(BASE, 1), 2);
  d.powerFail();
  assert.equal(d.readByte(BASE, 1), 1);
});

test('documented simplification: a pending line stored to before SFENCE persists its current content', () => {
  const d = dev();
  d.writeByte(BASE, 1, 1);
  d.clwb(addr(BASE, 1));
  d.writeByte(BASE, 2, 2); // same line, still pending
  d.sfence();
  assert.equal(d.dirtyLineCount(), 0);
  assert.equal(d.durableByte(BASE, 1), 1);
  assert.equal(d.durableByte(BASE, 2), 2);
});

test('two lines of one block are independent', () => {
  const d = dev();
  d.writeByte(BASE, 0, 1);    // line 0
  d.writeByte(BASE, 64, 2);   // line 1
  d.clwb(addr(BASE, 0));
  d.sfence();
  assert.equal(d.dirtyLineCount(), 1);
  d.powerFail();
  assert.equal(d.readByte(BASE, 0), 1);
  assert.equal(d.readByte(BASE, 64), 0);
});

test('writeBlock and zeroBlocks are durable at once and drop the block\'s dirty lines (memcpy_flushcache, '
  + 'pmem_do_write v6.1)', () => {
  const d = dev();
  d.writeByte(BASE + 2, 0, 1);
  d.writeByte(BASE + 2, 100, 1);
  const buf = new Uint8Array(PAGE).fill(3);
  buf[100] = 4;
  d.writeBlock(2, buf);
  assert.equal(d.dirtyLineCount(), 0);
  d.writeBlock(3, 0x5a);
  d.writeByte(BASE + 4, 9, 9);
  d.zeroBlocks(4, 2);
  d.powerFail();
  assert.equal(d.readByte(BASE + 2, 0), 3);
  assert.equal(d.readByte(BASE + 2, 100), 4);
  assert.equal(d.readBlock(3), 0x5a);
  assert.equal(d.readBlock(4), 0);
  // Storage at cache-line granularity (src/hw/content-store.ts): block 2 is its fill byte 3 plus the
  // one 64-byte line holding byte 100; block 3 a fill byte; nothing cached, no line state kept.
  assert.deepEqual(d.lineCounts(), { media: 1, cached: 0, states: 0 }, 'block 2: fill byte plus one line');
});

test('a store to a written block leaves the old contents durable (copy-on-first-dirty)', () => {
  const d = dev();
  const buf = new Uint8Array(PAGE).fill(6);
  d.writeBlock(0, buf);
  d.writeByte(BASE, 0, 7);
  assert.equal(d.durableByte(BASE, 0), 6);
  d.powerFail();
  assert.equal(d.readByte(BASE, 0), 6);
});

test('writebackPages = arch_wb_cache_pmem: 64 CLWBs per page then SFENCE; everything durable (§4.10 step e)', () => {
  const d = dev();
  for (let p = 0; p < 3; p++) for (let off = 0; off < PAGE; off += 97) d.writeByte(BASE + p, off, (p + off) & 0xff);
  d.writeByte(BASE + 9, 0, 1);
  d.clwb(addr(BASE + 9, 0)); // an earlier pending CLWB elsewhere is also fenced
  const before = d.linesFlushed;
  assert.equal(d.writebackPages(BASE, 3), 3 * (PAGE / CACHE_LINE_BYTES));
  assert.equal(d.linesFlushed - before, 192);
  assert.equal(d.dirtyLineCount(), 0);
  d.powerFail();
  for (let p = 0; p < 3; p++) for (let off = 0; off < PAGE; off += 97) assert.equal(d.readByte(BASE + p, off), (p + off) & 0xff);
  assert.equal(d.readByte(BASE + 9, 0), 1);
});

test('write cache off (eADR, dax_write_cache_enabled false): stores durable, flushes skipped and not counted (§4.10 '
  + 'step e)', () => {
  const d = dev(false);
  d.writeByte(BASE, 0, 1);
  assert.equal(d.dirtyLineCount(), 0);
  d.clwb(addr(BASE, 0));
  d.clflushopt(addr(BASE, 0));
  d.clflush(addr(BASE, 0));
  d.sfence();
  assert.equal(d.writebackPages(BASE, 4), 0);
  assert.equal(d.linesFlushed, 0);
  d.powerFail();
  assert.equal(d.readByte(BASE, 0), 1);
});

test('out-of-range PFNs, offsets, blocks and addresses throw with the device name', () => {
  const d = dev();
  assert.throws(() => d.readByte(BASE - 1, 0), /pmem0: pfn \d+ outside/);
  assert.throws(() => d.writeByte(BASE + 16, 0, 1), /pmem0: pfn \d+ outside/);
  assert.throws(() => d.readByte(BASE, 4096), /offset 4096/);
  assert.throws(() => d.writeByte(BASE, 0, 256), /not a byte/);
  assert.throws(() => d.readBlock(16), /blocks \[16, 17\) outside/);
  assert.throws(() => d.zeroBlocks(10, 7), InvariantError);
  assert.throws(() => d.writeBlock(0, new Uint8Array(10)), /expected 4096/);
  assert.throws(() => d.clwb(addr(BASE + 16, 0)), /physical address/);
  assert.throws(() => d.writebackPages(BASE + 15, 2), /outside the device/);
  assert.throws(() => new PmemDevice({ name: 'bad', sizeBytes: 1000, pfnBase: 0 }), /multiple of 4096/);
});

test('submit: synchronous driver I/O, latency + bytes x nsPerByte, no queueing (pmem_submit_bio v6.1)', () => {
  const d = dev();
  assert.equal(d.submit(true, 2, 500), 500 + 1000 + Math.round(8192 * 0.1));
  assert.equal(d.submit(false, 1, 500), 500 + 1000 + Math.round(4096 * 0.1), 'second request does not wait for the first');
  assert.equal(d.writeRequests, 1);
  assert.equal(d.readRequests, 1);
  assert.equal(d.bytesWritten, 8192);
  assert.equal(d.bytesRead, 4096);
});

test('memory grows with blocks touched, not device size: a fresh 1 TiB device holds nothing', () => {
  const before = process.memoryUsage().arrayBuffers;
  const d = new PmemDevice({ name: 'pmem0', sizeBytes: 1024 * GiB, pfnBase: 16 * GiB / PAGE });
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 1 << 20, `constructing allocated ${grown} bytes of typed arrays`);
  assert.equal(d.contentBytes(), 0);
  assert.equal(d.totalBlocks, 2 ** 28);
  const last = d.pfnEnd - 1;
  d.writeByte(last, 4095, 1);
  d.zeroBlocks(0, d.totalBlocks); // walks the touched blocks, not 2^28 of them
  assert.equal(d.readByte(last, 4095), 0);
  d.writeByte(last, 0, 2);
  // one dirty 64-byte line in the CPU cache and one block's line states; the media holds nothing
  assert.deepEqual(d.lineCounts(), { media: 0, cached: 1, states: 1 });
  assert.ok(d.contentBytes() < 2 << 20, `${d.contentBytes()} bytes held for one line`);
});

test('repeated store/flush cycles reuse buffers: host memory stays constant', () => {
  const d = dev();
  d.writeBlock(0, new Uint8Array(PAGE).fill(1));
  const cycle = (i: number): void => {
    d.writeByte(BASE, i % PAGE, i & 0xff);
    d.writebackPages(BASE, 1);
  };
  cycle(0);
  const steady = d.contentBytes();
  for (let i = 1; i < 1000; i++) cycle(i);
  assert.equal(d.contentBytes(), steady);
});

// ---------------------------------------------------------------- differential test

/** mulberry32 (src/lib/prng.ts): a small deterministic PRNG. */
const rng = mulberry32;

/** Naive model: a byte map for the CPU view, one for the durable view, a state per line. */
class NaivePmem {
  cpu = new Map<number, number>();
  durable = new Map<number, number>();
  line = new Map<number, number>(); // line address -> 1 dirty, 2 pending
  flushed = 0;
  readonly writeCache: boolean;
  constructor(writeCache: boolean) {
    this.writeCache = writeCache;
  }
  store(a: number, v: number): void {
    this.cpu.set(a, v);
    if (!this.writeCache) { this.durable.set(a, v); return; }
    const l = Math.floor(a / 64);
    if (!this.line.has(l)) this.line.set(l, 1);
  }
  persist(l: number): void {
    for (let a = l * 64; a < l * 64 + 64; a++) this.durable.set(a, this.cpu.get(a) ?? 0);
    this.line.delete(l);
  }
  clwb(a: number): void {
    if (!this.writeCache) return;
    this.flushed++;
    const l = Math.floor(a / 64);
    if (this.line.get(l) === 1) this.line.set(l, 2);
  }
  clflush(a: number): void {
    if (!this.writeCache) return;
    this.flushed++;
    const l = Math.floor(a / 64);
    if (this.line.has(l)) this.persist(l);
  }
  sfence(): void {
    for (const [l, st] of [...this.line]) if (st === 2) this.persist(l);
  }
  writeBlock(pfn: number, bytes: (off: number) => number): void {
    for (let off = 0; off < PAGE; off++) {
      const v = bytes(off);
      this.cpu.set(pfn * PAGE + off, v);
      this.durable.set(pfn * PAGE + off, v);
    }
    for (let l = pfn * 64; l < pfn * 64 + 64; l++) this.line.delete(l);
  }
  writeback(pfn: number, n: number): void {
    if (!this.writeCache) return;
    for (let a = pfn * PAGE; a < (pfn + n) * PAGE; a += 64) this.clwb(a);
    this.sfence();
  }
  powerFail(): void {
    this.cpu = new Map(this.durable);
    this.line.clear();
  }
}

function differential(seed: number, writeCache: boolean): void {
  const blocks = 6;
  const d = dev(writeCache, blocks);
  const m = new NaivePmem(writeCache);
  const r = rng(seed);
  const int = (n: number): number => Math.floor(r() * n);
  // Few distinct offsets so lines are hit repeatedly; values from a small alphabet so fills coincide.
  const randAddr = (): [number, number] => [BASE + int(blocks), int(8) * 64 + int(3) * 31];
  const fullCheck = (step: number): void => {
    for (let p = BASE; p < BASE + blocks; p++) {
      const blk = d.readBlock(p - BASE);
      for (let off = 0; off < PAGE; off++) {
        const a = p * PAGE + off;
        const want = m.cpu.get(a) ?? 0;
        const got = typeof blk === 'number' ? blk : blk[off];
        if (got !== want || d.readByte(p, off) !== want) assert.fail(`seed ${seed} step ${step}: cpu byte ${p}:${off} ${got} != ${want}`);
        if (d.durableByte(p, off) !== (m.durable.get(a) ?? 0)) assert.fail(`seed ${seed} step ${step}: durable byte ${p}:${off}`);
      }
    }
  };
  for (let step = 0; step < 4000; step++) {
    const op = int(100);
    const [pfn, off] = randAddr();
    if (op < 45) {
      const v = int(4) === 0 ? 0 : int(3) + 1;
      d.writeByte(pfn, off, v); m.store(pfn * PAGE + off, v);
    } else if (op < 58) {
      d.clwb(addr(pfn, off)); m.clwb(addr(pfn, off));
    } else if (op < 63) {
      d.clflushopt(addr(pfn, off)); m.clwb(addr(pfn, off));
    } else if (op < 70) {
      d.clflush(addr(pfn, off)); m.clflush(addr(pfn, off));
    } else if (op < 80) {
      d.sfence(); m.sfence();
    } else if (op < 85) {
      const kind = int(3);
      const fill = int(3);
      if (kind === 0) { d.writeBlock(pfn - BASE, fill); m.writeBlock(pfn, () => fill); }
      else {
        const buf = new Uint8Array(PAGE).fill(fill);
        for (let i = 0; i < 20; i++) buf[int(8) * 64 + int(3) * 31] = int(4);
        const copy = buf.slice();
        d.writeBlock(pfn - BASE, buf); m.writeBlock(pfn, (o) => copy[o]!);
      }
    } else if (op < 88) {
      const n = 1 + int(2);
      const b = Math.min(pfn - BASE, blocks - n);
      d.zeroBlocks(b, n);
      for (let i = 0; i < n; i++) m.writeBlock(BASE + b + i, () => 0);
    } else if (op < 93) {
      const n = 1 + int(2);
      const p = Math.min(pfn, BASE + blocks - n);
      d.writebackPages(p, n); m.writeback(p, n);
    } else if (op < 96) {
      d.powerFail(); m.powerFail();
    } else {
      const a = pfn * PAGE + off;
      assert.equal(d.readByte(pfn, off), m.cpu.get(a) ?? 0, `seed ${seed} step ${step}: load`);
      assert.equal(d.durableByte(pfn, off), m.durable.get(a) ?? 0, `seed ${seed} step ${step}: durable`);
    }
    assert.equal(d.dirtyLineCount(), m.line.size, `seed ${seed} step ${step}: dirty lines`);
    assert.equal(d.linesFlushed, m.flushed, `seed ${seed} step ${step}: lines flushed`);
    if (step % 400 === 399) fullCheck(step);
  }
  fullCheck(-1);
  d.powerFail(); m.powerFail();
  fullCheck(-2);
}

test('differential against a byte-map model, with random power failures (write cache on)', () => {
  for (const seed of [1, 2, 3, 0xdead]) differential(seed, true);
});

test('differential against a byte-map model, with random power failures (write cache off)', () => {
  for (const seed of [4, 5]) differential(seed, false);
});
