/**
 * Printing the seed experiments: a text table laid out like the posts (published, simulated,
 * ratio, role, verdict), Kara's histograms side by side, JSON, and SVG bar charts.
 */
import { rowOk, type Experiment, type Histogram, type Row } from './experiments.ts';

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

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * An SVG chart: one pair of bars per compared row (published grey, simulated blue), each pair
 * scaled to its larger value, so rows with different units share one picture; histograms as
 * grouped bars of counts.
 */
export function experimentSvg(e: Experiment): string {
  const rows = e.rows.filter((r) => r.published !== null && r.published !== 0);
  const rowH = 34, left = 430, barW = 360;
  const bucketsOf = (h: Histogram) => new Set([...(h.published ?? []).map(([b]) => b), ...h.simulated.map(([b]) => b)]);
  const histRows = e.histograms.reduce((n, h) => n + 1 + bucketsOf(h).size, 0);
  const height = 60 + rows.length * rowH + histRows * 22 + 20;
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${left + barW + 140}" height="${height}" ` +
    `font-family="sans-serif" font-size="12">`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${esc(`${e.name}: ${e.title}`)}</text>`,
    `<rect x="${left}" y="32" width="12" height="10" fill="#999"/><text x="${left + 16}" y="41">published</text>`,
    `<rect x="${left + 100}" y="32" width="12" height="10" fill="#2a6fdb"/>` +
      `<text x="${left + 116}" y="41">simulated</text>`];
  let y = 60;
  for (const r of rows) {
    const max = Math.max(Math.abs(r.published!), Math.abs(r.simulated)) || 1;
    const pw = (Math.abs(r.published!) / max) * barW, sw = (Math.abs(r.simulated) / max) * barW;
    out.push(`<text x="10" y="${y + 12}">${esc(r.metric.slice(0, 68))}</text>`,
      `<rect x="${left}" y="${y}" width="${pw.toFixed(1)}" height="12" fill="#999"/>`,
      `<rect x="${left}" y="${y + 14}" width="${sw.toFixed(1)}" height="12" fill="${rowOk(r) ? '#2a6fdb' : '#d33'}"/>`,
      `<text x="${left + barW + 6}" y="${y + 11}">${esc(fmt(r.published, r.unit))} ${esc(r.unit)}</text>`,
      `<text x="${left + barW + 6}" y="${y + 25}">${esc(fmt(r.simulated, r.unit))}</text>`);
    y += rowH;
  }
  for (const h of e.histograms) {
    out.push(`<text x="10" y="${y + 14}" font-weight="bold">${esc(h.label)}</text>`);
    y += 22;
    const buckets = [...bucketsOf(h)].sort((a, b) => a - b);
    for (const b of buckets) {
      const pub = h.published?.find(([x]) => x === b)?.[1] ?? 0;
      const sim = h.simulated.find(([x]) => x === b)?.[1] ?? 0;
      out.push(`<text x="30" y="${y + 12}">${b}-${2 * b - 1} us</text>`,
        `<rect x="${left}" y="${y}" width="${((pub / 512) * barW).toFixed(1)}" height="8" fill="#999"/>`,
        `<rect x="${left}" y="${y + 9}" width="${((sim / 512) * barW).toFixed(1)}" height="8" fill="#2a6fdb"/>`,
        `<text x="${left + barW + 6}" y="${y + 12}">${pub} / ${sim}</text>`);
      y += 22;
    }
  }
  out.push('</svg>');
  return out.join('\n');
}
