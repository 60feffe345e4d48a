/**
 * tmpfs size limits (mm/shmem.c, 5.10 to 6.18): the `size=` and `nr_blocks=` mount options
 * (shmem_parse_one), the default of half of RAM (shmem_default_max_blocks), and the block counter
 * each page allocation is checked against (shmem_inode_acct_blocks; before 6.6 the same test as
 * shmem_inode_acct_block). A failed check is ENOSPC, never ENOMEM, so that a write is short, a
 * fallocate fails and a fault on a hole of a mapped file is SIGBUS instead of an OOM kill.
 */

/**
 * shmem_sb_info's max_blocks and used_blocks. With no swap, a shmem inode's allocated blocks are
 * its page-cache pages, so the page cache keeps `usedPages` (pagemap.ts addNewFolio and
 * removeFolio). `maxPages` 0 is unlimited (`size=0`, and the kernel's internal shm mount).
 */
export class BlockLimit {
  usedPages = 0;
  readonly maxPages: number;
  constructor(maxPages: number) { this.maxPages = maxPages; }
  /** shmem_inode_acct_blocks: may `n` more pages be allocated? (false: ENOSPC) */
  fits(n: number): boolean { return this.maxPages === 0 || this.usedPages + n <= this.maxPages; }
}

/** Options the model knows how tmpfs takes: its own keys and the generic mount flags mount(8) passes on. */
const FLAG_OPTIONS = new Set(['ro', 'rw', 'noatime', 'relatime', 'strictatime', 'nodiratime', 'nosuid', 'nodev',
  'noexec', 'sync', 'async', 'lazytime', 'defaults']);
const IGNORED_KEYS = new Set(['nr_inodes', 'mode', 'uid', 'gid', 'mpol']);

/** memparse (lib/cmdline.c): a number with an optional K, M, G, T, P or E suffix (either case); null if bad. */
function memparse(text: string): number | null {
  const m = /^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)([kmgtpe]?)$/i.exec(text);
  if (!m) return null;
  const v = m[1]!.startsWith('0x') ? parseInt(m[1]!, 16) : m[1]!.length > 1 && m[1]!.startsWith('0')
    ? parseInt(m[1]!, 8) : parseInt(m[1]!, 10);
  const shift = ' kmgtpe'.indexOf((m[2] || ' ').toLowerCase()) * 10;
  const r = v * 2 ** shift;
  return Number.isSafeInteger(r) ? r : null;
}

/**
 * The tmpfs block limit in pages from mount options (shmem_parse_one, shmem_fill_super): `size=`
 * bytes (rounded up to pages) or a percentage of RAM, `nr_blocks=` pages, else half of RAM.
 * Returns the page count (0: unlimited), or an error string naming the bad option, as mount(2)'s
 * EINVAL with the kernel log's reason.
 */
export function tmpfsMaxPages(options: readonly string[], totalRamPages: number): number | string {
  let max = Math.floor(totalRamPages / 2);
  for (const o of options) {
    const eq = o.indexOf('=');
    const key = eq < 0 ? o : o.slice(0, eq), val = eq < 0 ? '' : o.slice(eq + 1);
    if (eq < 0 && FLAG_OPTIONS.has(o)) continue;
    if (IGNORED_KEYS.has(key)) continue;
    if (key === 'huge') {
      if (val !== 'never' && val !== 'deny') return `tmpfs: huge=${val}: shmem huge pages are not modelled (use never)`;
      continue;
    }
    if (key === 'size') {
      const pct = val.endsWith('%');
      const n = memparse(pct ? val.slice(0, -1) : val);
      if (n === null) return `tmpfs: Bad value for 'size': ${val}`;
      // A percentage is of RAM in bytes, rounded down, then up to whole pages (DIV_ROUND_UP).
      max = Math.ceil((pct ? Math.floor(n * 4096 * totalRamPages / 100) : n) / 4096);
      continue;
    }
    if (key === 'nr_blocks') {
      const n = memparse(val);
      if (n === null) return `tmpfs: Bad value for 'nr_blocks': ${val}`;
      max = n;
      continue;
    }
    return `tmpfs: Unknown parameter '${key}'`;
  }
  return max;
}
