/**
 * The crash explorer's speed (issues 5, 15): states per second on examples/crash/map-sync.ts's
 * MAP_SYNC program, on MAP_SYNC programs of 512 and 4096 writes, and the largest log-append
 * program (records of 64 bytes, each flushed and fenced before its flag) it checks exhaustively
 * within a minute. Printed, never asserted: the first run and the warm rate (wall median and
 * CPU time) of each. `node bench/crash-bench.ts NAME...` runs only the
 * programs whose names contain one of the arguments ("log" for the log-append series).
 */
import { explore, type CrashProgram, type CrashContext } from '../src/crash/explore.ts';
import mapSyncPrograms from '../examples/crash/map-sync.ts';
import { O_RDWR, O_CREAT, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_SHARED_VALIDATE,
  MAP_SYNC } from '../src/mm/constants.ts';

/** `n` one-byte writes, one per page of a MAP_SYNC mapping of an empty file, each flushed and fenced. */
function mapSyncWrites(n: number): CrashProgram {
  return {
    name: `writes-${n}`, description: `${n} page writes through MAP_SYNC, each clwb+sfence`, profile: 'linux-6.1',
    run(ctx: CrashContext) {
      const p = ctx.machine.process();
      const fd = p.open(`${ctx.dir}/f`, O_RDWR | O_CREAT);
      p.ftruncate(fd, n * 4096);
      p.fsync(fd);
      const a = p.mmap(0, n * 4096, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
      for (let i = 0; i < n; i++) {
        p.store(a + i * 4096, 1);
        p.flush(a + i * 4096, 1, 'clwb');
        p.fence('sfence');
        ctx.expectDurable(`${ctx.dir}/f`, i * 4096, 1, 1);
      }
    },
  };
}

/** 512 writes with no flush at all: the pending set grows to 512 lines, so points are sampled. */
const unflushed512: CrashProgram = {
  name: 'unflushed-512', description: '512 page writes, no flush (sampled crash points)', profile: 'linux-6.1',
  run(ctx: CrashContext) {
    const p = ctx.machine.process();
    const fd = p.open(`${ctx.dir}/f`, O_RDWR | O_CREAT);
    p.pwrite(fd, 512 * 4096, 0, 0);
    p.fsync(fd);
    const a = p.mmap(0, 512 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    for (let i = 0; i < 512; i++) p.store(a + i * 4096, 1);
  },
};

function logAppend(records: number): CrashProgram {
  return {
    name: `log-${records}`, description: `${records} fenced log records`, profile: 'linux-6.1',
    run(ctx: CrashContext) {
      const p = ctx.machine.process();
      const fd = p.open(`${ctx.dir}/log`, O_RDWR | O_CREAT);
      const bytes = Math.ceil((records * 128) / 4096) * 4096;
      p.pwrite(fd, bytes, 0, 0);
      p.fsync(fd);
      const a = p.mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      for (let r = 0; r < records; r++) {
        const rec = a + r * 128;
        for (let i = 0; i < 64; i++) p.store(rec + i, (r + i) & 0xff || 1);
        p.flush(rec, 64, 'clwb');
        p.fence('sfence');
        p.store(rec + 64, 1);
        p.flush(rec + 64, 1, 'clwb');
        p.fence('sfence');
      }
    },
  };
}

const only = process.argv.slice(2);
const wanted = (name: string): boolean => only.length === 0 || only.some((o) => name.includes(o));
const mapSync = mapSyncPrograms.find((p) => p.name === 'flush-with-map-sync')!;

/**
 * Explore `prog` once (the first run: cold when it is the first program, as in one `daxsim crash`
 * run) and then again until a second has passed (warm). Prints the cold rate, the warm median
 * rate by wall time and the warm rate by CPU time (user + system of this process: on a loaded
 * machine the wall time includes time other processes had the CPU).
 */
function measure(prog: CrashProgram): void {
  const r = explore(prog, { exhaustiveLimit: 4096 });
  const cold = r.states / (r.hostMs / 1000);
  const walls: number[] = [];
  const cpu0 = process.cpuUsage();
  let ms = 0;
  while (ms < 1000 && walls.length < 2000) {
    const w = explore(prog, { exhaustiveLimit: 4096 });
    walls.push(w.hostMs);
    ms += w.hostMs;
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / walls.length;
  walls.sort((a, b) => a - b);
  const median = walls[Math.floor(walls.length / 2)]!;
  const rate = (x: number): string => `${Math.round(r.states / (x / 1000)).toLocaleString('en-US')} states/s`;
  console.log(`${prog.name}: ${r.crashPoints} crash points, ${r.states} states (${r.exhaustivePoints} exhaustive, ` +
    `${r.sampledPoints} sampled points), verdict ${r.verdict}; first run ${r.hostMs.toFixed(1)} ms = ` +
    `${Math.round(cold).toLocaleString('en-US')} states/s; warm (${walls.length} runs) median ${median.toFixed(2)} ms = ` +
    `${rate(median)}, by CPU time ${cpuMs.toFixed(2)} ms = ${rate(cpuMs)}`);
}

for (const prog of [mapSync, mapSyncWrites(512), mapSyncWrites(4096), unflushed512]) {
  if (wanted(prog.name)) measure(prog);
}
if (!wanted('log')) process.exit(0);
// Double the program until one exhaustive exploration takes more than a minute (or 2^16 records).
let records = 16;
let largest = '';
for (;;) {
  const r = explore(logAppend(records),
    { exhaustiveLimit: Number.MAX_SAFE_INTEGER, maxStates: Number.MAX_SAFE_INTEGER });
  const line = `log append of ${records} fenced records: ${r.crashPoints} crash points, ${r.states} states, all ` +
    `exhaustive, ${(r.hostMs / 1000).toFixed(1)} s, ${Math.round(r.statesPerSecond)} states/s`;
  console.log(line);
  if (r.hostMs > 60_000) break;
  largest = line;
  if (records >= 65536) break;
  records *= 2;
}
console.log(`largest checked exhaustively within a minute: ${largest}`);
