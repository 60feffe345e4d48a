/**
 * A binary min-heap of pending completions keyed by (doneNs, seq): the kernel's queue of I/O
 * completions (src/kernel/kernel.ts schedule/runDue). The order is total (seq is unique and grows),
 * so completions come out in exactly the order a sorted list would give them: by time, and in
 * submission order among equal times. O(log n) per insert and removal instead of the O(n) of
 * splice/shift, which made a 500 MiB fsync (one completion per bio) quadratic.
 */
import { assert } from './assert.ts';

export interface HeapEvent {
  doneNs: number;
  seq: number;
  fn: () => void;
}

function before(a: HeapEvent, b: HeapEvent): boolean {
  return a.doneNs < b.doneNs || (a.doneNs === b.doneNs && a.seq < b.seq);
}

export class EventHeap {
  private readonly items: HeapEvent[] = [];

  get length(): number { return this.items.length; }

  /** The earliest event, or undefined when empty. */
  peek(): HeapEvent | undefined { return this.items[0]; }

  push(e: HeapEvent): void {
    const a = this.items;
    let i = a.length;
    a.push(e);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = a[parent]!;
      if (!before(e, p)) break;
      a[i] = p;
      i = parent;
    }
    a[i] = e;
  }

  /** Remove and return the earliest event (asserts the heap is not empty). */
  pop(): HeapEvent {
    const a = this.items;
    assert(a.length > 0, 'pop of an empty event heap');
    const top = a[0]!;
    const last = a.pop()!;
    const n = a.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(a[r]!, a[l]!) ? r : l;
      if (!before(a[c]!, last)) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}
