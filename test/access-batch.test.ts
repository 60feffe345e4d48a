// access() with a stride smaller than a page counts the loads that stay in a page whose PTE the
// previous load used as TLB hits in one step (src/api/machine.ts readHitsInPage): nothing in the
// kernel runs for them. The result must be the same as loading byte by byte: the same faults,
// clock, hits, and the same signal where a load faults (API fuzzer seed 15000536: a 1 TiB read at
// stride 64 over anonymous memory took 110 s, the zero-page faults alone being what Linux does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../src/api/machine.ts';
import { O_RDWR, O_CREAT, PROT_READ, MAP_PRIVATE, MAP_SHARED, MAP_ANONYMOUS } from '../src/mm/constants.ts';

const MiB = 2 ** 20;

function run(batched: boolean, descending: boolean) {
  const m = new Machine({ profile: 'linux-6.1', memoryBytes: 256 * MiB });
  m.mount('/t', 'tmpfs');
  const p = m.process();
  const fd = p.open('/t/f', O_RDWR | O_CREAT);
  p.ftruncate(fd, 40 * 4096 + 100); // the last page is partly past EOF: the access ends with SIGBUS
  const f = p.mmap(0, 64 * 4096, PROT_READ, MAP_SHARED, fd, 0);
  const a = p.mmap(0, 4 * MiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const out: number[] = [];
  const one = (base: number, len: number, stride: number): number => {
    if (batched) return p.access(base, len, stride, false, descending);
    const n = Math.ceil(len / stride);
    for (let j = 0; j < n; j++) {
      const r = p.load(base + (descending ? n - 1 - j : j) * stride);
      if (r < 0) return r;
    }
    return n;
  };
  out.push(one(a + 100, 4 * MiB - 100, 64), one(a, 4 * MiB, 1000), one(f, 64 * 4096, 48));
  return { out, clock: p.clockNs, hits: m.k.current.accessHits, vm: m.vmstat() };
}

for (const descending of [false, true]) {
  test(`access() ${descending ? 'descending' : 'ascending'} at strides under a page gives what loads one by one ` +
    'give: results, SIGBUS past EOF, faults, clock and hits', () => {
    const b = run(true, descending), s = run(false, descending);
    assert.deepEqual(b.out, s.out);
    assert.equal(b.out[2], -7, 'the file mapping ends in SIGBUS past EOF');
    assert.equal(b.clock, s.clock);
    assert.equal(b.hits, s.hits);
    assert.deepEqual(b.vm, s.vm);
  });
}
