// The second profile beside the first: the same scenario run on another kernel profile, with
// the figures that differ marked (fault counts per step, the snapshot's page-table totals and
// page-cache sizes).

import type { Snapshot, Timeline } from '../inspect/stepper.ts';

function cell(a: string | number, b: string | number): string {
  return a === b ? `<td>${a}</td><td>${b}</td>` : `<td class="diff">${a}</td><td class="diff">${b}</td>`;
}

function faultsPerStep(tl: Timeline): Map<number, number> {
  const m = new Map<number, number>();
  for (const s of tl.stops) if (s.kind === 'fault') m.set(s.step, (m.get(s.step) ?? 0) + 1);
  return m;
}

/** A table of both profiles: per step its result and faults, then the current snapshot's totals. */
export function comparePaneHtml(a: Timeline, sa: Snapshot | null, pb: string, b: Timeline,
  sb: Snapshot | null): string {
  const fa = faultsPerStep(a), fb = faultsPerStep(b);
  const n = Math.max(a.steps.length, b.steps.length);
  let rows = '';
  for (let i = 0; i < n; i++) {
    const ra = a.steps[i], rb = b.steps[i];
    const res = (r: typeof ra): string => (r === undefined ? '–' : r.errno ?? r.signal?.signal ??
      (typeof r.result === 'number' ? String(r.result) : 'ok'));
    rows += `<tr><td>${i} ${ra?.op ?? rb?.op ?? ''}</td>${cell(res(ra), res(rb))}` +
      `${cell(fa.get(i) ?? 0, fb.get(i) ?? 0)}</tr>`;
  }
  const tot = (s: Snapshot | null): [number, number, number] => [
    s?.processes.reduce((x, p) => x + p.pageTable.ptes, 0) ?? 0,
    s?.processes.reduce((x, p) => x + p.pageTable.hugePmds, 0) ?? 0,
    s?.caches.reduce((x, c) => x + c.runs.reduce((y, r) => y + r.entries, 0), 0) ?? 0];
  const [ta, tb] = [tot(sa), tot(sb)];
  const err = b.error ? `<p class="mono">${pb}: ${b.error}</p>` : '';
  return `<h2>${a.profile} vs ${pb}</h2>${err}<table id="compare-table"><tr><th>step</th><th colspan="2">result</th>` +
    `<th colspan="2">faults</th></tr>${rows}</table><table><tr><th>here</th><th>${a.profile}</th><th>${pb}</th></tr>` +
    `<tr><td>PTEs</td>${cell(ta[0], tb[0])}</tr><tr><td>huge PMDs</td>${cell(ta[1], tb[1])}</tr>` +
    `<tr><td>XArray entries</td>${cell(ta[2], tb[2])}</tr></table>`;
}
