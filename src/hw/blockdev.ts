/**
 * A simulated block device (virtio-blk-like): 4 KiB blocks whose contents are kept sparsely
 * (unwritten blocks read as zeros), and a single request queue with a fixed cost per request plus
 * a per-byte transfer cost. Requests are served in submission order; a request submitted while
 * the device is busy starts when the previous one completes, so queueing shows up as latency.
 */
import { assert } from '../lib/assert.ts';

export const BLOCK_SIZE = 4096;

/** What a filesystem needs from the device under it (a block device, or pmem through its driver). */
export interface DataDevice {
  readonly name: string;
  readonly totalBlocks: number;
  readBlock(b: number): Uint8Array | number;
  writeBlock(b: number, v: Uint8Array | number): void;
  submit(write: boolean, blocks: number, nowNs: number): number;
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
  /** Block contents: a buffer, or a fill byte for a uniformly filled block. Absent = zeros. */
  private blocks = new Map<number, Uint8Array | number>();
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

  /** Contents of block `b` (a shared buffer or a fill byte; callers copy before modifying). */
  readBlock(b: number): Uint8Array | number {
    assert(b >= 0 && b < this.totalBlocks, `${this.name}: block ${b} out of range`);
    return this.blocks.get(b) ?? 0;
  }

  /** Replace the contents of block `b`; the caller hands over ownership of a buffer. */
  writeBlock(b: number, v: Uint8Array | number): void {
    assert(b >= 0 && b < this.totalBlocks, `${this.name}: block ${b} out of range`);
    if (v === 0) this.blocks.delete(b);
    else this.blocks.set(b, v);
  }

  /** Host bytes held for block contents. */
  contentBytes(): number {
    let n = 0;
    for (const v of this.blocks.values()) if (typeof v !== 'number') n += v.length;
    return n;
  }
}
