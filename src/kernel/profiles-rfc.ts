/**
 * The RFC profiles: a posted patch series modelled "as posted" on the release it applied to
 * (profile-bases.ts). Each is that base plus the knobs the series changes; a series that swaps
 * a vm_ops callback also has a row in the filesystem's vm_ops table (src/fs/ext4/ext4.ts).
 */
import { defineProfile, type KernelProfile } from './knobs.ts';
import { base315, base618, dax2014 } from './profile-bases.ts';

/** Seed 001: Shutemov, Feb 2014, on 3.14: ->fault fills a naturally aligned 32-page array. */
export const rfcShutemov2014: KernelProfile = defineProfile({
  ...base315,
  name: 'rfc-shutemov-2014',
  description: 'Seed 001: Shutemov Feb 2014 RFC on 3.14, ->fault fills a naturally aligned 32-page array',
  faultAroundStyle: 'rfc-page-array',
  faultAroundBytes: 32 * 4096,
  faultAroundSkipPopulatedStart: false,
});

/** Seed 000: Kani, Mar 2014, on the 2014 DAX patchset: ext4_dax_vm_ops gain ->map_pages = dax_map_pages. */
export const rfcKani2014: KernelProfile = defineProfile({
  ...dax2014,
  name: 'rfc-kani-2014',
  description: 'Seed 000: Kani Mar 2014, dax_map_pages as posted (exclusive window end, get_block per page, ' +
    'i_mmap_mutex under the PTE lock)',
  daxMapPages: 'kani-2014',
});

/** Seed 002: Wilcox, Mar 2014: one tree entry per DAX page caching the PFN, with Dirty and Lock bits. */
export const rfcWilcox2014: KernelProfile = defineProfile({
  ...dax2014,
  name: 'rfc-wilcox-2014',
  description: 'Seed 002: Wilcox Mar 2014, one tree entry per DAX page caching the PFN with Dirty and Lock bits; ' +
    'msync flushes dirty entries only',
  daxEntries: 'entries',
  daxEntryCachesPfn: true,
  daxWritebackFlush: true,
  // The Dirty bit must be set again when a cleaned page is written; the post does not say how,
  // so the profile uses the mechanism merged for exactly that (dax_pfn_mkwrite, 4.5).
  daxPfnMkwrite: 'dax_pfn_mkwrite',
});

/**
 * This project's example RFC on the 6.18 base (issue 10): DAX fault-around that maps only the
 * pages whose XArray entry already holds a media PFN (src/dax/map-pages.ts), so a re-read after
 * MADV_DONTNEED, or a second mapping of a file another mapping faulted in, takes one fault per
 * window instead of one per page, with no iomap_begin. Not a posted patch.
 */
export const rfcDaxEntryPfn: KernelProfile = defineProfile({
  ...base618,
  name: 'rfc-dax-entry-pfn',
  description: 'Example RFC on 6.18: DAX ->map_pages maps pages whose entry already holds a PFN (no iomap_begin)',
  daxMapPages: 'entry-pfn',
});
