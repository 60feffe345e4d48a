/**
 * Printing the seed experiments: a text table laid out like the posts (published, simulated,
 * ratio, role, verdict) and Kara's histograms side by side; the SVG charts are charts.ts.
 */
import { rowOk, type Experiment, type Row } from './experiments.ts';

function fmt(v: number | null, unit = ''): string {
  if (v === null) return '-';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Number.isInteger(v) && unit !== 'x') return String(v);
  return v.toFixed(2);
}

function verdict(r: Row): string {
  if (r.published === null || r.tolerance === null) return '';
  const ok = rowOk(r);
  if (r.role === 'disputed') return ok ? 'agrees (not a target)' : 'differs (not a target)';
  if (r.role === 'unmodelled') return ok ? 'agrees (not modelled)' : 'differs (not modelled)';
  const tol = r.tolerance === 0 ? 'exact' : `±${Math.round(r.tolerance * 100)}%`;
  return `${ok ? 'ok' : 'OUT'} (${tol})`;
}

/** The experiment as text. */
export function formatExperiment(e: Experiment): string {
  const lines: string[] = [];
  lines.push(`== ${e.name}: ${e.title} (seed ${e.seed})`);
  for (const n of e.notes) lines.push(`   ${n}`);
  const w = Math.max(...e.rows.map((r) => r.metric.length), 10);
  lines.push(`   ${'metric'.padEnd(w)}  ${'published'.padStart(12)}  ${'simulated'.padStart(12)}  ` +
    `${'ratio'.padStart(6)}  role        check`);
  for (const r of e.rows) {
    const ratio = r.published ? (r.simulated / r.published).toFixed(2) : '-';
    lines.push(`   ${r.metric.padEnd(w)}  ${fmt(r.published, r.unit).padStart(12)}  ` +
      `${fmt(r.simulated, r.unit).padStart(12)}  ${ratio.padStart(6)}  ${r.role.padEnd(10)}  ` +
      `${verdict(r)}${r.note ? `  [${r.note}]` : ''}`);
  }
  for (const h of e.histograms) {
    lines.push(`   histogram: ${h.label}`);
    const buckets = new Set<number>([...(h.published ?? []).map(([b]) => b), ...h.simulated.map(([b]) => b)]);
    for (const b of [...buckets].sort((x, y) => x - y)) {
      const pub = h.published?.find(([x]) => x === b)?.[1] ?? 0;
      const sim = h.simulated.find(([x]) => x === b)?.[1] ?? 0;
      lines.push(`     ${`${b}-${2 * b - 1} us`.padEnd(14)} published ${String(pub).padStart(4)}  simulated ` +
        `${String(sim).padStart(4)}`);
    }
  }
  return lines.join('\n');
}
