// One hook, several consumers: the fault hook (Kernel.faultTrace) and the tracepoints
// (Kernel.tracer) each take one object; the CLI may want a breakdown, a text trace and a Perfetto
// trace of the same run.

import type { FaultTraceEvent, Kernel } from '../kernel/kernel.ts';
import type { Tracepoints } from '../lib/tracepoints.ts';

type Method = keyof Tracepoints;

export class TraceFanout {
  readonly faults: Array<(e: FaultTraceEvent) => void> = [];
  readonly tracers: Tracepoints[] = [];

  /** Install on `k`: nothing when no one listens (the untraced run keeps its single null check). */
  attach(k: Kernel): void {
    const faults = this.faults, tracers = this.tracers;
    if (faults.length === 0 && tracers.length === 0) return;
    k.faultTrace = (e) => {
      for (const f of faults) f(e);
      for (const t of tracers) t.faultDone(e);
    };
    if (tracers.length === 1) k.tracer = tracers[0]!;
    else if (tracers.length > 1) k.tracer = fanTracers(tracers);
  }
}

function fanTracers(ts: Tracepoints[]): Tracepoints {
  const names: Method[] = ['pageFaultUser', 'faultDone', 'daxPteFault', 'daxPmdFault', 'daxLoadHole',
    'daxPmdLoadHole', 'daxInsertMapping', 'daxInsertPfnMkwrite', 'daxWritebackRange', 'daxWritebackOne',
    'filemapAdd', 'filemapDelete', 'jbd2Commit', 'syscall'];
  const out: Record<string, (...a: unknown[]) => void> = {};
  for (const n of names) {
    out[n] = (...a: unknown[]) => { for (const t of ts) (t[n] as (...x: unknown[]) => void)(...a); };
  }
  return out as unknown as Tracepoints;
}
