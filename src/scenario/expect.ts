// Checking a step's `expect` against what the step did and the figures around it. A mismatch
// is a message (the runner collects them as the run's failures), never an exception.

import { errnoName } from '../lib/errno.ts';
import { firstMismatch, streamByte } from '../lib/data.ts';
import type { Expect, FileExpect, Step } from './types.ts';
import type { SignalRecord } from './steps/context.ts';

/** What a step did, as the runner records it. */
export interface StepResult {
  index: number;
  op: Step['op'];
  /** The call's return value (bytes, address, 0...), or an object (stat), or -errno / -signo. */
  result: number | object;
  /** Name of the errno when result is negative and no signal was raised. */
  errno?: string;
  signal?: SignalRecord;
  /** What the step read, as shown: hex up to 64 bytes, else an FNV-1a hash and the length (src/lib/data.ts). */
  data?: string;
  /** The bytes themselves (not serialised in JSON reports). */
  bytes?: Uint8Array;
  /** Simulated time the step took on its task's clock. */
  simNs: number;
  /** Host wall time of the step (0 when collectHostTime is false). */
  hostWallNs: number;
}

export interface FileFigures {
  sizeBytes: number;
  blocks: number;
  /** DAX files: entries in the mapping's tree, and those marked DIRTY. */
  daxEntries?: number;
  daxDirtyEntries?: number;
}

export interface Report {
  /** /proc/vmstat deltas since the previous report (or the start). */
  vmstat: Record<string, number>;
  /** getrusage fault deltas, summed over every process. */
  rusage: { minflt: number; majflt: number };
  /** /proc/meminfo, absolute, kB. */
  meminfo: Record<string, number>;
  /** Model event deltas (machine.modelEvents()). */
  events: Record<string, number>;
  /** smaps figures by map name, absolute; maps no longer mapped are left out. */
  smaps: Record<string, Record<string, number | string>>;
  /** stat figures by path of every file created or opened so far that still exists. */
  files: Record<string, FileFigures>;
}

/** `steps[4] (report pass1)` or `steps[2] (mmap)`. */
export function where(step: Step): string {
  return step.op === 'report' ? `steps[${step.index}] (report ${step.args.name})` : `steps[${step.index}] (${step.op})`;
}

type Say = (field: string, expected: string | number, got: string | number) => void;

/** errno, signal, signalPage and result: what the call itself returned. */
function checkOutcome(e: Expect, sr: StepResult, say: Say): void {
  const num = typeof sr.result === 'number' ? sr.result : 0;
  if (e.errno !== undefined) {
    const got = sr.signal !== undefined ? sr.signal.signal : num >= 0 ? 'ok' : errnoName(-num);
    const want = e.errno === 'ENOTSUP' ? 'EOPNOTSUPP' : e.errno;
    if (got !== want) say('errno', e.errno, got === 'ok' ? `ok (result ${num})` : got);
  }
  if (e.signal !== undefined) {
    const got = sr.signal?.signal ?? 'none';
    if (got !== e.signal) say('signal', e.signal, got);
  }
  if (e.signalPage !== undefined) {
    const got = sr.signal?.page;
    if (got !== e.signalPage) say('signalPage', e.signalPage, got ?? 'none');
  }
  if (e.result !== undefined) {
    if (typeof sr.result !== 'number') say('result', e.result, JSON.stringify(sr.result));
    else if (sr.result !== e.result) say('result', e.result, sr.result);
  }
  if (e.data !== undefined) {
    if (sr.bytes === undefined) say('data', 'the bytes read', 'no data (the step read nothing, or over 1 MiB)');
    else {
      const at = firstMismatch(e.data, sr.bytes);
      if (at >= 0) say(`data[${at}]`, streamByte(e.data, at), `${sr.bytes[at]} (read ${sr.data ?? ''})`);
    }
  }
}

function checkFiles(at: string, want: Record<string, FileExpect>, got: Report['files'], out: string[], say: Say): void {
  for (const [path, w] of Object.entries(want)) {
    const g = got[path];
    const label = `files[${JSON.stringify(path)}]`;
    if (g === undefined) {
      out.push(`${at}: ${label} does not exist or was never created/opened`);
      continue;
    }
    if (w.sizeBytes !== undefined && w.sizeBytes !== g.sizeBytes) say(`${label}.sizeBytes`, w.sizeBytes, g.sizeBytes);
    if (w.blocks !== undefined && w.blocks !== g.blocks) say(`${label}.blocks`, w.blocks, g.blocks);
  }
}

type SmapsExpect = NonNullable<Expect['smaps']>;

function checkSmaps(at: string, want: SmapsExpect, got: Report['smaps'], out: string[], say: Say): void {
  const shown = (v: number | string): number | string => (typeof v === 'string' ? JSON.stringify(v) : v);
  for (const [map, fields] of Object.entries(want)) {
    const g = got[map];
    if (g === undefined) {
      out.push(`${at}: smaps.${map}: the map is not mapped`);
      continue;
    }
    for (const [field, v] of Object.entries(fields)) {
      const value = g[field];
      if (value === undefined) {
        out.push(`${at}: smaps.${map}.${field} is not an smaps field (known: ${Object.keys(g).join(', ')})`);
      } else if (value !== v) {
        say(`smaps.${map}.${field}`, shown(v), shown(value));
      }
    }
  }
}

/** Appends to `failures` one message per field of `e` that `sr` and `figures` do not match. */
export function checkExpect(step: Step, e: Expect, sr: StepResult, figures: Report, failures: string[]): void {
  const at = where(step);
  const say: Say = (field, expected, got) => {
    failures.push(`${at}: ${field} expected ${expected}, got ${got}`);
  };
  checkOutcome(e, sr, say);
  const counters = (group: string, want: Record<string, number> | undefined, got: Record<string, number>): void => {
    if (want === undefined) return;
    for (const [k, v] of Object.entries(want)) {
      const g = got[k];
      if (g === undefined) {
        failures.push(`${at}: ${group}.${k} is not a ${group} counter (known: ${Object.keys(got).join(', ')})`);
      } else if (g !== v) {
        say(`${group}.${k}`, v, g);
      }
    }
  };
  counters('vmstat', e.vmstat, figures.vmstat);
  counters('rusage', e.rusage as Record<string, number> | undefined, figures.rusage);
  counters('meminfo', e.meminfo, figures.meminfo);
  counters('events', e.events, figures.events);
  checkFiles(at, e.files ?? {}, figures.files, failures, say);
  checkSmaps(at, e.smaps ?? {}, figures.smaps, failures, say);
}
