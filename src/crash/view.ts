/**
 * What a program sees after a power failure and journal recovery, without remounting: files are
 * the directory entries, sizes and block mappings of the last committed transaction (ext4
 * recovery replays committed transactions only), and their bytes come from the media image,
 * which is the device's durable view overlaid copy-on-write with the cache-line prefixes chosen
 * for this crash state. Holes and unwritten blocks read as zeros.
 *
 * Recovery code (issue 15) runs on a writable copy: `write` changes the image of this state only
 * (the overlay is per state), as a recovery program's stores and pwrites change the media it
 * recovered; `fsync` is accepted and makes nothing more durable (the image is not crashed again).
 * Writes must land inside the recovered file's size and written blocks: allocating blocks in
 * recovery would need a mounted filesystem, which the view does not model. A write is a write(2)
 * to the DAX file: durable when it returns, so a power failure during recovery keeps whole writes
 * (src/crash/recovery.ts checks each such image).
 */
import type { Ext4 } from '../fs/ext4/ext4.ts';
import type { PmemDevice } from '../hw/pmem.ts';
import { ExtentMap } from '../fs/ext4/extents.ts';

const EMPTY_EXTENTS = new ExtentMap();

/** A recovery write the view cannot apply (reported as the program's failure, not a model bug). */
export class RecoveryWriteError extends Error {}

export class CrashView {
  private readonly fs: Ext4;
  private readonly pmem: PmemDevice;
  private readonly mountPoint: string;
  /** Media bytes that differ from the durable view in this state: key block * 4096 + offset. */
  readonly overlay: Map<number, number>;
  /** While non-null, every byte read through the view is recorded here (failure reports). */
  reads: Map<string, Map<number, number>> | null = null;
  /** While non-null, each recovery write is logged here: its overlay keys and bytes (src/crash/recovery.ts). */
  writeLog: Array<{ path: string; offset: number; keys: number[]; bytes: number[]; site: string | null }> | null = null;
  /** While non-null, gives a logged write's call site (failure reports only). */
  siteOf: (() => string | null) | null = null;

  constructor(fs: Ext4, pmem: PmemDevice, mountPoint: string, overlay: Map<number, number>) {
    this.fs = fs;
    this.pmem = pmem;
    this.mountPoint = mountPoint.endsWith('/') ? mountPoint : mountPoint + '/';
    this.overlay = overlay;
  }

  /** The same recovered files over another media overlay (a crash during recovery, src/crash/recovery.ts). */
  withOverlay(overlay: Map<number, number>): CrashView {
    return new CrashView(this.fs, this.pmem, this.mountPoint, overlay);
  }

  private inode(path: string): { extents: import('../fs/ext4/extents.ts').ExtentMap; sizeBytes: number } | null {
    if (!path.startsWith(this.mountPoint)) return null;
    const ino = this.fs.committedNames.get(path.slice(this.mountPoint.length));
    if (ino === undefined) return null;
    return this.fs.committed.get(ino) ?? { extents: EMPTY_EXTENTS, sizeBytes: 0 };
  }

  /** Does the file exist after recovery? */
  exists(path: string): boolean {
    return this.inode(path) !== null;
  }

  /** i_size after recovery, or -1 when the file does not exist. */
  sizeBytes(path: string): number {
    return this.inode(path)?.sizeBytes ?? -1;
  }

  /** The media block holding page `index` of the file after recovery (written extents only), or -1. */
  blockOf(path: string, index: number): number {
    const i = this.inode(path);
    if (!i) return -1;
    const m = i.extents.lookup(index);
    return m.kind === 'written' ? m.pblk : -1;
  }

  /** One byte of the recovered file; -1 past EOF or when the file does not exist. */
  byte(path: string, offsetBytes: number): number {
    const i = this.inode(path);
    if (!i || offsetBytes >= i.sizeBytes) return -1;
    const m = i.extents.lookup(Math.floor(offsetBytes / 4096));
    const b = m.kind !== 'written' ? 0 : this.mediaByte(m.pblk, offsetBytes % 4096);
    if (this.reads !== null) this.noteRead(path, offsetBytes, b);
    return b;
  }

  /** Record a byte read (bounded: 64 KiB of reads per state are kept). */
  private noteRead(path: string, offset: number, b: number): void {
    let m = this.reads!.get(path);
    if (m === undefined) { m = new Map(); this.reads!.set(path, m); }
    if (m.size < 65536) m.set(offset, b);
  }

  /** The bytes read while `reads` was on, as sorted contiguous ranges per file. */
  readRanges(): Array<{ path: string; offset: number; bytes: number[] }> {
    const out: Array<{ path: string; offset: number; bytes: number[] }> = [];
    for (const [path, m] of this.reads ?? []) {
      const offs = [...m.keys()].sort((x, y) => x - y);
      for (const o of offs) {
        const last = out[out.length - 1];
        if (last && last.path === path && last.offset + last.bytes.length === o) last.bytes.push(m.get(o)!);
        else out.push({ path, offset: o, bytes: [m.get(o)!] });
      }
    }
    return out;
  }

  /**
   * Recovery code's write of `bytes` at `offsetBytes` of `path` into this state's image. Throws
   * RecoveryWriteError when the file does not exist, the range passes its size, or a page is a hole.
   */
  write(path: string, offsetBytes: number, bytes: Uint8Array | readonly number[]): void {
    const i = this.inode(path);
    if (!i) throw new RecoveryWriteError(`recovery write to ${path}: no such file after recovery`);
    if (offsetBytes < 0 || offsetBytes + bytes.length > i.sizeBytes) {
      throw new RecoveryWriteError(`recovery write to ${path} [${offsetBytes}, ${offsetBytes + bytes.length}) ` +
        `passes its size ${i.sizeBytes} (allocation in recovery is not modelled)`);
    }
    const log = this.writeLog === null ? null
      : { path, offset: offsetBytes, keys: [] as number[], bytes: [] as number[], site: this.siteOf?.() ?? null };
    for (let k = 0; k < bytes.length; k++) {
      const off = offsetBytes + k;
      const m = i.extents.lookup(Math.floor(off / 4096));
      if (m.kind !== 'written') {
        throw new RecoveryWriteError(`recovery write to ${path} at ${off}: page ${Math.floor(off / 4096)} is a ` +
          `hole (allocation in recovery is not modelled)`);
      }
      const key = m.pblk * 4096 + (off % 4096);
      this.overlay.set(key, bytes[k]! & 0xff);
      if (log) { log.keys.push(key); log.bytes.push(bytes[k]! & 0xff); }
    }
    if (log) this.writeLog!.push(log);
  }

  /** fsync in recovery code: accepted; the image is this state's and is not crashed again. */
  fsync(path: string): number {
    return this.exists(path) ? 0 : -1;
  }

  /** Bytes [offset, offset+len) of the recovered file (short at EOF), or null without the file. */
  read(path: string, offsetBytes: number, lengthBytes: number): Uint8Array | null {
    const i = this.inode(path);
    if (!i) return null;
    const end = Math.min(i.sizeBytes, offsetBytes + lengthBytes);
    const out = new Uint8Array(Math.max(0, end - offsetBytes));
    for (let o = offsetBytes; o < end; o++) out[o - offsetBytes] = this.byte(path, o);
    return out;
  }

  /** A byte of the media image in this crash state. */
  mediaByte(block: number, off: number): number {
    const v = this.overlay.get(block * 4096 + off);
    return v !== undefined ? v : this.pmem.durableBlockByte(block, off);
  }
}

