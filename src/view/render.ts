// DOM rendering of inspection snapshots (src/inspect/) for the browser view. Pure functions from
// snapshot data to HTML strings; no model code runs here.

import type { Snapshot, Timeline, LastFault, FaultRecord } from '../inspect/stepper.ts';
import type { PmdView, PteTableView, LeafView } from '../inspect/pgtable.ts';
import type { FileCacheView } from '../inspect/pagecache.ts';

export const hex = (n: number): string => '0x' + n.toString(16);
const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const kib = (n: number): string => (n >= 1024 ? `${(n / 1024).toFixed(n % 1024 ? 1 : 0)} MiB` : `${n} KiB`);

/** The steps list, the current one highlighted, each with its result and fault count. */
/** The steps; with `hideAhead` (quiz mode) the results and fault counts of steps not yet run are hidden. */
export function stepsHtml(tl: Timeline, ops: string[], current: number, done: number, hideAhead = false): string {
  const faults = new Map<number, number>();
  for (const f of tl.faults) faults.set(f.step, (faults.get(f.step) ?? 0) + 1);
  return ops.map((op, i) => {
    const sr = tl.steps[i];
    const cls = i === current ? 'current' : i < done ? 'done' : 'todo';
    const res = sr ? (sr.signal ? ` → ${sr.signal.signal}` : sr.errno ? ` → -1 ${sr.errno}` :
      typeof sr.result === 'number' ? ` → ${sr.op === 'mmap' ? hex(sr.result) : sr.result}` : '') : '';
    const n = faults.get(i);
    const nf = n ? ` <span class="faults">${n} fault${n > 1 ? 's' : ''}</span>` : '';
    if (hideAhead && cls === 'todo') return `<li class="${cls}" data-step="${i}">${esc(op)}</li>`;
    return `<li class="${cls}" data-step="${i}">${esc(op)}${esc(res)}${nf}</li>`;
  }).join('');
}

function faultLine(f: FaultRecord): string {
  const sig = f.signal === 7 ? ' SIGBUS' : f.signal === 11 ? ' SIGSEGV' : f.signal === 9 ? ' SIGKILL' : '';
  return `#${f.n} ${esc(f.task)} ${f.write ? 'write' : 'read'} ${hex(f.addr)} ${f.counted}${sig}, ` +
    `${f.entries} entr${f.entries === 1 ? 'y' : 'ies'}${f.pmdLeaves ? ` (${f.pmdLeaves} PMD)` : ''}, ` +
    `${((f.endNs - f.startNs) / 1000).toFixed(2)} µs, ${esc(f.where)}` +
    (f.retries ? `, ${f.retries} retr${f.retries > 1 ? 'ies' : 'y'}` : '') + (f.waits ? `, ${f.waits} waits` : '');
}

/** The last fault: what it was, the entries it installed and its fault-around window. */
export function lastFaultHtml(lf: LastFault | null): string {
  if (lf === null) return '<p class="mono">no fault in this step yet</p>';
  const w = lf.window ? `<p class="mono" id="fa-window">fault-around window: ${hex(lf.window.startVa)}–` +
    `${hex(lf.window.endVa)} (file pages ${lf.window.firstPgoff}–${lf.window.lastPgoff})</p>` : '';
  const rows = lf.installed.slice(0, 24).map((l) => `<tr><td>${hex(l.va)}</td>` +
    `<td>${l.flags.includes('PSE') ? 'PMD' : 'PTE'}` +
    `</td><td>${l.pfn}</td><td>${l.flags}</td><td>${l.x86}</td></tr>`).join('');
  const more = lf.installed.length > 24 ? `<tr><td colspan="5">… ${lf.installed.length - 24} more</td></tr>` : '';
  return `<p class="mono" id="fault-line">${faultLine(lf.fault)}</p>${w}` +
    '<table id="installed"><tr><th>VA</th><th>level</th><th>PFN</th><th>flags</th><th>x86 entry</th></tr>' +
    `${rows}${more}</table>`;
}

function inWindow(va: number, lf: LastFault | null): boolean {
  return lf?.window !== null && lf !== null && lf.window !== null && va >= lf.window.startVa && va < lf.window.endVa;
}

function gridHtml(t: PteTableView, lf: LastFault | null): string {
  const byIndex = new Map<number, LeafView>(t.ptes.map((p) => [p.index, p]));
  let cells = '';
  for (let i = 0; i < 512; i++) {
    const p = byIndex.get(i);
    const va = t.va + i * 4096;
    const cls = ['pte'];
    if (p) cls.push('present', ...(p.flags.split('|').includes('RW') ? ['rw'] : []), ...(p.mark ? [p.mark] : []));
    if (inWindow(va, lf)) cls.push('win');
    const title = `PTE[${i}] ${hex(va)}${p ? ` PFN ${p.pfn} ${p.flags}` : ' empty'}`;
    cells += `<div class="${cls.join(' ')}" data-va="${va}" title="${title}"></div>`;
  }
  return `<div class="grid">${cells}</div>`;
}

function pmdHtml(m: PmdView, lf: LastFault | null, uva: number): string {
  const leaves = m.huge.map((h) => `<div class="pmd-leaf${h.mark === 'new' ? ' new' : ''}" data-va="${h.va}">` +
    `PMD[${h.index}] ${hex(h.va)} huge 2 MiB → PFN ${h.pfn} ${h.flags} ${h.x86}` +
    `${h.mark ? ` (${h.mark})` : ''}</div>`);
  const tables = m.tables.map((t) => {
    const hot = t.ptes.some((p) => p.mark) || inWindow(t.va, lf) || inWindow(t.va + 2 ** 21 - 4096, lf);
    const nNew = t.ptes.filter((p) => p.mark === 'new').length;
    return `<details class="node pte-table" ${hot ? 'open' : ''}><summary>PMD[${t.index}] → PTE table ` +
      `(frame ${t.framePfn}) ${hex(t.va)}: ${t.used} present${nNew ? `, <b>${nNew} new</b>` : ''}</summary>` +
      `${gridHtml(t, lf)}</details>`;
  });
  return `<details class="node" open><summary>PUD[${m.index}] → PMD table (frame ${m.framePfn}) ${hex(uva)}: ` +
    `${m.used} used</summary><div class="level">${leaves.join('')}${tables.join('')}</div></details>`;
}

/** The page-table tree of each process. */
export function pageTableHtml(snap: Snapshot): string {
  const lf = snap.lastFault;
  const item = (style: string, label: string): string => `<span><i style="${style}"></i>${label}</span>`;
  const legend = `<div class="legend">${item('background:#7aa7d6', 'present')}` +
    `${item('background:#3f7fbf', 'writable')}` +
    `${item('background:#f08c00', 'new')}${item('background:#c2255c', 'changed')}` +
    `${item('border:2px solid #2b8a3e', 'fault-around window')} (marks since the ${snap.marksSince})</div>`;
  return legend + snap.processes.map((p) => {
    const pt = p.pageTable;
    const vmas = p.vmas.map((v) => `${hex(v.start)}-${hex(v.end)} ${v.file ? esc(v.file) : 'anon'}`).join('; ');
    const puds = pt.puds.map((u) => `<details class="node" open><summary>PGD[${u.index}] → PUD table (frame ` +
      `${u.framePfn}) ${hex(u.va)}</summary><div class="level">` +
      `${u.pmds.map((m) => pmdHtml(m, lf, m.va)).join('')}</div></details>`);
    return `<div class="node"><b>${esc(p.name)}</b> (pid ${p.pid}): PGD frame ${pt.pgdFramePfn}, ${pt.ptes} PTEs, ` +
      `${pt.hugePmds} huge PMDs, ${pt.tablePages} table pages<br><span class="hint">VMAs: ${vmas || 'none'}</span>` +
      `<div class="level">${puds.join('')}</div></div>`;
  }).join('');
}

/** One leaf in detail: every x86 bit by name. */
export function entryHtml(snap: Snapshot, va: number): string {
  for (const p of snap.processes) for (const u of p.pageTable.puds) for (const m of u.pmds) {
    const l = m.huge.find((h) => h.va === va) ?? m.tables.flatMap((t) => t.ptes).find((x) => x.va === va);
    if (!l) continue;
    const on = new Set(l.flags.split('|'));
    const names = ['P', 'RW', 'U', 'PWT', 'PCD', 'A', 'D', 'PSE', 'G', 'SPECIAL', 'SW2', 'SOFTDIRTY', 'DEVMAP', 'NX'];
    const bits = names.map((n) => `<td class="${on.has(n) ? 'on' : ''}">${n}</td>`).join('');
    return `${hex(va)}: PFN ${l.pfn}, entry ${l.x86}<table class="bits"><tr>${bits}</tr></table>`;
  }
  return `${hex(va)}: not present`;
}

function runRow(r: FileCacheView['runs'][number]): string {
  const flags = r.flags.map((f) => `<span class="flag ${f}">${esc(f)}</span>`).join('');
  const marks = r.marks.map((f) => `<span class="flag ${f}">${f}</span>`).join('');
  const range = r.firstIndex === r.lastIndex ? `${r.firstIndex}` : `${r.firstIndex}–${r.lastIndex}`;
  return `<tr class="run ${r.kind}"><td>${range}</td><td>${r.kind}${r.entries > 1 ? ` ×${r.entries}` : ''}</td>` +
    `<td>${r.order}</td><td>${r.pfn >= 0 ? r.pfn : ''}</td><td>${flags}${marks}</td></tr>`;
}

/** Each file's page cache: runs of alike XArray entries. */
export function cacheHtml(caches: FileCacheView[]): string {
  if (caches.length === 0) return '<p class="mono">no files</p>';
  return caches.map((c) => {
    const rows = c.runs.slice(0, 60).map(runRow).join('');
    const more = c.runs.length > 60 ? `<tr><td colspan="5">… ${c.runs.length - 60} more runs</td></tr>` : '';
    return `<div class="node"><b>${esc(c.path)}</b> ${c.dax ? 'S_DAX ' : ''}size ${c.sizeBytes}, nrpages ${c.nrpages}` +
      `<table class="cache"><tr><th>index</th><th>entry</th><th>order</th><th>PFN</th><th>flags, marks</th></tr>` +
      `${rows}${more}</table></div>`;
  }).join('');
}

/** Counters after the steps so far, as a table (Rss, PageTables, Cached in kB; pgfault; commits). */
export function countersHtml(tl: Timeline, upToStep: number, other: Timeline | null): string {
  const keys = ['Rss', 'PageTables', 'Cached', 'pgfault', 'journalCommits'] as const;
  const rows = tl.counters.filter((c) => c.step <= upToStep).slice(-12).map((c) => {
    const o = other?.counters.find((x) => x.step === c.step);
    const cells = keys.map((k) => {
      const v = k === 'pgfault' || k === 'journalCommits' ? String(c[k]) : kib(c[k]);
      const d = o && o[k] !== c[k] ? ` class="diff" title="other profile: ${o[k]}"` : '';
      const ov = o && o[k] !== c[k] ? ` / ${k === 'pgfault' || k === 'journalCommits' ? o[k] : kib(o[k])}` : '';
      return `<td${d}>${v}${ov}</td>`;
    }).join('');
    return `<tr><td>${c.step}</td>${cells}</tr>`;
  }).join('');
  return `<table id="counter-table"><tr><th>step</th>${keys.map((k) => `<th>${k}</th>`).join('')}</tr>${rows}</table>`;
}

/** A lane per task; each fault a tick (major red, minor blue, signal black), the current one ringed. */
export function timelineSvg(tl: Timeline, current: number): string {
  const fs = tl.faults;
  if (fs.length === 0) return '<p class="mono">no faults</p>';
  const tasks = [...new Set(fs.map((f) => f.task))];
  const t0 = Math.min(...fs.map((f) => f.startNs)), t1 = Math.max(...fs.map((f) => f.endNs), t0 + 1);
  const W = 360, lane = 22, H = tasks.length * lane + 18;
  const x = (t: number): number => 40 + ((t - t0) / (t1 - t0)) * (W - 46);
  const ticks = fs.map((f) => {
    const y = tasks.indexOf(f.task) * lane + 4;
    const col = f.signal ? '#000' : f.counted === 'major' ? '#c92a2a' : '#1c7ed6';
    const w = Math.max(1, x(f.endNs) - x(f.startNs)).toFixed(1);
    return `<rect x="${x(f.startNs).toFixed(1)}" y="${y}" width="${w}" ` +
      `height="${lane - 8}" fill="${col}"${f.n === current ? ' stroke="#f08c00" stroke-width="3"' : ''}/>`;
  }).join('');
  const labels = tasks.map((t, i) => `<text x="2" y="${i * lane + 16}">${esc(t)}</text>`).join('');
  return `<svg width="${W}" height="${H}" role="img" aria-label="fault timeline">${labels}${ticks}` +
    `<text x="40" y="${H - 2}">${(t0 / 1e6).toFixed(3)} ms</text>` +
    `<text x="${W - 70}" y="${H - 2}">${(t1 / 1e6).toFixed(3)} ms` +
    `</text></svg><div class="hint">${fs.length} faults${tl.faultsTruncated ? ' (first 50000 shown)' : ''}; ` +
    'red major, blue minor, black signal</div>';
}
