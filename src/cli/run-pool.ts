// Runs variants in parallel on worker threads (node:worker_threads), as many as the host has
// CPUs (os.availableParallelism) and no more than there are variants. The results come back in
// variant order whatever order the workers finish in, so the output is deterministic. A progress
// line (stderr) counts the variants finished once the pool has run a second; a timer keeps it
// moving while every worker is inside one long variant.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { VariantOutcome, VariantRequest } from './run-variant.ts';
import { WorkerError } from './errors.ts';
import type { ProgressLine } from '../lib/progress.ts';

type Reply = { ok: true; outcome: VariantOutcome } | { ok: false; key: string; user: boolean; message: string };

export async function runPool(reqs: VariantRequest[], threads = availableParallelism(),
  progress: ProgressLine | null = null): Promise<VariantOutcome[]> {
  const n = Math.max(1, Math.min(threads, reqs.length));
  const out = new Array<VariantOutcome | undefined>(reqs.length);
  let next = 0, finished = 0;
  progress?.begin(`${reqs.length} variants on ${n} worker threads`, reqs.length, 'variants');
  const timer = progress ? setInterval(() => progress.tick(finished), 1000) : null;
  timer?.unref();
  let failure: WorkerError | null = null;
  const one = (): Promise<void> => new Promise((resolve, reject) => {
    const w = new Worker(new URL('./run-worker.ts', import.meta.url));
    let current = -1;
    const feed = (): void => {
      if (failure !== null || next >= reqs.length) {
        w.postMessage(null);
        return;
      }
      current = next++;
      w.postMessage(reqs[current]);
    };
    w.on('message', (r: Reply) => {
      finished++;
      progress?.tick(finished);
      if (r.ok) out[current] = r.outcome;
      else failure ??= new WorkerError(r.user ? r.message : `variant ${r.key}: ${r.message}`, r.user);
      feed();
    });
    w.on('error', reject);
    w.on('exit', () => resolve());
    feed();
  });
  try {
    await Promise.all(Array.from({ length: n }, one));
  } finally {
    if (timer !== null) clearInterval(timer);
    progress?.end();
  }
  if (failure !== null) throw failure;
  return out.map((o, i) => {
    if (o === undefined) throw new Error(`variant ${reqs[i]!.variant.key} returned nothing`);
    return o;
  });
}
