/**
 * Crash states of a scenario for the browser view (issue 14), with no Node dependency: the crash
 * explorer (src/crash/explore.ts) runs in the page on the scenario's DAX filesystem and lists
 * every crash point with its states and first failure; one state of a chosen point is rebuilt by
 * replay (the failing one, else the one that keeps least: every non-durable line lost) and shown
 * as its cache lines (how many of each line's stores reached the media, media bytes beside the
 * CPU's), the last committed journal transaction, the recovered files and the broken invariant.
 */
import { explore, replay, type CrashFailure, type CrashPointInfo, type CrashProgram, type ExploreResult,
  type ReplayResult } from '../crash/explore.ts';
import type { Scenario } from '../scenario/types.ts';

export interface CrashPointRow extends CrashPointInfo {
  /** The first failing state of this point, when one is. */
  failure: CrashFailure | null;
}

export interface CrashOverview {
  result: ExploreResult;
  points: CrashPointRow[];
}

/** Does the scenario put a filesystem on a pmem device (the explorer has something to look at)? */
export function hasPmem(s: Scenario): boolean {
  return s.machine.devices.some((d) => d.type === 'pmem');
}

/** The scenario as a crash program (as `daxsim crash FILE.yaml` makes it, src/crash/load.ts). */
function program(s: Scenario): CrashProgram {
  const name = s.name ?? 'scenario';
  return { name, description: `scenario ${name}`, profile: s.kernel.profile, run: () => {}, scenario: s };
}

/** Explore every crash point of the scenario (built-in invariants), every distinct failure kept. */
export function crashOverview(s: Scenario, maxStates = 50_000): CrashOverview {
  const pointLog: CrashPointInfo[] = [];
  const result = explore(program(s), { stopAtFirstFailure: false, maxStates, pointLog });
  const first = new Map<number, CrashFailure>();
  for (const f of result.failures) if (!first.has(f.point)) first.set(f.point, f);
  return { result, points: pointLog.map((p) => ({ ...p, failure: first.get(p.point) ?? null })) };
}

/** The state shown for a crash point: its first failing state, else the one keeping no pending line. */
export function crashStateOf(s: Scenario, row: CrashPointRow): ReplayResult {
  return replay(program(s), row.point, row.failure ? row.failure.choice : null);
}
