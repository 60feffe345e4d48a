// Text output of `daxsim run`: the step table and reports of one variant, the side-by-side table
// of several (one column per variant, within 120 columns), and the `--trace` (daxsim format) line.

import type { Report, StepResult } from '../scenario/run.ts';
import type { FaultTraceEvent, Kernel } from '../kernel/kernel.ts';
import type { VariantJson } from './result-json.ts';

export function formatOutcome(s: StepResult): string {
  if (s.signal !== undefined) return `${s.signal.signal} at page ${s.signal.page} (0x${s.signal.addr.toString(16)})`;
  if (typeof s.result !== 'number') return JSON.stringify(s.result);
  if (s.errno !== undefined) return `-1 ${s.errno}`;
  if (s.op === 'mmap') return `0x${s.result.toString(16)}`;
  return String(s.result);
}

function nonZero(rec: Record<string, number>): string[] {
  return Object.entries(rec).filter(([, v]) => v !== 0).map(([k, v]) => `${k}=${v}`);
}

function reportLines(name: string, r: Report): string[] {
  const out = [`\nreport ${name}:`];
  const line = (label: string, items: string[]): void => {
    if (items.length > 0) out.push(`  ${label.padEnd(8)} ${items.join(' ')}`);
  };
  line('vmstat', nonZero(r.vmstat));
  line('rusage', nonZero(r.rusage));
  line('events', nonZero(r.events));
  line('meminfo', nonZero(r.meminfo).map((x) => `${x}kB`));
  for (const [map, f] of Object.entries(r.smaps)) {
    const fields = Object.entries(f).filter(([, v]) => v !== 0 && v !== '');
    line(`smaps ${map}`, fields.map(([k, v]) => `${k}=${typeof v === 'number' ? `${v}kB` : JSON.stringify(v)}`));
  }
  for (const [path, f] of Object.entries(r.files)) {
    line('file', [`${path} sizeBytes=${f.sizeBytes} blocks=${f.blocks}`]);
  }
  return out;
}

/** Rows padded into columns; numeric columns (given by index) right-aligned. */
export function columns(head: string[], rows: string[][], right: (i: number) => boolean): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const cell = (c: string, i: number): string => (right(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!));
  return [head, ...rows].map((row) => row.map(cell).join('  ').trimEnd());
}

/** One variant: the step table (simulated ns per step) and each report. */
export function formatVariant(v: VariantJson): string {
  const out = [`${v.name} (profile ${v.profile})\n`];
  const rows = v.steps.map((s) => [String(s.index), s.op, formatOutcome(s), String(s.simNs)]);
  out.push(...columns(['step', 'op', 'result', 'simNs'], rows, (i) => i === 3));
  for (const [name, rep] of Object.entries(v.reports)) out.push(...reportLines(name, rep));
  return out.join('\n');
}

/** Every counter of every report, as "report.group.name" -> value (the rows of the side-by-side table). */
export function flatCounters(v: VariantJson): Map<string, number> {
  const m = new Map<string, number>();
  for (const [rep, r] of Object.entries(v.reports)) {
    for (const group of ['vmstat', 'rusage', 'events', 'meminfo'] as const) {
      const unit = group === 'meminfo' ? ' (kB)' : '';
      const g = r[group] as Record<string, number>;
      for (const [k, val] of Object.entries(g)) m.set(`${rep} ${group}.${k}${unit}`, val);
    }
    for (const [path, f] of Object.entries(r.files)) {
      m.set(`${rep} ${path} sizeBytes`, f.sizeBytes);
      m.set(`${rep} ${path} blocks (512 B)`, f.blocks);
    }
  }
  for (const s of v.steps) m.set(`step ${s.index} ${s.op} simNs`, s.simNs);
  if (v.breakdown) {
    for (const [cat, ns] of Object.entries(v.breakdown.total.byCategoryNs)) m.set(`time ${cat} (ns)`, ns);
    for (const s of v.breakdown.steps) {
      for (const [cat, ns] of Object.entries(s.byCategoryNs)) m.set(`step ${s.index} ${s.op} ${cat} (ns)`, ns);
    }
    for (const [kind, f] of Object.entries(v.breakdown.faults)) m.set(`faults ${kind}`, f.count);
  }
  return m;
}

const MAX_WIDTH = 120;

/**
 * Variants side by side: a row per counter that is non-zero in some variant, a column per
 * variant. Columns that do not fit in 120 characters go to a further table with the same rows.
 */
export function formatSideBySide(name: string, variants: VariantJson[], keys: string[]): string {
  const flats = variants.map(flatCounters);
  const all: string[] = [];
  const seen = new Set<string>();
  for (const f of flats) for (const k of f.keys()) if (!seen.has(k)) { seen.add(k); all.push(k); }
  const rowNames = all.filter((k) => flats.some((f) => (f.get(k) ?? 0) !== 0));
  const labelWidth = Math.min(56, Math.max(...rowNames.map((r) => r.length), 7));
  const colWidth = (i: number): number =>
    Math.max(keys[i]!.length, ...rowNames.map((r) => String(flats[i]!.get(r) ?? 0).length));
  const out = [`${name}: ${variants.length} variants\n`];
  let start = 0;
  while (start < variants.length) {
    let width = labelWidth, end = start;
    while (end < variants.length && (end === start || width + 2 + colWidth(end) <= MAX_WIDTH)) {
      width += 2 + colWidth(end++);
    }
    const label = (s: string): string => (s.length > labelWidth ? `${s.slice(0, labelWidth - 1)}~` : s);
    const head = ['counter', ...keys.slice(start, end)];
    const rows = rowNames.map((r) => [label(r), ...flats.slice(start, end).map((f) => String(f.get(r) ?? 0))]);
    out.push(...columns(head, rows, (i) => i > 0), '');
    start = end;
  }
  return out.join('\n');
}

/** Where a fault landed: "<path> page N", "anon", or "?" outside any VMA. */
export function faultWhere(k: Kernel, e: FaultTraceEvent): string {
  const task = k.tasks.find((t) => t.tid === e.tid);
  const vma = task ? task.process.mm.findVma(e.addr) : null;
  if (!vma || vma.start > e.addr) return '?';
  return vma.file ? `${vma.file.path} page ${vma.pgoff + Math.floor((e.addr - vma.start) / 4096)}` : 'anon';
}

/** One `--trace` line: time, task, access, outcome, entries installed, latency, file page. */
export function formatFault(e: FaultTraceEvent & { where: string }): string {
  const sig = e.signal === 7 ? 'SIGBUS' : e.signal === 11 ? 'SIGSEGV' : e.signal === 9 ? 'SIGKILL' : '';
  const pmd = e.pmdLeaves > 0 ? `(${e.pmdLeaves} PMD) ` : '';
  const mapped = e.entries === 0 ? 'no new entry' : `+${e.entries} ${pmd}entr${e.entries === 1 ? 'y' : 'ies'}`;
  const start = (e.startNs / 1000).toFixed(3).padStart(12);
  const latency = ((e.endNs - e.startNs) / 1000).toFixed(2).padStart(8);
  return `fault ${start} us  ${e.task.padEnd(8)} ${e.write ? 'write' : 'read '} 0x${e.addr.toString(16)}  ` +
    `${(sig || e.counted).padEnd(7)} ${mapped.padEnd(20)} ${latency} us  ${e.where}`;
}
