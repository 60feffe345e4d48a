/** A crash-exploration worker (src/crash/shard.ts): explores one shard of one program and posts its result. */
import { parentPort, workerData } from 'node:worker_threads';
import { explore, type ExploreOptions } from './explore.ts';
import { loadCrashPrograms } from './load.ts';

const { file, name, opts } = workerData as { file: string; name: string; opts: ExploreOptions };
try {
  const prog = (await loadCrashPrograms(file)).find((p) => p.name === name);
  if (!prog) throw new Error(`no program "${name}" in ${file}`);
  parentPort!.postMessage({ result: explore(prog, opts) });
} catch (e) {
  parentPort!.postMessage({ error: e instanceof Error ? e.message : String(e) });
}
