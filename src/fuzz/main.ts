// `npm run fuzz -- --seed S --time 60 [--calls N] [--no-shrink]`: the API fuzzer (issue 17).
// Seeded random call sequences (src/fuzz/program.ts) run in a worker thread, each checked against
// the shadow model and the model's invariants (src/fuzz/run.ts); a program that runs longer than
// --hang-ms is a hang (the worker is ended and restarted). Each program is run twice every 8th
// seed: the same seed must give the same trace. Findings are shrunk (src/fuzz/shrink.ts) and
// printed as TypeScript calls; exit 1 when there is any. Program seeds are S, S+1, ...

import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { generate } from './program.ts';
import { runProgram, signature } from './run.ts';
import { shrink } from './shrink.ts';

interface Msg { seed: number; sig: string | null; message: string; code: string[]; calls: number; det: boolean }

function workerMain(): void {
  const { calls, shrinkOn } = workerData as { calls: number; shrinkOn: boolean };
  parentPort!.on('message', (seed: number) => {
    const prog = generate(seed, calls);
    let r = runProgram(prog);
    let det = true;
    if (seed % 8 === 0 && r.finding === null) det = JSON.stringify(runProgram(prog).trace) === JSON.stringify(r.trace);
    let sig = r.finding ? signature(r.finding) : null;
    if (!det) sig = 'invariant|determinism|same seed gave a different trace';
    if (r.finding && shrinkOn) r = shrink(prog, sig!).result;
    const msg: Msg = { seed, sig, message: r.finding?.message ?? (det ? '' : sig!), code: r.code,
      calls: prog.calls.length, det };
    parentPort!.postMessage(msg);
  });
}

/** Run seeds from `seed` for `timeS` seconds (or `count` programs); returns the findings by class. */
export async function fuzz(opts: { seed: number; timeS: number; count: number; calls: number; hangMs: number;
  shrink: boolean; log: (s: string) => void }): Promise<{ tried: number; findings: Map<string, Msg> }> {
  const findings = new Map<string, Msg>();
  const t0 = Date.now();
  let tried = 0;
  let seed = opts.seed;
  let w = spawn(opts);
  while (tried < opts.count && (Date.now() - t0) / 1000 < opts.timeS) {
    const res = await new Promise<Msg | 'hang'>((resolve) => {
      const timer = setTimeout(() => resolve('hang'), opts.shrink ? opts.hangMs * 20 : opts.hangMs);
      w.once('message', (m: Msg) => { clearTimeout(timer); resolve(m); });
      w.postMessage(seed);
    });
    tried++;
    if (res === 'hang') {
      await w.terminate();
      w = spawn(opts);
      const sig = `hang|program of seed ${seed}`;
      const message = `no answer within ${opts.hangMs} ms`;
      findings.set(sig, { seed, sig, message, code: [], calls: opts.calls, det: true });
      opts.log(`seed ${seed}: HANG (no answer within ${opts.hangMs} ms)`);
    } else if (res.sig !== null && !findings.has(res.sig)) {
      findings.set(res.sig, res);
      opts.log(`seed ${seed}: ${res.message}\n  reproducer:\n    ${res.code.join('\n    ')}`);
    }
    seed++;
  }
  await w.terminate();
  return { tried, findings };
}

function spawn(opts: { calls: number; shrink: boolean }): Worker {
  return new Worker(new URL(import.meta.url), { workerData: { calls: opts.calls, shrinkOn: opts.shrink } });
}

async function cli(): Promise<void> {
  const { values } = parseArgs({ options: {
    seed: { type: 'string', default: '1' }, time: { type: 'string', default: '60' },
    count: { type: 'string', default: 'Infinity' }, calls: { type: 'string', default: '40' },
    'hang-ms': { type: 'string', default: '10000' }, 'no-shrink': { type: 'boolean', default: false } } });
  const n = (name: string, v: string, inf = false): number => {
    const x = inf && v === 'Infinity' ? Infinity : /^\d+$/.test(v) ? Number(v) : NaN;
    if (Number.isNaN(x)) {
      console.error(`daxsim fuzz: --${name} must be a whole number, got "${v}"`);
      process.exit(2);
    }
    return x;
  };
  const r = await fuzz({
    seed: n('seed', values.seed), timeS: n('time', values.time), count: n('count', values.count, true),
    calls: n('calls', values.calls), hangMs: n('hang-ms', values['hang-ms']), shrink: !values['no-shrink'],
    log: (s) => console.log(s) });
  console.log(`${r.tried} programs tried from seed ${values.seed}, ${r.findings.size} distinct finding(s)`);
  for (const [sig, m] of r.findings) console.log(`  seed ${m.seed}: ${sig}`);
  process.exitCode = r.findings.size > 0 ? 1 : 0;
}

if (!isMainThread) workerMain();
else if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) void cli();
