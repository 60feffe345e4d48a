/**
 * read(2) on tmpfs: shmem_file_read_iter (mm/shmem.c, v6.1 and v6.18), not filemap_read. Each
 * folio is looked up with shmem_get_folio(SGP_READ), which never allocates: a hole, and a folio
 * fallocate left not uptodate, come back as "no folio" and the caller copies zeroes (ZERO_PAGE on
 * 6.1, iov_iter_zero on 6.18). So a read of a sparse tmpfs file adds nothing to the page cache
 * (st_blocks and a later fault's fault-around see no new page), and there is no readahead.
 * Measured: test/oracle-runs/tmpfs-read-hole.linux-6.18.tmpfs.jsonl (6.18 host).
 */
import type { Kernel } from '../kernel/kernel.ts';
import type { File } from '../fs/fs.ts';
import { PAGE_SIZE } from './constants.ts';
import { findFolio, waitFolioUnlocked } from './pagemap.ts';
import { PG_uptodate } from '../hw/frames.ts';
import { assert } from '../lib/assert.ts';
import { COST } from '../lib/cost-category.ts';

/**
 * shmem_file_read_iter (mm/shmem.c v6.18): copy [pos, min(pos+len, i_size)) into `out` (if
 * given) from cached uptodate folios, zeroes elsewhere; marks a folio accessed when the read
 * starts at its first byte. Returns the bytes read (0 at or past EOF).
 */
export function shmemFileRead(k: Kernel, file: File, pos: number, len: number, out: Uint8Array | null): number {
  const inode = file.inode;
  if (pos >= inode.sizeBytes) return 0;
  const end = Math.min(inode.sizeBytes, pos + len);
  const f = k.frames;
  let done = 0;
  for (let p = pos; p < end;) {
    const index = Math.floor(p / PAGE_SIZE);
    k.charge(k.costs.pageCacheLookupNs, COST.pageCacheLookup);
    const head = findFolio(inode.mapping, index);
    let n: number;
    if (head >= 0) {
      waitFolioUnlocked(k, head);
      const first = f.index[head]!;
      const folioEnd = (first + (1 << f.order[head]!)) * PAGE_SIZE;
      n = Math.min(folioEnd, end) - p;
      assert(n > 0, 'shmemFileRead: a folio that does not cover the read position');
      if ((f.flags[head]! & PG_uptodate) === 0) {
        if (out) out.fill(0, done, done + n);
      } else {
        if (out) copyOut(k, head, first, p, n, out, done);
        if (p === first * PAGE_SIZE) k.lru.markAccessed(head);
      }
    } else {
      n = Math.min((index + 1) * PAGE_SIZE, end) - p;
      if (out) out.fill(0, done, done + n);
    }
    done += n;
    p += n;
  }
  return done;
}

/** Copies n bytes at file position p out of the folio at `head` (file page `first`). */
function copyOut(k: Kernel, head: number, first: number, p: number, n: number, out: Uint8Array, at: number): void {
  for (let i = 0; i < n; i++) {
    const q = p + i;
    out[at + i] = k.frames.readByte(head + (Math.floor(q / PAGE_SIZE) - first), q % PAGE_SIZE);
  }
}
