/**
 * A teaching mode in the manner of the OSTEP homework simulators (issue 14): from a seed, a small
 * scenario and questions about it, whose answers the model itself computes by running it. No
 * Node dependency, so the browser view can use it too. Three questions:
 *  1. how many page faults a few one-byte reads of a tmpfs file through a shared mapping take
 *     (fault-around maps the neighbours of a faulting page: do_fault_around, mm/memory.c; the
 *     window is the profile's fault_around_bytes, aligned, clipped to the VMA and the file);
 *  2. which pages of the file are mapped afterwards;
 *  3. after stores to a file on ext4 -o dax through a shared mapping, with or without an msync,
 *     what a byte reads after a power failure in which the CPU wrote back no cache line (the
 *     harshest crash state: msync on DAX writes the dirty lines back, dax_writeback_mapping_range
 *     in fs/dax.c; stores after it stay in the cache).
 * Answers: faults from the run's fault stops (src/inspect/stepper.ts), present PTEs from the page
 * table snapshot after the last read, the byte from the crash explorer's replay of the last crash
 * point with every non-durable line lost (src/crash/explore.ts).
 */
import { mulberry32 } from '../lib/prng.ts';
import { parseScenario } from '../scenario/parse.ts';
import { timeline, snapshotAt } from './stepper.ts';
import type { PageTableView } from './pgtable.ts';
import { explore, replay, type CrashProgram } from '../crash/explore.ts';

export interface QuizQuestion { question: string; answer: string; why: string }
export interface Quiz { seed: number; scenarios: Array<{ name: string; yaml: string }>; questions: QuizQuestion[] }

/** mulberry32 (src/lib/prng.ts): the same seed, the same choices. */
const prng = mulberry32;

const BASE = 0x7f0000000000;

/** The fault-around scenario: a tmpfs file of `pages` pages, read at `reads` (page indices). */
function faultAroundYaml(pages: number, aroundBytes: number, reads: number[]): string {
  const steps = reads.map((p) => `  - access: { map: m, op: read, offsetBytes: ${p * 4096}, lengthBytes: 1 }`);
  return `# yaml-language-server: $schema=../schema/scenario.schema.json
name: quiz fault-around read
kernel: { profile: linux-6.18, faultAroundBytes: ${aroundBytes} }
machine: { memoryBytes: 1GiB }
mounts:
  - { fs: tmpfs, target: /mnt/shm }
steps:
  - create: { path: /mnt/shm/data, sizeBytes: ${pages * 4096}, content: written }
  - open: { path: /mnt/shm/data, flags: [O_RDONLY], fd: f }
  - mmap: { fd: f, lengthBytes: ${pages * 4096}, prot: [PROT_READ], flags: [MAP_SHARED, MAP_FIXED],
            addrBytes: 0x${BASE.toString(16)}, map: m }
${steps.join('\n')}
`;
}

/** The DAX scenario: stores of `before` (offset, byte) pairs, an msync or not, then stores of `after`. */
function daxYaml(before: Array<[number, number]>, sync: boolean, after: Array<[number, number]>): string {
  const st = (l: Array<[number, number]>) => l.map(([o, b]) => `  - store: { map: m, offsetBytes: ${o}, byte: ${b} }`);
  return `# yaml-language-server: $schema=../schema/scenario.schema.json
name: quiz stores through a DAX mapping
machine: { memoryBytes: 1GiB, devices: [ { name: pmem0, type: pmem, sizeBytes: 64MiB } ] }
kernel: { profile: linux-6.1 }
steps:
  - mkfs: { device: pmem0, fs: ext4 }
  - mount: { device: pmem0, target: /mnt, options: [dax] }
  - create: { path: /mnt/data, sizeBytes: 4KiB, content: written }
  - open: { path: /mnt/data, flags: [O_RDWR], fd: f }
  - fsync: { fd: f }
  - mmap: { fd: f, lengthBytes: 4KiB, prot: [PROT_READ, PROT_WRITE], flags: [MAP_SHARED], map: m }
${[...st(before), ...(sync ? ['  - msync: { map: m, flags: [MS_SYNC] }'] : []), ...st(after)].join('\n')}
`;
}

/** File pages (of the mapping at BASE) with a present PTE in a page-table snapshot. */
function presentPages(pt: PageTableView): number[] {
  const out: number[] = [];
  for (const pud of pt.puds) for (const pmd of pud.pmds) for (const t of pmd.tables) {
    for (const leaf of t.ptes) if (leaf.flags.split('|').includes('P')) out.push((leaf.va - BASE) / 4096);
  }
  return out.sort((a, b) => a - b);
}

/** Runs of consecutive numbers as "0-15, 32-47". */
function ranges(xs: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < xs.length;) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
    out.push(i === j ? `${xs[i]}` : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return out.join(', ') || 'none';
}

function faultAroundQuestions(rnd: () => number): { yaml: string; questions: QuizQuestion[] } {
  const pages = [16, 32, 64][Math.floor(rnd() * 3)]!;
  const around = [4096, 16384, 65536][Math.floor(rnd() * 3)]!;
  const reads: number[] = [];
  const n = 2 + Math.floor(rnd() * 3);
  while (reads.length < n) { const p = Math.floor(rnd() * pages); if (!reads.includes(p)) reads.push(p); }
  const yaml = faultAroundYaml(pages, around, reads);
  const s = parseScenario(yaml, 'quiz');
  const tl = timeline(s);
  if (tl.error) throw new Error(`quiz: the generated scenario does not run: ${tl.error}`);
  const faults = tl.stops.filter((x) => x.kind === 'fault').length;
  const mapped = presentPages(snapshotAt(s, tl, tl.stops.length - 1).processes[0]!.pageTable);
  const win = around / 4096;
  return { yaml, questions: [
    { question: `The process reads one byte of pages ${reads.join(', ')} (in that order) of the ${pages}-page ` +
      `tmpfs file through its shared mapping (fault_around_bytes = ${around}). How many page faults do the reads take?`,
    answer: `${faults}`,
    why: `a fault maps the ${win}-page aligned window around the faulting page (do_fault_around); a read of a ` +
      `page already mapped by an earlier window takes no fault` },
    { question: 'Which pages of the file have a present PTE after the last read?',
      answer: ranges(mapped),
      why: `the union of the ${win}-page windows of the faults, each clipped to the file (${pages} pages)` },
  ] };
}

/** Byte `off` of /mnt/data after a power failure at the end of the scenario with every non-durable line lost. */
function byteAfterCrash(yaml: string, off: number): number {
  const scenario = parseScenario(yaml, 'quiz');
  const prog: CrashProgram = { name: 'quiz', description: 'quiz', run: () => {}, scenario };
  const r = explore(prog, { maxStates: 10_000 });
  const head = replay(prog, r.crashPoints - 1, null).files['/mnt/data']?.head;
  if (!head) throw new Error('quiz: /mnt/data is missing after the crash');
  return head[off]!;
}

function crashQuestion(rnd: () => number): { yaml: string; questions: QuizQuestion[] } {
  const sync = rnd() < 0.5;
  const before: Array<[number, number]> = [], after: Array<[number, number]> = [];
  const offs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].sort(() => rnd() - 0.5).slice(0, 4);
  offs.forEach((o, i) => (i < 2 ? before : after).push([o, 1 + Math.floor(rnd() * 254)]));
  const [askOff] = offs.slice(Math.floor(rnd() * 4));
  const yaml = daxYaml(before, sync, after);
  const got = byteAfterCrash(yaml, askOff!);
  const initial = byteAfterCrash(daxYaml([], false, []), askOff!);
  const stored = [...before, ...after].find(([o]) => o === askOff)![1];
  return { yaml, questions: [{
    question: `After the steps, the power fails and the CPU had written back no dirty cache line. What does ` +
      `byte ${askOff} of /mnt/data hold after recovery? (It held ${initial} when the file was created; the ` +
      `program stored ${stored} there.)`,
    answer: `${got}`,
    why: !sync ? 'nothing flushed the cache (no msync, no CLWB): every store was lost, the byte is what the ' +
      'media held'
      : before.some(([o]) => o === askOff) ? 'it was stored before the msync, which wrote the dirty lines back ' +
        '(dax_writeback_mapping_range): durable'
        : 'it was stored after the msync: still in the CPU cache, lost; the byte is what the media held',
  }] };
}

/** The quiz of `seed` (a non-negative integer). */
export function makeQuiz(seed: number): Quiz {
  const rnd = prng(seed * 2654435761);
  const a = faultAroundQuestions(rnd);
  const b = crashQuestion(rnd);
  return { seed, scenarios: [{ name: 'quiz-fault-around.yaml', yaml: a.yaml }, { name: 'quiz-dax.yaml', yaml: b.yaml }],
    questions: [...a.questions, ...b.questions] };
}

/** The quiz as terminal text: scenarios and questions, and the answers only with `answers`. */
export function formatQuiz(q: Quiz, answers: boolean): string[] {
  const out = [`daxsim quiz, seed ${q.seed}`, ''];
  for (const s of q.scenarios) out.push(`--- ${s.name} (daxsim run FILE, or paste it into daxsim view)`, s.yaml);
  q.questions.forEach((x, i) => out.push(`${i + 1}. ${x.question}`));
  out.push('');
  if (!answers) out.push(`answers: daxsim quiz --seed ${q.seed} --answers`);
  else q.questions.forEach((x, i) => out.push(`${i + 1}. ${x.answer}  (${x.why})`));
  return out;
}
