/**
 * Contention between concurrent tasks for what a fault holds only for CPU time inside one step
 * (src/kernel/sched.ts runs each step to completion): page-table entries another thread's fault
 * has not yet installed in simulated time, and DAX entry locks held by another task's fault.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Machine, Process } from '../src/api/machine.ts';
import { runConcurrently, type Worker } from '../src/kernel/sched.ts';
import { O_RDWR, O_CREAT, O_TRUNC, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FIXED } from '../src/mm/constants.ts';
import { daxMachine, tmpfsMachine, MiB, PG, A } from './support.ts';

/** An empty (sparse) file of `sizeBytes` mapped shared read-write at A. */
function emptyMapping(p: Process, path: string, sizeBytes: number): number {
  const fd = p.open(path, O_RDWR | O_CREAT | O_TRUNC);
  assert.ok(fd >= 0);
  assert.equal(p.ftruncate(fd, sizeBytes), 0);
  const a = p.mmap(A, sizeBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
  assert.equal(a, A);
  return a;
}

interface Outcome {
  /** Per task: simulated latency of its one store (ns), faults taken (minflt + majflt), final clock. */
  latencyNs: number[];
  faults: number[];
  clockNs: number[];
  events: Record<string, number>;
  vmstat: Record<string, number>;
}

/**
 * Each task stores one byte at its address, all starting at the same simulated time, under the
 * scheduler with `cpus` CPUs (one step = one store).
 */
function storeTogether(m: Machine, tasks: Process[], addrs: number[], cpus: number): Outcome {
  const start = Math.max(...tasks.map((t) => t.clockNs));
  for (const t of tasks) t.task.clockNs = start;
  const f0 = tasks.map((t) => t.task.minflt + t.task.majflt);
  const latencyNs = tasks.map(() => 0);
  const workers: Worker[] = tasks.map((t, i) => ({
    task: t.task,
    step: () => {
      const t0 = t.clockNs;
      assert.equal(t.store(addrs[i]!, 0x40 + i), 0);
      latencyNs[i] = t.clockNs - t0;
      return false;
    },
  }));
  runConcurrently(m.k, workers, workers, cpus);
  assert.equal(m.k.concurrent, false, 'the concurrent flag is restored after the run');
  return {
    latencyNs,
    faults: tasks.map((t, i) => t.task.minflt + t.task.majflt - f0[i]!),
    clockNs: tasks.map((t) => t.clockNs),
    events: m.modelEvents(),
    vmstat: m.vmstat(),
  };
}

// Two threads of one process write the same page of an empty file on ext4 -o dax at the same
// instant. In Linux (fs/dax.c v6.1 dax_iomap_pte_fault: grab_mapping_entry -> get_unlocked_entry
// -> wait_entry_unlocked; 4.15 has the same wait in get_unlocked_mapping_entry) the second thread
// faults too (its PTE is still empty), sleeps on the entry lock the first holds across the block
// allocation and zeroing in ext4_iomap_begin, then finds the PTE installed and returns
// VM_FAULT_NOPAGE. So both count one fault and the second's latency is the first's.
for (const profile of ['linux-6.1', 'linux-4.15']) {
  test(`${profile}: two threads writing the same new DAX page: the second faults and waits for the first's allocating `
    + `fault`, () => {
    const m = daxMachine(profile);
    const p = m.process();
    // 64 KiB: too small for a PMD, so both go the PTE way.
    const a = emptyMapping(p, '/mnt/f', 64 * 1024);
    const q = m.thread(p, 'second');
    const o = storeTogether(m, [p, q], [a + 3, a + 5], 2);
    assert.deepEqual(o.faults, [1, 1], 'each thread takes exactly one fault');
    assert.ok(o.latencyNs[0]! > 10_000, `the first fault allocates and zeroes a block (${o.latencyNs[0]} ns)`);
    assert.ok(Math.abs(o.latencyNs[1]! - o.latencyNs[0]!) < m.k.costs.faultEntryNs,
      `the second waited for the first: ${o.latencyNs[1]} vs ${o.latencyNs[0]} ns`);
    assert.equal(o.events['faultInstallWaits'], 1);
    assert.ok(o.events['faultInstallWaitNs']! > 10_000);
    assert.equal(o.events['daxPteFaults'], 1, 'only the first reached the DAX fault handler');
    assert.equal(q.task.minflt, 1, 'the second fault is minor: it found the entry installed');
    assert.equal(q.task.majflt, 0);
    assert.equal(p.load(a + 3), 0x40);
    assert.equal(p.load(a + 5), 0x41);

    // Single-task (no scheduler): the same two stores one after the other, unchanged behaviour:
    // the second thread finds the PTE and takes no fault, and nothing waits.
    const m2 = daxMachine(profile);
    const p2 = m2.process();
    const a2 = emptyMapping(p2, '/mnt/f', 64 * 1024);
    const q2 = m2.thread(p2, 'second');
    q2.task.clockNs = p2.clockNs;
    assert.equal(p2.store(a2 + 3, 1), 0);
    const before = q2.task.minflt + q2.task.majflt;
    assert.equal(q2.store(a2 + 5, 2), 0);
    assert.equal(q2.task.minflt + q2.task.majflt - before, 0);
    assert.equal(m2.modelEvents()['faultInstallWaits'], 0);
    assert.equal(m2.modelEvents()['daxEntryWaits'], 0);
    assert.equal(m2.k.concurrent, false);
  });
}

// Same two threads, one CPU: the scheduler runs the second only when the first's fault is over
// (a DAX fault does not sleep), so the second sees the PTE and takes no fault: nothing is waited
// for that the CPU did not already serialise.
test('linux-6.1: on one CPU the second thread runs after the first fault and takes no fault', () => {
  const m = daxMachine('linux-6.1');
  const p = m.process();
  const a = emptyMapping(p, '/mnt/f', 64 * 1024);
  const q = m.thread(p, 'second');
  const o = storeTogether(m, [p, q], [a, a + 8], 1);
  assert.deepEqual(o.faults, [1, 0]);
  assert.equal(o.events['faultInstallWaits'], 0);
  assert.ok(o.clockNs[1]! >= o.clockNs[0]!);
});

// A page-cache (tmpfs) file: in Linux (mm/memory.c v6.1 __do_fault/finish_fault with the folio
// lock from shmem_fault, and the PTE lock in finish_fault, which re-checks pte_none and returns
// VM_FAULT_NOPAGE) the second thread faults, waits for the first's short fault (page allocation
// and zeroing, no I/O) and maps nothing itself.
test('linux-6.1 tmpfs: the second thread faults and waits only for the first thread\'s short fault', () => {
  const m = tmpfsMachine('linux-6.1');
  const p = m.process();
  const a = emptyMapping(p, '/tmp/f', 64 * 1024);
  const q = m.thread(p, 'second');
  const o = storeTogether(m, [p, q], [a + 1, a + 2], 2);
  assert.deepEqual(o.faults, [1, 1]);
  assert.ok(o.latencyNs[0]! < 5_000, `a tmpfs write fault is short (${o.latencyNs[0]} ns)`);
  assert.ok(o.latencyNs[1]! <= o.latencyNs[0]! + m.k.costs.accessHitNs && o.latencyNs[1]! >= o.latencyNs[0]! - m.k.costs.faultEntryNs,
    `the second waited for the first and no longer: ${o.latencyNs[1]} vs ${o.latencyNs[0]} ns`);
  assert.equal(o.events['faultInstallWaits'], 1);
  assert.ok(o.events['faultInstallWaitNs']! > 0 && o.events['faultInstallWaitNs']! < 5_000);
  assert.equal(o.events['daxEntryWaits'], 0);
  assert.equal(p.rusage().minflt + p.rusage().majflt, 2, 'rusage sums the threads: two faults');
});

// Two threads write different pages of one 2 MiB-aligned, PMD-eligible empty DAX file. The first
// takes a PMD fault (fs/dax.c v6.1 dax_iomap_pmd_fault: the PMD-order entry is locked while
// ext4 allocates and zeroes 2 MiB); the second's page is under the same PMD entry, so in Linux it
// faults (its PMD is still empty), waits for that entry and returns when the huge PMD is there
// (or, where it misses the lock, on the PMD lock in vmf_insert_pfn_pmd): one fault, and the wait.
test('linux-6.1: two threads writing different pages of one 2 MiB DAX extent: the second waits on the PMD '
  + 'install', () => {
  const m = daxMachine('linux-6.1');
  const p = m.process();
  const a = emptyMapping(p, '/mnt/f', 2 * MiB);
  const q = m.thread(p, 'second');
  const o = storeTogether(m, [p, q], [a + 7 * PG, a + 300 * PG], 2);
  assert.deepEqual(o.faults, [1, 1]);
  assert.equal(o.events['daxPmdFaults'], 1, 'one PMD fault, by the first thread');
  assert.equal(o.events['daxPmdFallbacks'], 0);
  assert.equal(o.events['daxPteFaults'], 0);
  assert.equal(o.events['faultInstallWaits'], 1);
  assert.ok(o.latencyNs[0]! > 10_000, `the PMD fault allocates and zeroes 2 MiB (${o.latencyNs[0]} ns)`);
  assert.ok(Math.abs(o.latencyNs[1]! - o.latencyNs[0]!) < m.k.costs.faultEntryNs,
    `the second waited for the PMD: ${o.latencyNs[1]} vs ${o.latencyNs[0]} ns`);
  assert.equal(q.load(a + 7 * PG), 0x40);
  assert.equal(p.load(a + 300 * PG), 0x41);
});

// Two processes (separate page tables) write the same new page of one DAX file at once. The
// second's PTE is its own, so nothing is installed for it: it reaches grab_mapping_entry and, in
// Linux (fs/dax.c v6.1 get_unlocked_entry / wait_entry_unlocked on the hashed wait queue), sleeps
// until the first unlocks the entry after allocating the block; then it maps the same block as a
// minor fault (no allocation of its own).
for (const profile of ['linux-6.1', 'linux-4.15']) {
  test(`${profile}: two processes writing the same new DAX page: the second waits on the DAX entry lock`, () => {
    const m = daxMachine(profile);
    const p = m.process('one');
    const a = emptyMapping(p, '/mnt/f', 64 * 1024);
    const q = m.process('two');
    const fd = q.open('/mnt/f', O_RDWR);
    assert.equal(q.mmap(A, 64 * 1024, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0), A);
    const o = storeTogether(m, [p, q], [a, a + 1], 2);
    assert.deepEqual(o.faults, [1, 1]);
    assert.equal(o.events['daxEntryWaits'], 1);
    assert.ok(o.events['daxEntryWaitNs']! > 10_000, `waited for the allocation (${o.events['daxEntryWaitNs']} ns)`);
    assert.equal(o.events['faultInstallWaits'], 0, 'separate page tables: no shared PTE to wait for');
    assert.equal(q.task.majflt, 0, 'the second found the block allocated');
    assert.ok(o.latencyNs[1]! >= o.latencyNs[0]!, `the second ends after the first: ${o.latencyNs[1]} vs ${o.latencyNs[0]} ns`);
    assert.ok(o.latencyNs[1]! < o.latencyNs[0]! + 5_000, 'and only by its own short fault');
    assert.equal(q.load(a), 0x40);
  });
}

// Determinism: the scheduler has no randomness, so the same concurrent workload (four threads,
// two pages each way, DAX and tmpfs) gives the same clocks and counters on every run.
test('the same concurrent workload run twice gives identical clocks and counters', () => {
  const once = (): unknown => {
    const out: unknown[] = [];
    for (const kind of ['dax', 'tmpfs'] as const) {
      const m = kind === 'dax' ? daxMachine('linux-6.1') : tmpfsMachine('linux-6.1');
      const p = m.process();
      const a = emptyMapping(p, kind === 'dax' ? '/mnt/f' : '/tmp/f', 64 * 1024);
      const ts = [p, m.thread(p, 't1'), m.thread(p, 't2'), m.thread(p, 't3')];
      const o = storeTogether(m, ts, [a, a + 1, a + PG, a + PG + 1], 2);
      out.push(o);
    }
    return out;
  };
  assert.deepEqual(once(), once());
});

/** Processes `names`, each mapping the same empty 64 KiB DAX file shared at A. */
function sharers(m: Machine, names: string[]): Process[] {
  const ps = names.map((n) => m.process(n));
  const fd0 = ps[0]!.open('/mnt/f', O_RDWR | O_CREAT | O_TRUNC);
  assert.equal(ps[0]!.ftruncate(fd0, 64 * 1024), 0);
  for (const p of ps) {
    const fd = p === ps[0] ? fd0 : p.open('/mnt/f', O_RDWR);
    assert.equal(p.mmap(A, 64 * 1024, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0), A);
  }
  const start = Math.max(...ps.map((p) => p.clockNs));
  for (const p of ps) p.task.clockNs = start;
  return ps;
}

// Three processes write the same new DAX page at once on three CPUs. In Linux the entry's wait
// queue (fs/dax.c v6.1 wait_entry_unlocked; dax_wake_entry wakes one exclusive waiter per unlock)
// hands the lock on: the second takes it when the first unlocks, the third when the second does.
// The model keeps the touching holds as one busy interval, so the third queues behind both.
test('linux-6.1: three processes on one DAX entry queue behind each other', () => {
  const m = daxMachine('linux-6.1');
  const ps = sharers(m, ['one', 'two', 'three']);
  const o = storeTogether(m, ps, [A, A + 1, A + 2], 3);
  assert.deepEqual(o.faults, [1, 1, 1]);
  assert.equal(o.events['daxEntryWaits'], 2);
  assert.ok(o.latencyNs[0]! < o.latencyNs[1]! && o.latencyNs[1]! < o.latencyNs[2]!, `served in order: ${o.latencyNs.join(', ')} ns`);
});

// The model's granularity is one step: a task whose clock is before the moment another task's
// (already simulated) fault took the entry lock would have taken it first in Linux, so it does
// not wait for that hold (fs/dax.c v6.1 grab_mapping_entry finds the entry unlocked); it sees the
// tree as that fault left it.
test('linux-6.1: a task that reaches the DAX entry before the other fault locked it does not wait', () => {
  const m = daxMachine('linux-6.1');
  const [p, q] = sharers(m, ['one', 'two']);
  const workers: Worker[] = [
    // The first worker runs first (same clock, earlier in the list) but thinks for 5 us before its store.
    { task: p!.task, step: () => { p!.task.clockNs += 5000; assert.equal(p!.store(A, 1), 0); return false; } },
    { task: q!.task, step: () => { assert.equal(q!.store(A + 1, 2), 0); return false; } },
  ];
  runConcurrently(m.k, workers, workers, 2);
  assert.equal(m.modelEvents()['daxEntryWaits'], 0);
  assert.equal(q!.task.minflt + q!.task.majflt, 1);
  assert.equal(q!.load(A), 1);
});
