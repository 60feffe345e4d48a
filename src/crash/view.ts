/**
 * What a program sees after a power failure and journal recovery, without remounting: files are
 * the directory entries, sizes and block mappings of the last committed transaction (ext4
 * recovery replays committed transactions only), and their bytes come from the media image,
 * which is the device's durable view overlaid copy-on-write with the cache-line prefixes chosen
 * for this crash state. Holes and unwritten blocks read as zeros.
 */
import type { Ext4 } from '../fs/ext4/ext4.ts';
import type { PmemDevice } from '../hw/pmem.ts';
import { ExtentMap } from '../fs/ext4/extents.ts';

const EMPTY_EXTENTS = new ExtentMap();

export class CrashView {
  private readonly fs: Ext4;
  private readonly pmem: PmemDevice;
  private readonly mountPoint: string;
  /** Media bytes that differ from the durable view in this state: key block * 4096 + offset. */
  readonly overlay: Map<number, number>;

  constructor(fs: Ext4, pmem: PmemDevice, mountPoint: string, overlay: Map<number, number>) {
    this.fs = fs;
    this.pmem = pmem;
    this.mountPoint = mountPoint.endsWith('/') ? mountPoint : mountPoint + '/';
    this.overlay = overlay;
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
    if (m.kind !== 'written') return 0;
    return this.mediaByte(m.pblk, offsetBytes % 4096);
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

