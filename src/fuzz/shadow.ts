// The API fuzzer's shadow model (issue 17): what Linux keeps that a caller can observe, kept as
// simply as possible so that it is obviously right: each file's size and bytes (sparse pages,
// zero elsewhere), and each mapping's range, protection, sharing and its private pages. The fuzzer
// checks every call's result and every load against it.

export const PAGE = 4096;

export class ShadowFile {
  size = 0;
  /** Contents no longer predicted (an access too large to follow wrote it): reads are not checked. */
  fuzzy = false;
  readonly pages = new Map<number, Uint8Array>();
  byte(off: number): number {
    const p = this.pages.get(Math.floor(off / PAGE));
    return p ? p[off % PAGE]! : 0;
  }
  setByte(off: number, v: number): void {
    const i = Math.floor(off / PAGE);
    let p = this.pages.get(i);
    if (!p) { p = new Uint8Array(PAGE); this.pages.set(i, p); }
    p[off % PAGE] = v;
  }
  /** Zero [from, to): pages wholly inside go, partial ones are cleared byte by byte. */
  zero(from: number, to: number): void {
    for (const [i, p] of this.pages) {
      const s = i * PAGE, e = s + PAGE;
      if (e <= from || s >= to) continue;
      if (s >= from && e <= to) { this.pages.delete(i); continue; }
      p.fill(0, Math.max(from, s) - s, Math.min(to, e) - s);
    }
  }
  truncate(n: number): void {
    if (n < this.size) this.zero(n, Infinity);
    this.size = n;
  }
}

export interface ShadowVma {
  start: number; end: number; prot: number; shared: boolean;
  /** VM_LOCKED (MAP_LOCKED): msync with MS_INVALIDATE over it is EBUSY (mm/msync.c). */
  locked: boolean;
  /** VM_MAYWRITE of a shared mapping: shared anonymous memory, or a file opened for writing. */
  maywrite: boolean;
  /** The file mapped (a private shmem file for shared anonymous memory), or null for private anonymous. */
  file: ShadowFile | null; pgoff: number;
  /** Private pages (COW copies of file pages, or anonymous pages) by page index in the file / mapping. */
  priv: Map<number, Uint8Array>;
}

export class ShadowMm {
  vmas: ShadowVma[] = [];
  /** Split so that no VMA crosses `a`. */
  private splitAt(a: number): void {
    const i = this.vmas.findIndex((v) => v.start < a && v.end > a);
    if (i < 0) return;
    const v = this.vmas[i]!;
    const right: ShadowVma = { ...v, start: a, pgoff: v.pgoff + (a - v.start) / PAGE };
    this.vmas.splice(i + 1, 0, right);
    v.end = a;
  }
  /** The VMAs inside [s, e), split at its edges. */
  carve(s: number, e: number): ShadowVma[] {
    this.splitAt(s);
    this.splitAt(e);
    return this.vmas.filter((v) => v.start >= s && v.end <= e);
  }
  unmap(s: number, e: number): void {
    const gone = new Set(this.carve(s, e));
    this.vmas = this.vmas.filter((v) => !gone.has(v));
  }
  insert(v: ShadowVma): void {
    this.unmap(v.start, v.end);
    this.vmas.push(v);
    this.vmas.sort((a, b) => a.start - b.start);
  }
  find(a: number): ShadowVma | null {
    for (const v of this.vmas) if (v.start <= a && a < v.end) return v;
    return null;
  }
  /** Is every page of [s, e) mapped? */
  covered(s: number, e: number): boolean {
    let cur = s;
    for (const v of this.vmas) {
      if (v.end <= cur) continue;
      if (v.start > cur) return false;
      cur = v.end;
      if (cur >= e) return true;
    }
    return cur >= e;
  }
}

/** SIGBUS / SIGSEGV as the API returns them (-signo). */
export const SIGBUS_R = -7, SIGSEGV_R = -11;

/**
 * What a load at `a` gives in Linux: the byte, or -signo (no VMA or PROT_NONE: SIGSEGV; a file
 * page at or past the page holding EOF: SIGBUS, filemap_fault / dax_iomap_fault).
 */
export function shadowLoad(mm: ShadowMm, a: number): number {
  const v = mm.find(a);
  if (!v || (v.prot & 7) === 0) return SIGSEGV_R; // 0x100 marks contents not followed, not a protection
  const rel = a - v.start;
  const idx = v.file ? v.pgoff + Math.floor(rel / PAGE) : Math.floor(a / PAGE);
  if (v.file && idx * PAGE >= Math.ceil(v.file.size / PAGE) * PAGE) return SIGBUS_R;
  const p = v.priv.get(idx);
  if (p) return p[rel % PAGE]!;
  return v.file ? v.file.byte(idx * PAGE + (rel % PAGE)) : 0;
}

/** A store at `a`: 0, or -signo (read-only or PROT_NONE: SIGSEGV; past EOF: SIGBUS). */
export function shadowStore(mm: ShadowMm, a: number, value: number): number {
  const v = mm.find(a);
  if (!v || (v.prot & 2) === 0) return SIGSEGV_R;
  const rel = a - v.start;
  const idx = v.file ? v.pgoff + Math.floor(rel / PAGE) : Math.floor(a / PAGE);
  if (v.file && idx * PAGE >= Math.ceil(v.file.size / PAGE) * PAGE) return SIGBUS_R;
  if (v.shared && v.file) { v.file.setByte(idx * PAGE + (rel % PAGE), value & 255); return 0; }
  let p = v.priv.get(idx);
  if (!p) {
    p = new Uint8Array(PAGE);
    if (v.file) for (let i = 0; i < PAGE; i++) p[i] = v.file.byte(idx * PAGE + i);
    v.priv.set(idx, p);
  }
  p[rel % PAGE] = value & 255;
  return 0;
}
