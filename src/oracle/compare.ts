// Compares a real run (runner.c's lines) with the model's figures for the same steps, field by
// field, exactly. Fields a real run lacks (PFN classes when not root) are not compared.

import type { MapFigures, StepFigures } from './model-side.ts';
import type { RealRun } from './host.ts';
import type { Scenario } from '../scenario/types.ts';

/** One figure that differs: step index, a field path such as `maps.m.mc`, and both values. */
export interface Difference {
  step: number;
  op: string;
  field: string;
  model: string;
  kernel: string;
}

const MAP_FIELDS: Array<keyof MapFigures> = ['va2m', 'rss', 'anon', 'ahp', 'fpmd', 'mc', 'pr', 'fi', 'ex', 'sd',
  'zp', 'pm'];

function show(v: unknown): string {
  return v === undefined ? '-' : typeof v === 'string' ? v : JSON.stringify(v);
}

/** The fields of one step, flattened to `field -> value` (what both sides are compared on). */
export function flatten(f: StepFigures, op: string, root: boolean): Map<string, string> {
  const out = new Map<string, string>();
  // open returns a descriptor number, which the runner's own descriptors shift; the model's
  // dropCaches returns the pages it dropped, the kernel's write of drop_caches nothing comparable.
  if ((op === 'open' || op === 'dropCaches') && f.r >= 0) out.set('result', 'ok');
  else out.set('result', show(f.r));
  out.set('errno', show(f.e));
  out.set('signal', f.sig === undefined ? '-' : `${f.sig}@${f.sp}`);
  out.set('minflt', show(f.min));
  out.set('majflt', show(f.maj));
  if (f.va2m !== undefined) out.set('va%2M', show(f.va2m));
  if (f.d !== undefined) out.set('data', f.d);
  if (f.stat !== undefined) out.set('stat', `size=${f.stat.size} blocks=${f.stat.blocks}`);
  for (const [name, m] of Object.entries(f.maps ?? {})) {
    for (const k of MAP_FIELDS) if (root || (k !== 'zp' && k !== 'pm')) out.set(`maps.${name}.${k}`, show(m[k]));
  }
  for (const [path, v] of Object.entries(f.files ?? {})) {
    out.set(`files.${path}.size`, show(v.size));
    out.set(`files.${path}.blocks`, show(v.blocks));
  }
  return out;
}

/**
 * The model's figures as a kernel without CONFIG_MEM_SOFT_DIRTY shows them (no soft-dirty bit
 * anywhere), when the real run's header says soft-dirty is off; the model cannot know the config.
 */
export function forEnv(f: StepFigures, softDirty: boolean): StepFigures {
  if (softDirty || f.maps === undefined) return f;
  const maps: Record<string, MapFigures> = {};
  for (const [name, m] of Object.entries(f.maps)) {
    const n = m.sd.split(',').reduce((a, run) => a + Number(run.slice(2)), 0);
    maps[name] = { ...m, sd: n > 0 ? `0x${n}` : '' };
  }
  return { ...f, maps };
}

/** Every difference between the model's steps and a real run of scenario `s`. */
export function compareRun(s: Scenario, model: StepFigures[], real: RealRun): Difference[] {
  const diffs: Difference[] = [];
  const byIndex = new Map(real.steps.map((st) => [st.i, st]));
  // Runs recorded before the runner printed data (load, read, mincore bytes) carry none at all:
  // their data is not compared (a run with data on any step has it on every step that returns some).
  const realHasData = real.steps.some((st) => st.d !== undefined);
  for (const st of s.steps) {
    const m0 = model[st.index];
    const m = m0 === undefined ? undefined : forEnv(m0, real.header.soft_dirty);
    const k = byIndex.get(st.index);
    if (m === undefined || k === undefined) {
      diffs.push({ step: st.index, op: st.op, field: 'step', model: m ? 'ran' : '-', kernel: k ? 'ran' : '-' });
      continue;
    }
    // Mappings without an address are placed where the model put them (encode.ts placements),
    // so an mmap's address is compared like any result.
    const fm = flatten(m, st.op, real.header.root), fk = flatten(k, st.op, real.header.root);
    if (!realHasData) fm.delete('data');
    for (const key of new Set([...fm.keys(), ...fk.keys()])) {
      const a = fm.get(key) ?? '-', b = fk.get(key) ?? '-';
      if (a !== b) diffs.push({ step: st.index, op: st.op, field: key, model: a, kernel: b });
    }
  }
  return diffs;
}

/** Where the model placed each mmap step that names no address (for encode.ts placements). */
export function placementsOf(s: Scenario, model: StepFigures[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const st of s.steps) {
    const r = model[st.index]?.r;
    if (st.op === 'mmap' && st.args.addrBytes === undefined && r !== undefined && r >= 0) out[st.index] = r;
    // Where the model's mremap put a range (the runner moves there with MREMAP_FIXED when it is not
    // the old address, as the kernel's own choice could differ); also tells the encoder it succeeded.
    if (st.op === 'mremap' && r !== undefined && r >= 0) {
      out[st.index] = r;
    }
  }
  return out;
}
