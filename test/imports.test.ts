// The layering rule of the README's architecture section, checked on the source text:
// no runtime import circle anywhere in src/, and src/mm/ loads nothing at run time from
// src/fs/, src/dax/ or the layers above it (type-only imports are erased by type stripping,
// as mm/ in Linux includes linux/fs.h for the shapes only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importGraph, findCycles } from './support/imports.ts';

const graph = importGraph('src');

test('no runtime import circle anywhere in src/ (README: Architecture)', () => {
  const cycles = findCycles(graph);
  assert.deepEqual(cycles.map((c) => c.join(' -> ')), []);
});

test('src/mm/ imports nothing at run time from fs/, dax/ or any layer above mm (README: Architecture)', () => {
  const allowed = ['src/mm/', 'src/lib/', 'src/hw/'];
  const bad: string[] = [];
  for (const [from, tos] of graph) {
    if (!from.startsWith('src/mm/')) continue;
    for (const to of tos) if (!allowed.some((a) => to.startsWith(a))) bad.push(`${from} -> ${to}`);
  }
  assert.deepEqual(bad, []);
});

test('the kernel context (src/kernel/kernel.ts) loads no mechanism it hands out: lru, vfs, populate are wired in by api/', () => {
  const allowed = ['src/lib/', 'src/hw/', 'src/kernel/costs.ts', 'src/kernel/counters.ts', 'src/mm/mm.ts', 'src/mm/pgtable.ts'];
  const tos = graph.get('src/kernel/kernel.ts') ?? [];
  assert.ok(tos.length > 0, 'kernel.ts was read');
  assert.deepEqual(tos.filter((to) => !allowed.some((a) => to.startsWith(a))), []);
});

test('the checker sees a runtime circle and ignores type-only imports (self-test on a synthetic graph)', () => {
  const g = new Map<string, string[]>([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
  assert.deepEqual(findCycles(g), [['a', 'b', 'c', 'a']]);
  const real = importGraph('src');
  // lib/ is the bottom layer: it imports nothing from the model.
  for (const [from, tos] of real) {
    if (from.startsWith('src/lib/')) for (const to of tos) assert.ok(to.startsWith('src/lib/'), `${from} -> ${to}`);
  }
});
