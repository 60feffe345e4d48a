// Where the simulated time goes: the cost categories (lib/cost-category.ts) summed per step (over
// every task, so background threads count) and per fault kind, like `perf report` sorts samples
// by symbol. Collected from Task.costNs and the fault hook; the model itself keeps only the arrays.

import { COST_LABELS, COST_NAMES, N_COST, costNsOf } from '../lib/cost-category.ts';
import type { FaultTraceEvent, Kernel } from '../kernel/kernel.ts';

/** Nanoseconds per category name (only categories with time in them). */
export type ByCategory = Record<string, number>;

export interface BreakdownRow {
  totalNs: number;
  byCategoryNs: ByCategory;
}

export interface StepBreakdown extends BreakdownRow {
  index: number;
  op: string;
}

export interface FaultKindBreakdown extends BreakdownRow {
  count: number;
}

export interface Breakdown {
  total: BreakdownRow;
  steps: StepBreakdown[];
  /** Keyed "read minor PTE", "write major PMD", "read SIGBUS"... */
  faults: Record<string, FaultKindBreakdown>;
}

function row(arr: Float64Array): BreakdownRow {
  const byCategoryNs: ByCategory = {};
  let totalNs = 0;
  for (let i = 0; i < N_COST; i++) {
    const v = Math.round(arr[i]!);
    if (v === 0) continue;
    byCategoryNs[COST_NAMES[i]!] = v;
    totalNs += v;
  }
  return { totalNs, byCategoryNs };
}

const SIGNALS: Record<number, string> = { 7: 'SIGBUS', 9: 'SIGKILL', 11: 'SIGSEGV' };

/** The fault kind a trace event belongs to. */
export function faultKind(e: FaultTraceEvent): string {
  const rw = e.write ? 'write' : 'read';
  if (e.signal !== 0) return `${rw} ${SIGNALS[e.signal] ?? `signal ${e.signal}`}`;
  const size = e.pmdLeaves > 0 ? 'PMD' : e.entries === 0 ? 'no entry' : 'PTE';
  return `${rw} ${e.counted === 'none' ? 'uncounted' : e.counted} ${size}`;
}

/** Collects a Breakdown while a scenario runs: attach onFault to the fault hook, call step() after each step. */
export class BreakdownCollector {
  private readonly k: Kernel;
  private readonly last = new Float64Array(N_COST);
  private readonly now = new Float64Array(N_COST);
  private readonly faultArrays = new Map<string, { count: number; ns: Float64Array }>();
  readonly steps: StepBreakdown[] = [];

  private readonly one = new Float64Array(N_COST);

  constructor(k: Kernel) {
    this.k = k;
  }

  private sum(into: Float64Array): void {
    into.fill(0);
    const one = this.one;
    for (const t of this.k.tasks) {
      costNsOf(t, this.k.costs.accessHitNs, one);
      for (let i = 0; i < N_COST; i++) into[i]! += one[i]!;
    }
  }

  /** Baseline after the mounts: their cost is in no step. */
  start(): void {
    this.sum(this.last);
  }

  step(index: number, op: string): void {
    this.sum(this.now);
    const d = new Float64Array(N_COST);
    for (let i = 0; i < N_COST; i++) d[i] = this.now[i]! - this.last[i]!;
    this.last.set(this.now);
    this.steps.push({ index, op, ...row(d) });
  }

  onFault(e: FaultTraceEvent): void {
    const kind = faultKind(e);
    let f = this.faultArrays.get(kind);
    if (f === undefined) {
      f = { count: 0, ns: new Float64Array(N_COST) };
      this.faultArrays.set(kind, f);
    }
    f.count++;
    for (let i = 0; i < N_COST; i++) f.ns[i]! += e.costNs[i]!;
  }

  result(): Breakdown {
    const tot = new Float64Array(N_COST);
    for (const s of this.steps) {
      for (const [name, v] of Object.entries(s.byCategoryNs)) tot[COST_NAMES.indexOf(name)]! += v;
    }
    const faults: Record<string, FaultKindBreakdown> = {};
    for (const kind of [...this.faultArrays.keys()].sort()) {
      const f = this.faultArrays.get(kind)!;
      faults[kind] = { count: f.count, ...row(f.ns) };
    }
    return { total: row(tot), steps: this.steps, faults };
  }
}

function formatNs(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(3)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(3)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(3)} us`;
  return `${ns} ns`;
}

/** One perf-report-style block: "# title", then Overhead / simulated time / category, largest first. */
function block(title: string, r: BreakdownRow, out: string[]): void {
  out.push(`# ${title}: ${formatNs(r.totalNs)} simulated`);
  out.push('#   Overhead      Sim. time  Category');
  const rows = Object.entries(r.byCategoryNs).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  for (const [name, v] of rows) {
    const pct = r.totalNs > 0 ? (100 * v / r.totalNs).toFixed(2) : '0.00';
    out.push(`    ${pct.padStart(7)}%  ${formatNs(v).padStart(13)}  ${COST_LABELS[name] ?? name}`);
  }
  out.push('#');
}

/** `--breakdown` text: the whole run, each step with time in it, each fault kind (mean per fault too). */
export function formatBreakdown(b: Breakdown): string {
  const out: string[] = ['# Where the simulated time goes (all tasks; costs.ts categories)', '#'];
  block('total', b.total, out);
  for (const s of b.steps) if (s.totalNs > 0) block(`step ${s.index} ${s.op}`, s, out);
  for (const [kind, f] of Object.entries(b.faults)) {
    const mean = f.count > 0 ? formatNs(Math.round(f.totalNs / f.count)) : '-';
    block(`faults ${kind}: ${f.count} faults, ${mean} each`, f, out);
  }
  return out.join('\n');
}
