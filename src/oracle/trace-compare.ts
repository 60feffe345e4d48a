// `daxsim kernel --trace`: the tracepoints the model fires (src/trace/ftrace.ts) recorded on the
// real kernel too, through tracefs in the guest (guest-init.sh enables them, runner.c brackets
// each step with "daxsim B I" / "daxsim E I" in trace_marker), and compared per step as
// sequences of event keys: the event's name, its address as mapping+offset (kernel addresses
// taken back by the runner's placement shift) or its file offset, page_fault_user's error code
// and the fs_dax VM_FAULT results. pids, timestamps, inode numbers, pfns, entries and fault flags
// are not compared (they differ between any two machines, or by the profile's tracepoint set).

import { runScenario } from '../scenario/run.ts';
import type { Scenario } from '../scenario/types.ts';
import { resolveProfile } from '../kernel/profiles.ts';
import { FtraceWriter } from '../trace/ftrace.ts';
import { TraceFanout } from '../trace/fanout.ts';
import type { StepFigures } from './model-side.ts';

/**
 * The tracefs events/ paths of what the model prints for `profile` (the profile's `tracepoints`
 * knob), jbd2 aside: the kernel commits in its jbd2 kthread, not in the step's task.
 */
export function guestTraceEvents(profile: string): string[] {
  const set = resolveProfile(profile).tracepoints;
  const ev = ['exceptions/page_fault_user', 'filemap/mm_filemap_add_to_page_cache',
    'filemap/mm_filemap_delete_from_page_cache'];
  return set === 'v3.15' ? ev : [...ev, 'fs_dax'];
}

/** One parsed trace line: `comm-pid [cpu] (flags) seconds: event: fields`. */
export interface TraceEvent { pid: number; event: string; fields: string }

const LINE = /^\s*(.*?)-(\d+)\s+\[\d+\]\s+(?:\S+\s+)?\d+\.\d+: ([\w]+): (.*)$/;

/** Parses trace text (tracefs `trace` or `trace-cmd report` lines); header and unknown lines are skipped. */
export function parseTraceLines(lines: string[]): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (const l of lines) {
    const m = LINE.exec(l);
    if (m) out.push({ pid: Number(m[2]), event: m[3]!, fields: m[4]! });
  }
  return out;
}

const MARK = /daxsim ([BE]) (\d+)/;

/**
 * The lines worth keeping of a guest's trace: the runner processes' own (the pids that wrote a
 * step marker) from the first marker on, and the ring buffer's `# entries-in-buffer/entries-written`.
 */
export function runnerLines(lines: string[]): string[] {
  const pids = new Set(parseTraceLines(lines).filter((e) => MARK.test(e.fields)).map((e) => e.pid));
  const first = lines.findIndex((l) => MARK.test(l)); // before it: the runner loading itself
  return lines.filter((l, n) => {
    if (l.startsWith('# entries-in-buffer')) return true;
    const m = LINE.exec(l);
    return n >= first && first >= 0 && m !== null && pids.has(Number(m[2]));
  });
}

/** Whether the ring buffer dropped events (entries in the buffer fewer than written). */
export function lostEvents(lines: string[]): boolean {
  const m = lines.map((l) => /entries-in-buffer\/entries-written: (\d+)\/(\d+)/.exec(l)).find((x) => x !== null);
  return m !== undefined && m !== null && m[1] !== m[2];
}

/**
 * The kernel's events per step: between a process's "daxsim B I" and "daxsim E I" markers, that
 * process's events only (other tasks' events and a runner's events outside a step are dropped).
 */
export function kernelStepEvents(lines: string[]): Map<number, TraceEvent[]> {
  const out = new Map<number, TraceEvent[]>();
  const open = new Map<number, number>();
  for (const e of parseTraceLines(lines)) {
    const m = e.event === 'tracing_mark_write' || e.event === 'print' ? MARK.exec(e.fields) : null;
    if (m) {
      if (m[1] === 'B') {
        open.set(e.pid, Number(m[2]));
        if (!out.has(Number(m[2]))) out.set(Number(m[2]), []);
      } else open.delete(e.pid);
      continue;
    }
    const step = open.get(e.pid);
    if (step !== undefined) out.get(step)!.push(e);
  }
  return out;
}

/** The model's ftrace lines per step of `s` run with `profile` (FtraceWriter on the model's kernel). */
export function modelStepLines(s: Scenario, profile: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  let pending: string[] = [];
  const scen = { ...s, kernel: { ...s.kernel, profile }, steps: s.steps.map((st) => ({ ...st, expect: undefined })) };
  runScenario(scen as Scenario, {
    collectHostTime: false,
    onMachine: (m) => {
      const fan = new TraceFanout(); // also installs the fault hook page_fault_user comes through
      fan.tracers.push(new FtraceWriter(m.k, (line) => pending.push(line)));
      fan.attach(m.k);
    },
    onStepDone: (r) => { out.set(r.index, pending); pending = []; },
  });
  return out;
}

/** A mapping of the model's run: where its mmap step put it. */
interface MapRange { name: string; start: number; end: number }

/** The model's mappings, in step order, from the mmap steps' results. */
export function mapRanges(s: Scenario, model: StepFigures[]): MapRange[] {
  const out: MapRange[] = [];
  for (const st of s.steps) {
    const r = model[st.index]?.r;
    if (st.op !== 'mmap' || r === undefined || r < 0) continue;
    const name = st.args.map ?? `step${st.index}`;
    out.push({ name, start: r, end: r + st.args.lengthBytes });
  }
  return out;
}

const ADDR = /address[= ](0x[0-9a-f]+|0)\b/;
const OFS = /ofs=(\d+)/;

const ERROR_CODE = /error_code=(0x[0-9a-f]+)/;
/** fs_dax events whose TP_printk ends with the VM_FAULT result (the _done events, load_hole, mkwrite). */
const RESULT_LAST = /^dax_(?:pte_fault_done|pmd_fault_done|load_hole|insert_pfn_mkwrite(?:_no_entry)?)$/;

/** What an event says beyond where: page_fault_user's error code, a fs_dax event's VM_FAULT result. */
function detail(e: TraceEvent): string {
  if (e.event === 'page_fault_user') return ` ${ERROR_CODE.exec(e.fields)?.[1] ?? '?'}`;
  if (!RESULT_LAST.test(e.event)) return '';
  const last = e.fields.trimEnd().split(' ').at(-1) ?? '';
  return /^[A-Z_|]+$/.test(last) ? ` ${last}` : ' -';
}

/**
 * The compared key of one event: name plus mapping+offset (address events) or file offset
 * (filemap), then page_fault_user's error code or a fs_dax event's VM_FAULT result.
 */
export function eventKey(e: TraceEvent, maps: MapRange[], shift: number): string {
  const a = ADDR.exec(e.fields);
  if (a) {
    const va = Number(a[1]) - shift;
    for (let i = maps.length - 1; i >= 0; i--) {
      const m = maps[i]!;
      if (va >= m.start && va < m.end) return `${e.event} ${m.name}+0x${(va - m.start).toString(16)}${detail(e)}`;
    }
    return `${e.event} ?0x${va.toString(16)}${detail(e)}`;
  }
  const o = OFS.exec(e.fields);
  return o ? `${e.event} ofs=${o[1]}` : e.event;
}

const FILEMAP_HEAD = /^dev (\d+):\d+ ino ([0-9a-f]+) /;

/**
 * Whether a kernel event is filesystem metadata in the page cache, which the model does not keep:
 * ext4's mballoc buddy cache (an inode numbered EXT4_BAD_INO, 1: ext4_mb_init_backend) and the
 * block device's own inode (bdev pseudo-fs, major 0: numbered by its dev_t, >= 1 << 20, on 6.x,
 * 0 on the 5.10 guest; buffer heads of bitmaps, inode tables and the journal).
 */
export function isMetadata(e: TraceEvent): boolean {
  if (!e.event.startsWith('mm_filemap_')) return false;
  const m = FILEMAP_HEAD.exec(e.fields);
  if (!m) return false;
  const ino = parseInt(m[2]!, 16);
  return ino === 1 || (m[1] === '0' && (ino === 0 || ino >= 1 << 20));
}

/** The events of the model's lines that the guest records (jbd2 commits run in the jbd2 kthread there). */
function recorded(e: TraceEvent): boolean {
  return !e.event.startsWith('jbd2_');
}

/** One step whose event sequences differ. */
export interface TraceDifference { step: number; model: string[]; kernel: string[] }

/**
 * Compares, per step the kernel marked, the model's and the kernel's key sequences. `shift` is
 * the runner header's placement shift (kernel address = model address + shift).
 */
export function compareTraces(model: Map<number, string[]>, kernel: Map<number, TraceEvent[]>, maps: MapRange[],
  shift: number): TraceDifference[] {
  const out: TraceDifference[] = [];
  for (const [step, evs] of [...kernel].sort((a, b) => a[0] - b[0])) {
    const k = evs.filter((e) => !isMetadata(e)).map((e) => eventKey(e, maps, shift));
    const m = parseTraceLines(model.get(step) ?? []).filter(recorded).map((e) => eventKey(e, maps, 0));
    if (k.length !== m.length || k.some((x, i) => x !== m[i])) out.push({ step, model: m, kernel: k });
  }
  return out;
}

/** A key sequence in short: runs of the same event name as `name xN (first key)`. */
export function summarise(keys: string[], max = 6): string {
  const runs: string[] = [];
  for (let i = 0; i < keys.length;) {
    const name = keys[i]!.split(' ')[0]!;
    let j = i;
    while (j < keys.length && keys[j]!.split(' ')[0] === name) j++;
    runs.push(j - i === 1 ? keys[i]! : `${name} x${j - i} (${keys[i]!.slice(name.length + 1)}..)`);
    i = j;
  }
  const more = runs.length > max ? ` +${runs.length - max} more` : '';
  return (runs.length === 0 ? 'none' : runs.slice(0, max).join(', ')) + more;
}
