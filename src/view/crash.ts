// The crash pane (issue 14): for a scenario on a pmem device, its crash points (what each was,
// how many states were checked there, which failed) and, for the chosen point, one crash state:
// each cache line not yet durable with how many of its stores reached the media (media bytes
// beside the CPU's), the last committed journal transaction, the recovered files and the
// invariant it breaks. The data comes from src/inspect/crash.ts, run in the page.

import type { CrashOverview } from '../inspect/crash.ts';
import type { ReplayResult } from '../crash/explore.ts';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const hex = (b: readonly number[]): string => b.map((x) => (x < 0 ? '--' : x.toString(16).padStart(2, '0'))).join(' ');

/** The verdict line and the list of crash points, the chosen one marked. */
export function crashListHtml(o: CrashOverview, chosen: number): string {
  const r = o.result;
  const failing = o.points.filter((p) => p.failure).length;
  const verdict = r.verdict === 'fail' ? `FAIL: ${failing} of ${r.crashPoints} crash points have a failing state`
    : r.verdict === 'pass' ? `PASS: all ${r.states} states of every crash point hold`
      : r.verdict === 'empty' ? 'NOTHING CHECKED: no crash point on a DAX filesystem'
        : `INCOMPLETE: ${r.sampledPoints} points sampled${r.truncated ? ', cut short by the state limit' : ''}`;
  const items = o.points.map((p) => {
    const cls = [p.failure ? 'fail' : 'ok', p.point === chosen ? 'sel' : ''].join(' ').trim();
    const why = p.failure ? ` <span class="inv">${esc(p.failure.invariant)}</span>` : '';
    return `<li class="${cls}" data-point="${p.point}">#${p.point} ${esc(p.op)} ` +
      `<span class="n">${p.states} state${p.states === 1 ? '' : 's'}${p.sampled ? ', sampled' : ''}</span>${why}</li>`;
  });
  return `<p id="crash-verdict" class="mono ${r.verdict}">${esc(verdict)} (${r.states} states)</p>` +
    `<ol id="crash-points" class="mono">${items.join('')}</ol>`;
}

/** One crash state of the chosen point. */
export function crashStateHtml(point: number, r: ReplayResult): string {
  const kept = r.lines.map((l) => l.kept).join(',');
  const rows = r.lines.map((l) => {
    const where = l.path !== undefined ? `${esc(l.path)} [${l.offset}, ${l.offset! + 64})`
      : `block ${l.block} line ${l.line}`;
    const cls = l.kept === l.stores ? 'whole' : l.kept === 0 ? 'lost' : 'part';
    return `<tr class="${cls}"><td>${where}</td><td>${l.kept} of ${l.stores}</td>` +
      `<td>${hex(l.media.slice(0, 16))}</td><td>${hex(l.cpu.slice(0, 16))}</td></tr>`;
  });
  const lines = r.lines.length === 0 ? '<p class="mono">every cache line is durable here: one state</p>'
    : '<table id="crash-lines"><tr><th>line</th><th>stores on media</th><th>media (first 16 B)</th>' +
      `<th>CPU (first 16 B)</th></tr>${rows.join('')}</table>`;
  const files = Object.entries(r.files).map(([p, f]) =>
    `<tr><td>${esc(p)}</td><td>${f.sizeBytes}</td><td>${hex(f.head)}</td></tr>`).join('');
  const verdict = r.violation
    ? `<p id="crash-violation" class="violation">BROKEN ${esc(r.violation[0])}: ${esc(r.violation[1])}</p>`
    : '<p id="crash-violation" class="holds">every invariant holds in this state</p>';
  return `<p class="mono">crash point #${point} (${esc(r.op)}${r.file ? ` at ${esc(r.file.path)} offset ` +
    `${r.file.offset}` : ''}), state keeping [${kept}] units per line; committed journal transaction ` +
    `<b>${r.committedTid}</b></p>${lines}<h3>Recovered files</h3><table><tr><th>file</th><th>size</th>` +
    `<th>first 16 bytes</th></tr>${files}</table>${verdict}`;
}
