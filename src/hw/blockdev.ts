/**
 * A simulated block device (virtio-blk-like): 4 KiB blocks whose contents are kept sparsely, as a
 * fill byte per block plus the 64-byte lines that differ from it (hw/content-store.ts; unwritten
 * blocks read as zeros), so host memory follows the lines written, not the blocks; and a single
 * request queue with a fixed cost per request plus a per-byte transfer cost. Requests are served
 * in submission order; a request submitted while the device is busy starts when the previous one
 * completes, so queueing shows up as latency.
 */
import { assert } from '../lib/assert.ts';
import { ContentStore } from './content-store.ts';

export const BLOCK_SIZE = 4096;

/** What a filesystem needs from the device under it (a block device, or pmem through its driver). */
export interface DataDevice {
  readonly name: string;
  readonly totalBlocks: number;
  readBlock(b: number): Uint8Array | number;
  writeBlock(b: number, v: Uint8Array | number): void;
  submit(write: boolean, blocks: number, nowNs: number): number;
  /** Block `b` into page `page` of `to` (a DRAM frame's contents): a read's DMA, without a 4 KiB copy. */
  readBlockTo(b: number, to: ContentStore, page: number): void;
  /** Page `page` of `from` into block `b`: a write's DMA. */
  writeBlockFrom(b: number, from: ContentStore, page: number): void;
}

export interface BlockDeviceConfig {
  name: string;
  sizeBytes: number;
  /** Fixed cost of one request (seek/command overhead); default 100 us, an SSD-class virtio disk. */
  requestLatencyNs?: number;
  /** Transfer cost per byte; default 0.5 ns/B (about 2 GB/s). */
  nsPerByte?: number;
}

export class BlockDevice implements DataDevice {
  readonly name: string;
  readonly sizeBytes: number;
  readonly totalBlocks: number;
  readonly requestLatencyNs: number;
  readonly nsPerByte: number;
  /** Block contents by block number (never written = zeros). */
  private readonly contents = new ContentStore();
  private busyUntilNs = 0;
  readRequests = 0;
  writeRequests = 0;
  bytesRead = 0;
  bytesWritten = 0;

  constructor(cfg: BlockDeviceConfig) {
    assert(cfg.sizeBytes > 0 && cfg.sizeBytes % BLOCK_SIZE === 0,
      `device ${cfg.name}: sizeBytes must be a positive multiple of 4096`);
    this.name = cfg.name;
    this.sizeBytes = cfg.sizeBytes;
    this.totalBlocks = cfg.sizeBytes / BLOCK_SIZE;
    this.requestLatencyNs = cfg.requestLatencyNs ?? 100_000;
    this.nsPerByte = cfg.nsPerByte ?? 0.5;
  }

  /**
   * Queue a request of `blocks` blocks at simulated time `nowNs`; returns its completion time.
   * Models a single-queue device: requests are served one after another.
   */
  submit(write: boolean, blocks: number, nowNs: number): number {
    assert(blocks > 0, 'empty block request');
    const start = Math.max(nowNs, this.busyUntilNs);
    const done = start + this.requestLatencyNs + Math.round(blocks * BLOCK_SIZE * this.nsPerByte);
    this.busyUntilNs = done;
    if (write) {
      this.writeRequests++;
      this.bytesWritten += blocks * BLOCK_SIZE;
    } else {
      this.readRequests++;
      this.bytesRead += blocks * BLOCK_SIZE;
    }
    return done;
  }

  /** Contents of block `b`: a fill byte, or a fresh 4 KiB copy. */
  readBlock(b: number): Uint8Array | number {
    assert(b >= 0 && b < this.totalBlocks, `${this.name}: block ${b} out of range`);
    return this.contents.snapshot(b);
  }

  /** Replace the contents of block `b` with a fill byte or 4 KiB of bytes (kept as lines). */
  writeBlock(b: number, v: Uint8Array | number): void {
    assert(b >= 0 && b < this.totalBlocks, `${this.name}: block ${b} out of range`);
    this.contents.restore(b, v);
  }

  readBlockTo(b: number, to: ContentStore, page: number): void {
    assert(b >= 0 && b < this.totalBlocks, `${this.name}: block ${b} out of range`);
    to.copyPage(page, this.contents, b);
  }

  writeBlockFrom(b: number, from: ContentStore, page: number): void {
    assert(b >= 0 && b < this.totalBlocks, `${this.name}: block ${b} out of range`);
    this.contents.copyPage(b, from, page);
  }

  /** Host bytes held for block contents (the content store: per-block fill and line map, lines). */
  contentBytes(): number {
    return this.contents.bytesHeld();
  }
}
