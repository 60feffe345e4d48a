// The browser view's controller: loads a scenario (bundled example or YAML typed in the editor),
// runs the model itself in the page (src/inspect/stepper.ts), and steps forward and back by
// re-running to a stop; no server round trip. Rendering is in render.ts.

import { examples } from 'virtual:daxsim-examples';
import { parseScenario } from '../scenario/parse.ts';
import type { Scenario } from '../scenario/types.ts';
import { profiles } from '../kernel/profiles.ts';
import { timeline, snapshotAt, type Snapshot, type Timeline } from '../inspect/stepper.ts';
import { stepsHtml, lastFaultHtml, pageTableHtml, cacheHtml, countersHtml, timelineSvg, entryHtml } from './render.ts';
import { comparePaneHtml } from './compare.ts';
import { crashOverview, crashStateOf, hasPmem, type CrashOverview } from '../inspect/crash.ts';
import { crashListHtml, crashStateHtml } from './crash.ts';
import { quizHtml } from './quiz.ts';
import { makeQuiz, type Quiz } from '../inspect/quiz.ts';

interface State {
  scenario: Scenario | null;
  tl: Timeline | null;
  /** Index into tl.stops; -1 before the first step. */
  at: number;
  snap: Snapshot | null;
  other: { profile: string; tl: Timeline; snap: Snapshot | null } | null;
  /** The crash exploration of the scenario (on demand) and the chosen crash point. */
  crash: CrashOverview | null;
  crashAt: number;
  /** The loaded scenario is a quiz's: what steps ahead will do stays hidden. */
  quiz: boolean;
}
const st: State = { scenario: null, tl: null, at: -1, snap: null, other: null, crash: null, crashAt: -1,
  quiz: false };
const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

function showError(msg: string): void { $('error').textContent = msg; }

function load(text: string, source: string, quiz = false): void {
  showError('');
  st.quiz = quiz;
  try {
    st.scenario = parseScenario(text, source);
  } catch (e) {
    showError(e instanceof Error ? e.message : String(e));
    return;
  }
  st.tl = timeline(st.scenario);
  st.crash = null;
  st.crashAt = -1;
  $('crash').innerHTML = hasPmem(st.scenario) ? '' : '<p class="mono">no pmem device in this scenario</p>';
  $('crash-state').innerHTML = '';
  if (st.tl.error) showError(`the run stops: ${st.tl.error}`);
  else if (st.tl.failures.length) showError(`expect failures:\n${st.tl.failures.join('\n')}`);
  loadOther();
  go(-1);
}

function withProfile(s: Scenario, profile: string): Scenario {
  return { ...s, kernel: { ...s.kernel, profile } };
}

function loadOther(): void {
  const p = ($('compare') as HTMLSelectElement).value;
  st.other = p && st.scenario ? { profile: p, tl: timeline(withProfile(st.scenario, p)), snap: null } : null;
}

/** The stop of the other profile's run that matches ours: the same fault number, else the same step's end. */
function matchingStop(o: Timeline, tl: Timeline, at: number): number {
  const s = tl.stops[at];
  if (!s) return -1;
  if (s.kind === 'fault') {
    const i = o.stops.findIndex((x) => x.kind === 'fault' && x.fault === s.fault && x.step === s.step);
    if (i >= 0) return i;
  }
  return o.stops.findIndex((x) => x.kind === 'step' && x.step === s.step);
}

function go(at: number): void {
  const tl = st.tl;
  if (!tl || !st.scenario) return;
  st.at = Math.max(-1, Math.min(at, tl.stops.length - 1));
  st.snap = st.at >= 0 ? snapshotAt(st.scenario, tl, st.at) : null;
  if (st.other) {
    const j = matchingStop(st.other.tl, tl, st.at);
    st.other.snap = j >= 0 ? snapshotAt(withProfile(st.scenario, st.other.profile), st.other.tl, j) : null;
  }
  render();
}

function find(from: number, dir: 1 | -1, kind: 'step' | 'fault'): number {
  const stops = st.tl?.stops ?? [];
  for (let i = from + dir; i >= 0 && i < stops.length; i += dir) if (stops[i]!.kind === kind) return i;
  return dir < 0 ? -1 : from;
}

function render(): void {
  const tl = st.tl!, s = st.scenario!, snap = st.snap;
  const stop = snap?.stop;
  const current = stop ? stop.step : -1;
  const done = stop ? (stop.kind === 'step' ? stop.step + 1 : stop.step) : 0;
  $('steps').innerHTML = stepsHtml(tl, s.steps.map((x) => x.op), current, done, st.quiz);
  // A quiz's scenario keeps what is ahead hidden (the stop count, the counters, the timeline) until its end.
  const hide = st.quiz && st.at < tl.stops.length - 1;
  const of = hide ? '' : ` (stop ${st.at + 1}/${tl.stops.length})`;
  const stops = hide ? '' : `, ${tl.stops.length} stops`;
  $('position').textContent = !stop ? `${tl.name} (${tl.profile}): at the start${stops}`
    : `${tl.profile}: step ${stop.step} ${s.steps[stop.step]?.op ?? ''}` +
      (stop.kind === 'fault' ? `, fault #${stop.fault}` : ' done') + of;
  const hidden = '<p class="mono">hidden in a quiz until the last step (End)</p>';
  $('lastfault').innerHTML = snap ? lastFaultHtml(snap.lastFault) : '';
  $('pgtable').innerHTML = snap ? pageTableHtml(snap) : '<p class="mono">not started: press step (→)</p>';
  $('cache').innerHTML = snap ? cacheHtml(snap.caches) : '';
  $('counters').innerHTML = hide ? hidden : countersHtml(tl, stop ? (stop.kind === 'step' ? stop.step : stop.step - 1)
    : -1, st.other?.tl ?? null);
  $('timeline').innerHTML = hide ? hidden : timelineSvg(tl, stop?.kind === 'fault' ? stop.fault : -1);
  $('compare-pane').innerHTML = st.other ? comparePaneHtml(tl, snap, st.other.profile, st.other.tl, st.other.snap) : '';
  $('entry').textContent = '';
  document.querySelector('#steps li.current')?.scrollIntoView({ block: 'nearest' });
}

/**
 * Explore the crash states (once per loaded scenario) and show crash point `point` (clamped;
 * FIRST_FAILING: the first point with a failing state, else the first point).
 */
const FIRST_FAILING = -2;
function crashGo(point: number): void {
  if (!st.scenario || !hasPmem(st.scenario)) return;
  try {
    st.crash ??= crashOverview(st.scenario);
  } catch (e) {
    showError(`crash exploration: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  const pts = st.crash.points;
  if (point === FIRST_FAILING) point = pts.find((p) => p.failure)?.point ?? 0;
  const row = pts.find((p) => p.point === point) ?? pts[point < 0 ? 0 : pts.length - 1];
  st.crashAt = row ? row.point : -1;
  $('crash').innerHTML = crashListHtml(st.crash, st.crashAt);
  $('crash-state').innerHTML = row ? crashStateHtml(row.point, crashStateOf(st.scenario, row)) : '';
  document.querySelector('#crash-points li.sel')?.scrollIntoView({ block: 'nearest' });
}

/** The next crash point after the chosen one with a failing state (wrapping), else the chosen one. */
function nextFailing(): number {
  const pts = st.crash?.points ?? [];
  const i = pts.findIndex((p) => p.point === st.crashAt);
  for (let k = 1; k <= pts.length; k++) {
    const p = pts[(i + k) % pts.length]!;
    if (p.failure) return p.point;
  }
  return st.crashAt;
}

const actions: Record<string, () => void> = {
  crash: () => crashGo(st.crashAt >= 0 ? st.crashAt : FIRST_FAILING),
  crashPrev: () => crashGo(Math.max(0, st.crashAt - 1)),
  crashNext: () => crashGo(st.crashAt + 1),
  crashFail: () => { if (!st.crash) crashGo(0); crashGo(nextFailing()); },
  start: () => go(-1),
  back: () => go(find(st.at, -1, 'step')),
  backFault: () => go(find(st.at, -1, 'fault')),
  fault: () => go(find(st.at, 1, 'fault')),
  step: () => go(find(st.at, 1, 'step')),
  run: () => go((st.tl?.stops.length ?? 0) - 1),
};

function keydown(e: KeyboardEvent): void {
  if ((e.target as HTMLElement).tagName === 'TEXTAREA') {
    if (e.key === 'Enter' && e.ctrlKey) {
      load(($('editor') as HTMLTextAreaElement).value, 'editor');
      e.preventDefault();
    }
    return;
  }
  const k = e.key;
  const crashKey: Record<string, string> = { c: 'crash', '[': 'crashPrev', ']': 'crashNext', x: 'crashFail' };
  if (crashKey[k]) { actions[crashKey[k]]!(); e.preventDefault(); return; }
  const act = k === 'Home' ? 'start' : k === 'End' || k === 'r' ? 'run' : k === 'F' || (k === 'ArrowLeft' && e.shiftKey)
    ? 'backFault' : k === 'ArrowLeft' || k === 'b' ? 'back' : k === 'f' || (k === 'ArrowRight' && e.shiftKey) ? 'fault'
      : k === 'ArrowRight' || k === 's' ? 'step' : null;
  if (act) { actions[act]!(); e.preventDefault(); }
}

/** The quiz pane: a quiz from the seed (src/inspect/quiz.ts), its scenarios loadable into the editor. */
function initQuiz(): void {
  let quiz: Quiz | null = null;
  const loadQuizScenario = (i: number): void => {
    const sc = quiz?.scenarios[i];
    if (!sc) return;
    ($('editor') as HTMLTextAreaElement).value = sc.yaml;
    load(sc.yaml, sc.name, true);
  };
  $('btn-quiz').addEventListener('click', () => {
    const seed = Number(($('quiz-seed') as HTMLInputElement).value);
    if (!Number.isSafeInteger(seed) || seed < 0) {
      showError(`quiz: seed ${seed} is not a non-negative integer`);
      return;
    }
    quiz = makeQuiz(seed);
    $('quiz').innerHTML = quizHtml(quiz);
    loadQuizScenario(0);
  });
  $('quiz').addEventListener('click', (e) => {
    const b = (e.target as HTMLElement).closest<HTMLElement>('[data-quiz-scenario]');
    if (b) loadQuizScenario(Number(b.dataset['quizScenario']));
  });
}

function init(): void {
  const sel = $('example') as HTMLSelectElement;
  sel.innerHTML = examples.map((x, i) => `<option value="${i}">${x.name}</option>`).join('');
  const cmp = $('compare') as HTMLSelectElement;
  cmp.innerHTML += Object.keys(profiles).map((p) => `<option>${p}</option>`).join('');
  const pick = (i: number): void => {
    const ex = examples[i];
    if (!ex) return;
    ($('editor') as HTMLTextAreaElement).value = ex.text;
    load(ex.text, ex.name);
  };
  sel.addEventListener('change', () => pick(Number(sel.value)));
  cmp.addEventListener('change', () => { loadOther(); go(st.at); });
  $('btn-load').addEventListener('click', () => load(($('editor') as HTMLTextAreaElement).value, 'editor'));
  const buttons: Array<[string, string]> = [['btn-start', 'start'], ['btn-back', 'back'],
    ['btn-back-fault', 'backFault'],
    ['btn-fault', 'fault'], ['btn-step', 'step'], ['btn-run', 'run']];
  for (const [id, a] of buttons) $(id).addEventListener('click', () => actions[a]!());
  $('btn-crash').addEventListener('click', () => actions['crash']!());
  initQuiz();
  $('crash').addEventListener('click', (e) => {
    const li = (e.target as HTMLElement).closest<HTMLElement>('li[data-point]');
    if (li) crashGo(Number(li.dataset['point']));
  });
  $('steps').addEventListener('click', (e) => {
    const li = (e.target as HTMLElement).closest('li');
    if (li && st.tl) go(st.tl.stops.findIndex((x) => x.kind === 'step' && x.step === Number(li.dataset['step'])));
  });
  $('pgtable').addEventListener('click', (e) => {
    const el = (e.target as HTMLElement).closest<HTMLElement>('[data-va]');
    if (el && st.snap) { $('entry').innerHTML = entryHtml(st.snap, Number(el.dataset['va'])); }
  });
  document.addEventListener('keydown', keydown);
  const embedded = document.getElementById('daxsim-initial')?.textContent;
  if (embedded) {
    const ex = JSON.parse(embedded) as { name: string; text: string };
    sel.insertAdjacentHTML('afterbegin', `<option value="-1">${ex.name.replace(/</g, '&lt;')}</option>`);
    sel.value = '-1';
    ($('editor') as HTMLTextAreaElement).value = ex.text;
    load(ex.text, ex.name);
    return;
  }
  const first = Math.max(0, examples.findIndex((x) => x.name === 'tmpfs-seq-read.yaml'));
  sel.value = String(first);
  pick(first);
}

init();
