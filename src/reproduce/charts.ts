/**
 * `daxsim reproduce --plot DIR`: one SVG per experiment from a Vega-Lite spec, rendered headless
 * (vega's View with the "none" renderer, no browser or canvas). Rows are grouped by unit, one bar
 * chart per unit with its own x axis titled with the unit, so figures of one unit share one
 * scale and bars of different units are never drawn against each other; every row is drawn
 * (zero and negative values too, from a zero baseline), published and simulated side by side with
 * a legend; rows without a published figure show the simulated bar alone. Kara's latency
 * histograms are grouped bars of counts per power-of-two bucket.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { Experiment } from './experiments.ts';

type Datum = Record<string, string | number>;

const SERIES = { domain: ['published', 'simulated'], range: ['#8c8c8c', '#2a6fdb'] };

/** The rows of one unit as a grouped horizontal bar chart. */
function unitChart(e: Experiment, unit: string): Record<string, unknown> {
  const values: Datum[] = [];
  for (const r of e.rows.filter((x) => x.unit === unit)) {
    if (r.published !== null) values.push({ metric: r.metric, series: 'published', value: r.published, role: r.role });
    values.push({ metric: r.metric, series: 'simulated', value: r.simulated, role: r.role });
  }
  return {
    title: { text: `unit: ${unit}`, anchor: 'start', fontSize: 12 },
    data: { values },
    width: 420,
    height: { step: 14 },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'metric', type: 'nominal', sort: null, title: null, axis: { labelLimit: 0 } },
      yOffset: { field: 'series', type: 'nominal', scale: { domain: SERIES.domain } },
      x: { field: 'value', type: 'quantitative', title: unit, scale: { zero: true },
        axis: { format: '~s', grid: true } },
      color: { field: 'series', type: 'nominal', scale: SERIES, legend: { title: null, orient: 'top' } },
    },
  };
}

/** Kara's histogram: bucket counts, published beside simulated. */
function histogramChart(h: Experiment['histograms'][number]): Record<string, unknown> {
  const values: Datum[] = [];
  const label = (b: number): string => `${b}-${2 * b - 1} us`;
  for (const [b, n] of h.published ?? []) values.push({ bucket: label(b), low: b, series: 'published', count: n });
  for (const [b, n] of h.simulated) values.push({ bucket: label(b), low: b, series: 'simulated', count: n });
  return {
    title: { text: h.label, anchor: 'start', fontSize: 12 },
    data: { values },
    width: { step: 28 },
    height: 160,
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'bucket', type: 'ordinal', sort: { field: 'low' }, title: 'fault latency bucket',
        axis: { labelAngle: -40 } },
      xOffset: { field: 'series', type: 'nominal', scale: { domain: SERIES.domain } },
      y: { field: 'count', type: 'quantitative', title: 'faults' },
      color: { field: 'series', type: 'nominal', scale: SERIES, legend: { title: null, orient: 'top' } },
    },
  };
}

/** The experiment's Vega-Lite spec (exported for tests: what is drawn, before rendering). */
export function experimentSpec(e: Experiment): vl.TopLevelSpec {
  const units = [...new Set(e.rows.map((r) => r.unit))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `${e.name}: ${e.title}`, subtitle: `seed ${e.seed}`, anchor: 'start' },
    config: { font: 'sans-serif', view: { stroke: null } },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    vconcat: [...units.map((u) => unitChart(e, u)), ...e.histograms.map(histogramChart)],
  } as unknown as vl.TopLevelSpec;
}

/** Render the experiment's chart to SVG, headless. */
export async function experimentChartSvg(e: Experiment): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(experimentSpec(e)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
