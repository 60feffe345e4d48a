// The model's side of a real-kernel comparison: runs a scenario in the model (runScenario,
// unchanged) with a report after every step, and reads at each report the same figures
// src/oracle/runner.c prints: rusage deltas, signal, mincore, pagemap bits, smaps and st_blocks.
// Everything here only reads the model's state (page tables through the exported pgtable
// helpers, the page cache through its XArray); the model's hot paths are untouched.

import { runScenario, type RunResult } from '../scenario/run.ts';
import type { Machine, Process } from '../api/machine.ts';
import type { Scenario, Step } from '../scenario/types.ts';
import { pteTableOf, pmdTableOf, pteIndex, pmdIndex } from '../mm/pgtable.ts';
import { _PAGE_PRESENT, _PAGE_PROTNONE, _PAGE_SPECIAL, PMD_SIZE } from '../mm/constants.ts';
import { OWNER_ANON } from '../hw/frames.ts';
import { mincorePage } from '../mm/mincore.ts';
import type { Vma } from '../mm/mm.ts';

/** Per-page bits and smaps figures of one mapping, as runner.c prints them. */
export interface MapFigures {
  va2m: number;
  rss: number; anon: number; ahp: number; fpmd: number;
  /** Run-length strings ("1x16,0x2032"): mincore, present, file-or-shared, exclusive, soft-dirty, zero page, pmem. */
  mc: string; pr: string; fi: string; ex: string; sd: string; zp: string; pm: string;
}

/** One step's figures (the same keys as a runner.c line). */
export interface StepFigures {
  i: number;
  r: number;
  e?: string;
  sig?: string;
  sp?: number;
  min: number;
  maj: number;
  va2m?: number;
  stat?: { size: number; blocks: number };
  /** The bytes the step read, as src/lib/data.ts dataDigest shows them. */
  d?: string;
  maps?: Record<string, MapFigures>;
  files?: Record<string, { size: number; blocks: number }>;
}

/** What the environment of a real run says that the model cannot know (kernel config). */
export interface ModelEnv {
  /** CONFIG_MEM_SOFT_DIRTY: every page of a fresh VMA reads soft-dirty (VM_SOFTDIRTY). */
  softDirty: boolean;
}

/** Run-length encoding of a character sequence, as runner.c's rle_out. */
export function rle(s: string): string {
  const out: string[] = [];
  for (let i = 0; i < s.length;) {
    let j = i;
    while (j < s.length && s[j] === s[i]) j++;
    out.push(`${s[i]}x${j - i}`);
    i = j;
  }
  return out.join(',');
}

const STATE_OPS = new Set<Step['op']>(['access', 'load', 'store', 'report', 'memset', 'memcpy']);

/** Whether runner.c dumps the state after this step: accesses, reports, and syscalls whose buffer is a mapping. */
export function dumpsState(st: Step): boolean {
  if (STATE_OPS.has(st.op)) return true;
  return (st.op === 'read' || st.op === 'pread' || st.op === 'write' || st.op === 'pwrite')
    && st.args.buffer !== undefined;
}
const PREFIX = '__oracle_';

interface MapRec { addr: number; len: number; live: boolean }

/**
 * The scenario with every `expect` dropped and a report after every step, so that each report's
 * rusage is exactly one step's delta and each report is a moment to read the state at.
 */
function instrumented(s: Scenario): Scenario {
  const steps: Step[] = [];
  for (const st of s.steps) {
    steps.push({ ...st, index: steps.length, expect: undefined } as Step);
    steps.push({ op: 'report', args: { name: `${PREFIX}${st.index}` }, index: steps.length, line: st.line,
      thread: undefined, process: undefined, expect: undefined });
  }
  return { ...s, steps };
}

/** mincore of one page as runner.c's mincore_of prints it: '-' outside every VMA (ENOMEM). */
function mincoreChar(m: Machine, vma: Vma | null, va: number): string {
  return vma === null ? '-' : String(mincorePage(m.k, vma, va));
}

/** The file page a VMA maps at `va` (linear_page_index). */
function pgoffOf(vma: Vma, va: number): number {
  return vma.pgoff + Math.floor((va - vma.start) / 4096);
}

interface PageBits { pr: string; fi: string; ex: string; zp: string; pm: string }
const NONE: PageBits = { pr: '0', fi: '0', ex: '0', zp: '0', pm: '0' };

/**
 * The mapcount of DAX page `pfn`, file page `pgoff`, once DAX pages are refcounted folios (6.15+,
 * profile knob daxFolios: dax_insert_pfn and vmf_insert_folio_pmd add an rmap per mapping,
 * mm/rmap.c): the mappings of it the rmap walk over its file's i_mmap finds (rmap_walk_file: each
 * VMA covering `pgoff` at its one address), as folio_precise_page_mapcount counts them. Read-only.
 */
function daxMapcount(vma: Vma, pgoff: number, pfn: number): number {
  if (vma.file === null) return 0;
  let n = 0;
  for (const v of vma.file.inode.mapping.iMmap) {
    const va = v.start + (pgoff - v.pgoff) * 4096;
    if (va < v.start || va >= v.end) continue;
    const pmd = pmdTableOf(v.mm.pgd, va);
    const lf = pmd ? pmd.leafFlags[pmdIndex(va)]! : 0;
    if (lf !== 0) {
      if ((lf & (_PAGE_PRESENT | _PAGE_PROTNONE)) !== 0 && pmd!.leafPfn[pmdIndex(va)]! + pteIndex(va) === pfn) n++;
      continue;
    }
    const t = pteTableOf(v.mm.pgd, va);
    if (t && (t.flags[pteIndex(va)]! & (_PAGE_PRESENT | _PAGE_PROTNONE)) !== 0 && t.pfn[pteIndex(va)] === pfn) n++;
  }
  return n;
}

/**
 * pagemap bits of a huge PMD (fs/proc/task_mmu.c pagemap_pmd_range; 5.10, 6.1, 6.18): present;
 * PM_FILE unless its page is anonymous (pmd_page is taken for DAX and the huge zero page too),
 * from 5.13 only (knob pagemapPmdFile); exclusive when the folio is mapped once: 6.1's devmap
 * DAX pages keep no mapcount, 6.15+ DAX folios do (knob daxFolios).
 */
function pmdBits(m: Machine, vma: Vma, va: number, head: number, pfn: number): PageBits {
  const k = m.k, f = k.frames, p = k.profile;
  const dax = head >= k.pmemBase;
  const file = dax || f.owner[head] !== OWNER_ANON;
  const once = dax ? p.daxFolios && daxMapcount(vma, pgoffOf(vma, va), pfn) === 1
    : head !== k.hugeZeroPfn && f.mapcount[head] === 1;
  return {
    pr: '1', fi: p.pagemapPmdFile && file ? '1' : '0', ex: once ? '1' : '0',
    zp: k.hugeZeroPfn >= 0 && head === k.hugeZeroPfn ? '1' : '0', pm: dax ? '1' : '0',
  };
}

/**
 * /proc/self/pagemap bits of one page (fs/proc/task_mmu.c v6.1 pagemap_pmd_range and
 * pte_to_pagemap_entry; huge PMDs in pmdBits). A PTE: vm_normal_page is NULL for special entries
 * (zero page) and, before 6.15, for DAX (devmap) PFNs, so those have neither PM_FILE nor
 * PM_MMAP_EXCLUSIVE; 6.15+ DAX pages are normal file pages (knob daxFolios).
 */
function pageBits(m: Machine, vma: Vma | null, va: number): PageBits {
  if (vma === null) return NONE;
  const k = m.k, f = k.frames;
  const pmd = pmdTableOf(vma.mm.pgd, va);
  const lf = pmd ? pmd.leafFlags[pmdIndex(va)]! : 0;
  if (lf !== 0) {
    if ((lf & (_PAGE_PRESENT | _PAGE_PROTNONE)) === 0) return NONE;
    const head = pmd!.leafPfn[pmdIndex(va)]!;
    return pmdBits(m, vma, va, head, head + pteIndex(va));
  }
  const t = pteTableOf(vma.mm.pgd, va);
  const fl = t ? t.flags[pteIndex(va)]! : 0;
  if ((fl & (_PAGE_PRESENT | _PAGE_PROTNONE)) === 0) return NONE;
  const pfn = t!.pfn[pteIndex(va)]!;
  const dax = pfn >= k.pmemBase;
  const hz = k.hugeZeroPfn;
  const zp = pfn === f.zeroPfn || (hz >= 0 && pfn >= hz && pfn < hz + 512) ? '1' : '0';
  if (dax) {
    const folio = k.profile.daxFolios;
    const once = folio && daxMapcount(vma, pgoffOf(vma, va), pfn) === 1;
    return { pr: '1', fi: folio ? '1' : '0', ex: once ? '1' : '0', zp, pm: '1' };
  }
  const normal = (fl & _PAGE_SPECIAL) === 0 && pfn !== f.zeroPfn;
  return {
    pr: '1', fi: normal && f.owner[pfn] !== OWNER_ANON ? '1' : '0', ex: normal && f.mapcount[pfn] === 1 ? '1' : '0',
    zp, pm: '0',
  };
}

/** Every figure runner.c's dump_map prints, for the mapping [addr, addr + len) of process p. */
export function mapFigures(m: Machine, p: Process, rec: MapRec, env: ModelEnv): MapFigures {
  const n = Math.ceil(rec.len / 4096); // the VMA (and runner.c's dump_map) covers the last partial page
  const cols = { mc: '', pr: '', fi: '', ex: '', sd: '', zp: '', pm: '' };
  const parts: Record<keyof typeof cols, string[]> = { mc: [], pr: [], fi: [], ex: [], sd: [], zp: [], pm: [] };
  for (let i = 0; i < n; i++) {
    const va = rec.addr + i * 4096;
    const vma = p.vmaAt(va);
    const b = pageBits(m, vma, va);
    parts.mc.push(mincoreChar(m, vma, va));
    parts.pr.push(b.pr); parts.fi.push(b.fi); parts.ex.push(b.ex); parts.zp.push(b.zp); parts.pm.push(b.pm);
    parts.sd.push(vma !== null && env.softDirty ? '1' : '0');
  }
  for (const key of Object.keys(cols) as Array<keyof typeof cols>) cols[key] = rle(parts[key].join(''));
  const sm = p.smaps(rec.addr);
  const num = (key: string): number => (typeof sm === 'number' ? -1 : Number(sm[key] ?? -1));
  return { va2m: rec.addr % PMD_SIZE, rss: num('Rss'), anon: num('Anonymous'), ahp: num('AnonHugePages'),
    fpmd: num('FilePmdMapped'), ...cols };
}

/**
 * Watches each process's mmap/munmap/mremap calls (by instance wrapping, from onMachine) to know
 * each map's range, per process: a forked child starts with copies of its parent's (runner.c's
 * child inherits its parent's table of maps the same way).
 */
class Watcher {
  readonly maps = new Map<string, Map<string, MapRec>>();
  readonly snapshots: Array<Record<string, MapFigures>> = [];
  private readonly procs = new Map<string, Process>();
  private readonly env: ModelEnv;
  /** Per report, in run order: whether runner.c dumps the state there (after access/load/store, at reports). */
  private readonly needed: boolean[];
  /** Per report, in run order: the process whose maps runner.c dumps there. */
  private readonly procOf: string[];
  constructor(env: ModelEnv, needed: boolean[], procOf: string[]) {
    this.env = env;
    this.needed = needed;
    this.procOf = procOf;
  }

  attach(m: Machine): void {
    const process = m.process.bind(m);
    m.process = (name?: string): Process => {
      const p = process(name);
      const pn = name ?? 'main';
      if (!this.procs.has(pn)) this.watch(p, pn, new Map());
      return p;
    };
    const fork = m.fork.bind(m);
    m.fork = (parent: Process, name: string): Process => {
      const c = fork(parent, name);
      const pn = [...this.procs].find(([, q]) => q === parent)?.[0];
      const inherited = new Map<string, MapRec>();
      for (const [k, rec] of this.maps.get(pn ?? '') ?? []) inherited.set(k, { ...rec });
      this.watch(c, name, inherited);
      return c;
    };
    const meminfo = m.meminfo.bind(m);
    m.meminfo = (): Record<string, number> => {
      this.snapshot(m);
      return meminfo();
    };
  }

  private watch(p: Process, pn: string, maps: Map<string, MapRec>): void {
    this.procs.set(pn, p);
    this.maps.set(pn, maps);
    const mmap = p.mmap.bind(p), munmap = p.munmap.bind(p), mremap = p.mremap.bind(p);
    p.mmap = (addr, len, prot, flags, fd, off, name = ''): number => {
      const r = mmap(addr, len, prot, flags, fd, off, name);
      if (r >= 0) maps.set(name, { addr: r, len, live: true });
      return r;
    };
    p.munmap = (addr, len): number => {
      const r = munmap(addr, len);
      for (const rec of maps.values()) {
        if (r === 0 && addr <= rec.addr && addr + len >= rec.addr + rec.len) rec.live = false;
      }
      return r;
    };
    p.mremap = (addr, oldLen, newLen, flags, newAddr): number => {
      const r = mremap(addr, oldLen, newLen, flags, newAddr);
      // The map follows its range as the scenario runner's handler has it (steps/procs.ts).
      for (const rec of maps.values()) {
        if (r < 0 || !rec.live || addr < rec.addr || addr >= rec.addr + rec.len) continue;
        const off = addr - rec.addr;
        if (off === 0 && oldLen >= rec.len) { rec.addr = r; rec.len = newLen; }
        else if (off + newLen <= rec.len && r === addr) rec.len = off + newLen;
        break;
      }
      return r;
    };
  }

  private snapshot(m: Machine): void {
    const out: Record<string, MapFigures> = {};
    const k = this.snapshots.length;
    const pn = this.procOf[k] ?? 'main';
    const p = this.procs.get(pn);
    if (p !== undefined && this.needed[k] === true) {
      for (const [name, rec] of this.maps.get(pn)!) if (rec.live) out[name] = mapFigures(m, p, rec, this.env);
    }
    this.snapshots.push(out);
  }
}

export interface ModelRun {
  profile: string;
  steps: StepFigures[];
}

function stepFigures(st: Step, sr: RunResult['steps'][number], rep: RunResult['reports'][string],
  maps: Record<string, MapFigures>): StepFigures {
  const r = typeof sr.result === 'number' ? sr.result : 0;
  const out: StepFigures = { i: st.index, r, min: rep.rusage.minflt, maj: rep.rusage.majflt };
  if (sr.signal !== undefined) { out.sig = sr.signal.signal; out.sp = sr.signal.page; }
  else if (sr.errno !== undefined) out.e = sr.errno === 'ENOTSUP' ? 'EOPNOTSUPP' : sr.errno;
  if (st.op === 'mmap' && r >= 0) out.va2m = r % PMD_SIZE;
  if (st.op === 'stat' && typeof sr.result === 'object') {
    const o = sr.result as { sizeBytes: number; blocks: number };
    out.stat = { size: o.sizeBytes, blocks: o.blocks };
  }
  if (sr.data !== undefined) out.d = sr.data;
  if (dumpsState(st)) {
    out.maps = maps;
    out.files = {};
    for (const [path, f] of Object.entries(rep.files)) out.files[path] = { size: f.sizeBytes, blocks: f.blocks };
  }
  return out;
}

/**
 * Runs `s` in the model with `profile` (undefined: the scenario's own) and returns, per step,
 * the figures runner.c prints on a real kernel.
 */
export function modelRun(s: Scenario, env: ModelEnv, profile?: string): ModelRun {
  const inst = instrumented(profile === undefined ? s : { ...s, kernel: { ...s.kernel, profile } });
  const reportSteps = inst.steps.filter((st) => st.op === 'report');
  const needed = reportSteps.map((st) => {
    const name = (st.args as { name: string }).name;
    const i = name.startsWith(PREFIX) ? Number(name.slice(PREFIX.length)) : -1;
    return i >= 0 && dumpsState(s.steps[i]!);
  });
  const procOf = reportSteps.map((st) => {
    const name = (st.args as { name: string }).name;
    const i = name.startsWith(PREFIX) ? Number(name.slice(PREFIX.length)) : -1;
    return (i >= 0 ? s.steps[i]!.process : st.process) ?? 'main';
  });
  const w = new Watcher(env, needed, procOf);
  const res = runScenario(inst, { collectHostTime: false, onMachine: (m) => w.attach(m) });
  if (reportSteps.length !== w.snapshots.length) {
    throw new Error(`model-side: ${w.snapshots.length} state snapshots for ${reportSteps.length} reports`);
  }
  const snapOf = new Map<string, Record<string, MapFigures>>();
  reportSteps.forEach((st, k) => snapOf.set((st.args as { name: string }).name, w.snapshots[k]!));
  const steps = s.steps.map((st) => {
    const name = `${PREFIX}${st.index}`;
    const rep = res.reports[name];
    const sr = res.steps[2 * st.index];
    if (!rep || !sr) throw new Error(`model-side: no result for step ${st.index}`);
    return stepFigures(st, sr, rep, snapOf.get(name) ?? {});
  });
  return { profile: res.profile, steps };
}
