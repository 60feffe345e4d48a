// The pending-I/O queue (src/lib/event-heap.ts) must hand completions back in exactly the order the
// sorted list it replaces did: by completion time, then by submission order (the kernel's
// schedule/runDue contract; determinism of every recorded figure depends on it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventHeap } from '../src/lib/event-heap.ts';

test('events come out by (doneNs, seq), equal times in submission order, like a sorted insert', () => {
  const h = new EventHeap();
  const sorted: Array<{ doneNs: number; seq: number }> = [];
  let s = 7, seq = 0;
  const out: number[] = [], want: number[] = [];
  for (let round = 0; round < 2000; round++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    if (s % 3 !== 0 || h.length === 0) {
      const e = { doneNs: s % 50, seq: seq++, fn: () => {} };
      h.push(e);
      let i = sorted.length;
      while (i > 0 && sorted[i - 1]!.doneNs > e.doneNs) i--;
      sorted.splice(i, 0, e);
    } else {
      out.push(h.pop().seq);
      want.push(sorted.shift()!.seq);
    }
  }
  while (h.length > 0) { out.push(h.pop().seq); want.push(sorted.shift()!.seq); }
  assert.deepEqual(out, want);
  assert.equal(sorted.length, 0);
});

test('pop of an empty heap is an assertion, not undefined', () => {
  assert.throws(() => new EventHeap().pop(), /empty event heap/);
});
