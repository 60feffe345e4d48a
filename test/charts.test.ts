// `daxsim reproduce --plot`: Vega-Lite charts rendered to SVG headless (src/reproduce/charts.ts).
// Checks what the old hand-drawn SVGs got wrong (issue 13): every row drawn (a published 0 too),
// one shared scale and a titled axis per unit instead of each bar pair scaled alone, negative
// values drawn left of zero, a legend, labels not cut.
import test from 'node:test';
import assert from 'node:assert/strict';
import { experimentChartSvg, experimentSpec } from '../src/reproduce/charts.ts';
import type { Experiment } from '../src/reproduce/experiments.ts';

const E: Experiment = {
  name: 'test-exp', seed: '999', title: 'a chart with every kind of row', notes: [],
  rows: [
    { metric: 'a very long metric label that the old chart cut after sixty-eight characters, linux-4.15',
      unit: 'us', published: 10, simulated: 12, role: 'held-out', tolerance: 0.25 },
    { metric: 'zero published', unit: 'kB', published: 0, simulated: 4, role: 'held-out', tolerance: 0 },
    { metric: 'negative change', unit: 'kB', published: -300, simulated: -250, role: 'held-out', tolerance: 0.25 },
    { metric: 'model only', unit: 'calls', published: null, simulated: 4096, role: 'held-out', tolerance: null },
  ],
  histograms: [{ label: 'latency', published: [[1, 10], [2, 5]], simulated: [[1, 12], [4, 3]] }],
};

const texts = (svg: string): string[] => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);

test('the spec draws every row, one chart per unit, with the unit as the axis title', () => {
  const spec = experimentSpec(E) as unknown as { vconcat: Array<{ data: { values: Array<Record<string, unknown>> };
    encoding: { x: { title: string } } }> };
  assert.equal(spec.vconcat.length, 3 + 1, 'three units and one histogram');
  const all = spec.vconcat.slice(0, 3).flatMap((c) => c.data.values);
  assert.equal(all.length, 2 + 2 + 2 + 1, 'published and simulated per row, simulated alone without a published figure');
  assert.ok(all.some((d) => d['metric'] === 'zero published' && d['series'] === 'published' && d['value'] === 0));
  assert.ok(all.some((d) => d['value'] === -300), 'negative values stay negative');
  assert.deepEqual(spec.vconcat.slice(0, 3).map((c) => c.encoding.x.title), ['us', 'kB', 'calls']);
});

test('the rendered SVG has axes, a legend and whole labels, and a negative range on the axis of negative values', async () => {
  const svg = await experimentChartSvg(E);
  assert.match(svg, /^<svg /);
  const t = texts(svg);
  for (const label of ['published', 'simulated', 'us', 'kB', 'calls', 'faults', E.rows[0]!.metric, 'model only']) {
    assert.ok(t.includes(label), `text "${label}"`);
  }
  assert.ok(!t.some((x) => x.includes('…')), 'no label is cut');
  assert.ok(t.includes('-300') || t.includes('−300') || t.some((x) => /^[-−]\d/.test(x)), 'the kB axis has negative ticks');
});
