// Runs one variant of a scenario (in the main thread or a worker): loads the file, applies the
// variant's profile and knobs, attaches the breakdown collector and the trace writers, and
// returns plain data that crosses a worker boundary (structured clone).

import { loadScenarioFile } from '../scenario/load.ts';
import { runScenario, type RunOptions } from '../scenario/run.ts';
import type { Machine } from '../api/machine.ts';
import type { FaultTraceEvent } from '../kernel/kernel.ts';
import { BreakdownCollector } from '../trace/breakdown.ts';
import { applyVariant, type Variant } from './variants.ts';
import { variantJson, type VariantJson } from './result-json.ts';
import { faultWhere, formatFault } from './run-output.ts';
import type { ProgressLine } from '../lib/progress.ts';
import { FtraceWriter } from '../trace/ftrace.ts';
import { PerfettoWriter, type ChromeTrace } from '../trace/perfetto.ts';
import { TraceFanout } from '../trace/fanout.ts';

export type TraceFormat = 'daxsim' | 'ftrace' | 'perfetto';

export interface VariantRequest {
  file: string;
  variant: Variant;
  breakdown: boolean;
  hostTimes: boolean;
  trace: { format: TraceFormat; limit: number } | null;
}

export interface VariantOutcome {
  key: string;
  json: VariantJson;
  /** Text trace lines (daxsim or ftrace format), when not streamed. */
  traceLines: string[];
  /** Lines past the limit, not shown. */
  traceDropped: number;
  perfetto: ChromeTrace | null;
}

/** The text-trace writer: lines up to `limit`, then only counted. */
function lineSink(limit: number, emit: ((line: string) => void) | null, keep: string[]) {
  let n = 0;
  return {
    line(s: string): void {
      if (n++ >= limit) return;
      if (emit) emit(s);
      else keep.push(s);
    },
    dropped: (): number => Math.max(0, n - limit),
  };
}

/**
 * Run `req`; text trace lines go to `emit` as they happen when given (single variant, streamed),
 * else into the outcome; `progress`: the progress line of long steps (this thread only).
 */
export function runVariant(req: VariantRequest, emit: ((line: string) => void) | null = null,
  progress: ProgressLine | null = null): VariantOutcome {
  const scenario = applyVariant(loadScenarioFile(req.file), req.variant);
  const keep: string[] = [];
  const sink = lineSink(req.trace?.limit ?? 0, emit, keep);
  let collector: BreakdownCollector | null = null;
  let perfetto: PerfettoWriter | null = null;
  let machine: Machine | null = null;
  const opts: RunOptions = { collectHostTime: req.hostTimes, progress };
  opts.onMachine = (m: Machine): void => {
    machine = m;
    const fan = new TraceFanout();
    if (req.breakdown) {
      const c = new BreakdownCollector(m.k);
      collector = c;
      fan.faults.push((e) => c.onFault(e));
    }
    const t = req.trace;
    if (t?.format === 'daxsim') {
      fan.faults.push((e: FaultTraceEvent) => sink.line(formatFault({ ...e, where: faultWhere(m.k, e) })));
    } else if (t?.format === 'ftrace') {
      fan.tracers.push(new FtraceWriter(m.k, (s) => sink.line(s)));
    } else if (t?.format === 'perfetto') {
      perfetto = new PerfettoWriter(m.k);
      fan.tracers.push(perfetto);
    }
    fan.attach(m.k);
  };
  opts.onReady = () => collector?.start();
  opts.onStepDone = (s) => {
    collector?.step(s.index, s.op);
    perfetto?.step(s);
  };
  const result = runScenario(scenario, opts);
  void machine;
  const breakdown = collector === null ? undefined : (collector as BreakdownCollector).result();
  const json = variantJson(result, req.variant.knobs, req.hostTimes, breakdown);
  const pf = perfetto === null ? null : (perfetto as PerfettoWriter).finish();
  return { key: req.variant.key, json, traceLines: keep, traceDropped: sink.dropped(), perfetto: pf };
}
