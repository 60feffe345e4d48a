/**
 * Spreading one exploration over shards (issue 15): shard i of n explores the crash points p with
 * p % n === i (every shard still runs the whole program, as the points follow from it), and
 * `mergeShards` rebuilds the result a single run would give: the same states, points, failures
 * and verdict whatever the number of shards, because each part records how many states it
 * checked at each of its points and where in its point each failure was. `exploreOnWorkers` runs
 * the shards on node:worker_threads; `--shard i/n` on the command line runs one (on any machine)
 * and `--merge` joins their JSON results.
 */
import { Worker } from 'node:worker_threads';
import { CrashInputError, type ExploreOptions, type ExploreResult, type Verdict } from './explore.ts';

/** Parse "i/n" (1-based on the command line: 1/4 .. 4/4) into a 0-based shard. */
export function parseShard(spec: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  const i = m ? Number(m[1]) : NaN, n = m ? Number(m[2]) : NaN;
  if (!m || !(n >= 1 && i >= 1 && i <= n)) {
    throw new CrashInputError(`--shard: expected I/N with 1 <= I <= N, got "${spec}"`);
  }
  return { index: i - 1, count: n };
}

function verdictOf(failures: number, states: number, truncated: boolean, sampled: number): Verdict {
  if (failures > 0) return 'fail';
  if (states === 0) return 'empty';
  return truncated || sampled > 0 ? 'partial' : 'pass';
}

/**
 * The result of one exploration from its shards' parts. `stopFirst` and `maxStates` must be
 * those the parts ran with: the merge cuts at the first failure or the state limit in program
 * order, as a single run stops there.
 */
export function mergeShards(parts: readonly ExploreResult[], stopFirst: boolean, maxStates = 1_000_000): ExploreResult {
  if (parts.length === 0) throw new CrashInputError('merge: no shard results');
  const n = parts[0]!.shard?.count ?? 0;
  const seen = new Set<number>();
  for (const p of parts) {
    if (!p.shard || p.shard.count !== n) throw new CrashInputError('merge: every part must be a shard of one count');
    if (p.program !== parts[0]!.program) {
      throw new CrashInputError(`merge: parts of ${p.program} and ${parts[0]!.program}`);
    }
    if (seen.has(p.shard.index)) throw new CrashInputError(`merge: shard ${p.shard.index + 1}/${n} given twice`);
    seen.add(p.shard.index);
  }
  if (seen.size !== n) throw new CrashInputError(`merge: ${seen.size} of ${n} shards given`);
  const points: Array<[number, number, number, number]> = [];
  for (const p of parts) {
    const a = p.shard!.points;
    for (let i = 0; i < a.length; i += 4) points.push([a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!]);
  }
  points.sort((x, y) => x[0] - y[0]);
  const failures = parts.flatMap((p) => p.failures)
    .sort((x, y) => x.point - y.point || x.stateInPoint - y.stateInPoint);
  const firstFail = stopFirst ? failures[0] : undefined;
  let states = 0, exhaustive = 0, sampled = 0, truncated = false, cut = Infinity, cutState = Infinity;
  const sampledList: number[] = [];
  let recoveryStates = 0;
  for (const [pt, k, smp, rec] of points) {
    if (firstFail && pt > firstFail.point) break;
    if (smp) { sampled++; if (sampledList.length < 100) sampledList.push(pt); } else exhaustive++;
    let take = k;
    if (firstFail && pt === firstFail.point) take = firstFail.stateInPoint + 1;
    if (states + take > maxStates || (states === maxStates && take > 0)) {
      truncated = true; cut = pt; cutState = maxStates - states; states = maxStates; break;
    }
    states += take;
    recoveryStates += rec; // a point cut by the first failure still ran its recovery crashes up to it
  }
  const kept = (firstFail ? [firstFail] : failures)
    .filter((f) => f.point < cut || (f.point === cut && f.stateInPoint < cutState));
  const last = parts.reduce((a, p) => Math.max(a, p.crashPoints), 0);
  const crashPoints = truncated ? cut + 1 : firstFail && kept.length ? firstFail.point + 1 : last;
  const hostMs = parts.reduce((a, p) => Math.max(a, p.hostMs), 0);
  return {
    program: parts[0]!.program, profile: parts[0]!.profile, crashPoints, states, exhaustivePoints: exhaustive,
    sampledPoints: sampled, hostMs, statesPerSecond: states / Math.max(hostMs / 1000, 1e-9), failures: kept, truncated,
    failingStates: firstFail ? kept.length : kept.reduce((a, f) => a + f.count, 0), sampledPointList: sampledList,
    verdict: verdictOf(kept.length, states, truncated, sampled), recoveryStates,
  };
}

/**
 * Explore program `name` of module `file` on `workers` worker threads (one shard each) and merge.
 * The merged result does not depend on the number of workers; hostMs is the wall time.
 */
export async function exploreOnWorkers(file: string, name: string, opts: ExploreOptions, workers: number):
  Promise<ExploreResult> {
  if (!(Number.isInteger(workers) && workers >= 1)) throw new CrashInputError(`--workers: ${workers} is not a count`);
  const t0 = performance.now();
  const one = (index: number): Promise<ExploreResult> => new Promise<ExploreResult>((ok, bad) => {
    const w = new Worker(new URL('./worker-main.ts', import.meta.url),
      { workerData: { file, name, opts: { ...opts, shard: { index, count: workers } } } });
    w.once('message', (m: { result?: ExploreResult; error?: string }) => {
      if (m.result) ok(m.result); else bad(new CrashInputError(m.error ?? 'worker failed'));
    });
    w.once('error', bad);
  });
  const parts = await Promise.all(Array.from({ length: workers }, (_, index) => one(index)));
  const r = mergeShards(parts, opts.stopAtFirstFailure ?? true, opts.maxStates ?? 1_000_000);
  r.hostMs = performance.now() - t0;
  r.statesPerSecond = r.states / Math.max(r.hostMs / 1000, 1e-9);
  return r;
}
