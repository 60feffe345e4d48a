// MADV_WILLNEED's readahead (mm/madvise.c madvise_willneed -> vfs_fadvise -> generic_fadvise ->
// force_page_cache_readahead, mm/readahead.c): one call reads at most max(io_pages, ra_pages)
// pages, in 2 MiB chunks, from the start of the range. Shmem and anonymous memory only swap in
// (CONFIG_SWAP, as on the oracle kernels); the model has no swap, so they do nothing.

import type { Kernel } from '../kernel/kernel.ts';
import type { File } from '../fs/fs.ts';
import { pageCacheRa } from './readahead.ts';

/** force_page_cache_ra's chunk: 2 MiB of pages per do_page_cache_ra call. */
const FORCE_RA_CHUNK_PAGES = 512;

/**
 * force_page_cache_ra (mm/readahead.c v6.1; the same in 6.18): readahead of [index, index + nr)
 * capped at max(bdi io_pages, file ra_pages) pages, issued in 2 MiB chunks with no PG_readahead
 * mark. Returns the pages it asked for.
 */
export function forcePageCacheRa(k: Kernel, file: File, index: number, nr: number): number {
  const mapping = file.inode.mapping;
  const maxPages = Math.max(mapping.host.sb.ioPages, file.ra.raPages);
  let left = Math.min(nr, maxPages);
  const asked = left;
  while (left > 0) {
    const chunk = Math.min(FORCE_RA_CHUNK_PAGES, left);
    pageCacheRa(k, mapping, index, chunk, 0);
    index += chunk;
    left -= chunk;
  }
  return asked;
}

/**
 * madvise_willneed (mm/madvise.c v6.1 with CONFIG_SWAP, unchanged in 6.18): anonymous memory
 * (file null) and shmem swap in what is swapped out, here nothing; DAX ignores the advice; a page
 * cache file gets force_page_cache_readahead of the range (vfs_fadvise POSIX_FADV_WILLNEED).
 * Always 0: the errors of fadvise are not returned.
 */
export function madviseWillneedRange(k: Kernel, file: File | null, pgoff: number, pages: number): number {
  if (file === null) return 0;
  const inode = file.inode;
  if (inode.sb.fs.typeName === 'tmpfs' || inode.dax) return 0;
  forcePageCacheRa(k, file, pgoff, pages);
  return 0;
}
