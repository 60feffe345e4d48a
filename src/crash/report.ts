/**
 * Text reports of crash explorations (issue 15): what was covered and the verdict, every failure
 * with its operation, source line, file offset, the bytes read beside the bytes expected, and a
 * replay command; with `all`, distinct failures grouped by invariant and source line. Identical
 * consecutive lines are collapsed into one with a count.
 */
import type { CrashFailure, CrashProgram, ExploreResult, ReadRange, ReplayResult, LineChoice } from './explore.ts';

/** Exit codes of `daxsim crash` (documented in the README's crash section and the usage text). */
export const EXIT_PASS = 0;
export const EXIT_FAIL = 1;
/** Not every crash state was checked (sampled points, --max-states) or none was: not a pass. */
export const EXIT_INCOMPLETE = 4;

/** The exit code of a set of results: any failure 1; else any empty or partial run 4 (partial: 0 if allowed). */
export function exitCodeOf(results: readonly ExploreResult[], allowPartial: boolean): number {
  if (results.some((r) => r.verdict === 'fail')) return EXIT_FAIL;
  if (results.some((r) => r.verdict === 'empty')) return EXIT_INCOMPLETE;
  if (!allowPartial && results.some((r) => r.verdict === 'partial')) return EXIT_INCOMPLETE;
  return EXIT_PASS;
}

/** Lines with identical consecutive entries collapsed ("... (x3)"). */
export function collapse(lines: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    let j = i + 1;
    while (j < lines.length && lines[j] === lines[i]) j++;
    out.push(j - i > 1 ? `${lines[i]} (x${j - i})` : lines[i]!);
    i = j;
  }
  return out;
}

function hex(bytes: readonly number[], max = 32): string {
  const h = bytes.slice(0, max).map((b) => (b < 0 ? '--' : b.toString(16).padStart(2, '0'))).join(' ');
  return bytes.length > max ? `${h} ... (${bytes.length} bytes)` : h;
}

function range(r: ReadRange): string {
  return `${r.path} [${r.offset}, ${r.offset + r.bytes.length})`;
}

/** Where a line of the media is: its file range when it holds file data, else its block. */
function lineWhere(l: LineChoice): string {
  return l.path !== undefined ? `${l.path} [${l.offset}, ${l.offset! + 64})` : `line ${l.line} of block ${l.block}`;
}

/** The coverage sentence and verdict line of one exploration. */
export function formatCoverage(r: ExploreResult): string[] {
  const head = `${r.program} (${r.profile}): ${r.crashPoints} crash points, ${r.states} states ` +
    `(${r.exhaustivePoints} points exhaustive, ${r.sampledPoints} sampled), ${Math.round(r.statesPerSecond)} states/s`;
  const rec = r.recoveryStates > 0 ? `; ${r.recoveryStates} more after a power failure during recovery` : '';
  const out = [head + rec];
  const sampled = r.sampledPoints > 0
    ? `${r.sampledPoints} crash points were sampled, not explored exhaustively (points ` +
      `${r.sampledPointList.slice(0, 10).join(', ')}${r.sampledPoints > 10 ? ', ...' : ''})`
    : '';
  const cut = r.truncated
    ? `--max-states stopped the run after ${r.states} states at crash point ${r.crashPoints - 1}` : '';
  if (r.verdict === 'pass') {
    out.push(`  PASS: all ${r.states} crash states of every crash point satisfy the invariants`);
  }
  else if (r.verdict === 'empty') {
    out.push('  NOTHING CHECKED: the run reached no crash point on a DAX filesystem (0 states); this is not a pass');
  } else if (r.verdict === 'partial') {
    out.push(`  INCOMPLETE: no failure in the ${r.states} states checked, but not every crash state was checked:`);
    for (const why of [cut, sampled]) if (why) out.push(`    ${why}`);
  } else {
    out.push(`  FAIL: ${r.failingStates} failing crash states at ${new Set(r.failures.map((f) => f.point)).size} ` +
      `crash points${r.truncated ? ` (${cut})` : ''}`);
  }
  return out;
}

/** One failure: the operation, where it is in the program and the file, what was read and expected, replay. */
export function formatFailure(file: string, p: CrashProgram, f: CrashFailure): string[] {
  const at = f.source ? ` at ${f.source}` : '';
  const off = f.file ? `, ${f.file.path} offset ${f.file.offset}` : '';
  const out = [`  BROKEN at crash point ${f.point} (${f.op}${at}${off}): ${f.invariant}: ${f.message}`];
  for (const r of f.read) out.push(`    read     ${range(r)}: ${hex(r.bytes)}`);
  if (f.expected) out.push(`    expected ${range(f.expected)}: ${hex(f.expected.bytes)}`);
  out.push(...collapse(f.lines.filter((x) => x.kept < x.stores).map((l) =>
    `    ${lineWhere(l)}: ${l.kept} of ${l.stores} stores reached the media`)));
  out.push(`    replay: npm run daxsim -- crash ${file} --program ${JSON.stringify(p.name)} --replay ` +
    `${f.point}:${f.choice.join(',')}`);
  return out;
}

/** The report of one program: coverage and verdict, then failures (all of them grouped, or the first). */
export function formatExplore(file: string, p: CrashProgram, r: ExploreResult, all: boolean): string[] {
  const out = formatCoverage(r);
  if (!all) {
    for (const f of r.failures.slice(0, 1)) out.push(...formatFailure(file, p, f));
    if (r.failures.length > 1) out.push(`  (${r.failures.length - 1} more failing crash points: --all lists them)`);
    return out;
  }
  const groups = new Map<string, CrashFailure[]>();
  for (const f of r.failures) {
    const key = `${f.invariant} at ${f.source ?? f.op}`;
    const g = groups.get(key);
    if (g) g.push(f); else groups.set(key, [f]);
  }
  for (const [key, g] of groups) {
    const states = g.reduce((n, f) => n + f.count, 0);
    out.push(`  ${key}: ${states} failing states at ${g.length} crash points (${g.map((f) => f.point).slice(0, 8)
      .join(', ')}${g.length > 8 ? ', ...' : ''}); the first:`);
    out.push(...formatFailure(file, p, g[0]!).map((l) => `  ${l}`));
  }
  return out;
}

/** A replayed state: the operation, the non-durable lines (media beside CPU), the bytes read, the verdict. */
export function formatReplay(point: number, r: ReplayResult): string[] {
  const off = r.file ? `, ${r.file.path} offset ${r.file.offset}` : '';
  const out = [`crash point ${point} (${r.op}${off}); journal committed up to tid ${r.committedTid}`];
  for (const l of r.lines) {
    out.push(`  ${lineWhere(l)}: ${l.kept} of ${l.stores} stores reached the media`);
    out.push(`    media ${hex(l.media)}`);
    if (l.kept < l.stores) out.push(`    cpu   ${hex(l.cpu)}`);
  }
  for (const rd of r.read) out.push(`  read     ${range(rd)}: ${hex(rd.bytes)}`);
  if (r.expected) out.push(`  expected ${range(r.expected)}: ${hex(r.expected.bytes)}`);
  for (const [p, f] of Object.entries(r.files)) out.push(`  ${p}: size ${f.sizeBytes}`);
  out.push(r.violation ? `  BROKEN ${r.violation[0]}: ${r.violation[1]}` : '  every invariant holds');
  return out;
}
