/**
 * A persistent singly linked list (the shape of PMDK's list examples, simplified): a 64-byte
 * header line {head, count} at offset 0 and 64-byte nodes {next, key, value} at 64, 128, ...
 * (offsets within the pool; next = 0 ends the list). Insert at the head: write the node, persist
 * it, then publish it with one failure-atomic 8-byte store of head, persist, then bump count.
 * Remove (key REMOVED, from the middle): unlink it with one 8-byte store of its predecessor's next,
 * persist, decrement count, then free the node (zero it, persist) for reuse.
 * count is a hint that can lag head by one store (head and count share a line; a crash can keep
 * head without count): recovery (recover) walks the list and rewrites count.
 * The invariant (check): after recovery the list holds the keys of some prefix of the program's
 * operations, in order, every node's value is key * 7, and count equals the list's length.
 *
 * Variants: linked-list (correct) and two ordering bugs: publish-first (head is stored and
 * persisted before the node's own persist: head can point at a node still in the CPU cache) and
 * free-before-unlink (the removed node is zeroed and persisted before its predecessor is
 * unlinked from it: the list runs into a zeroed node).
 * Run: npm run daxsim -- crash examples/crash/linked-list.ts --all
 */
import type { CrashProgram, CrashContext, CrashView, PmOps } from 'daxsim';
import { openPool, le64, u64, POOL } from './pool.ts';

const HEAD = 0, COUNT = 8, NODE = 64, POOL_BYTES = 4096;
const KEYS = [3, 14, 15, 92], REMOVED = 14;
type Bug = 'none' | 'publish-first' | 'free-before-unlink';

/** The key sequences a crash may leave, newest first: after each insert, then after the removal. */
function allowedLists(): number[][] {
  const out: number[][] = [[]];
  for (let n = 1; n <= KEYS.length; n++) out.push(KEYS.slice(0, n).reverse());
  out.push(out[KEYS.length]!.filter((k) => k !== REMOVED));
  return out;
}
const ALLOWED = allowedLists().map((l) => l.join(','));

function insert(pm: PmOps, a: number, bug: Bug, i: number, head: number): number {
  const node = NODE * (i + 1);
  pm.store64(a + node, head); // next
  pm.store64(a + node + 8, KEYS[i]!);
  pm.store64(a + node + 16, KEYS[i]! * 7);
  if (bug !== 'publish-first') pm.pmem_persist(a + node, 24);
  pm.store64(a + HEAD, node); // publish: one aligned 8-byte store
  pm.pmem_persist(a + HEAD, 8);
  if (bug === 'publish-first') pm.pmem_persist(a + node, 24); // too late: head is already durable
  pm.store64(a + COUNT, i + 1);
  pm.pmem_persist(a + COUNT, 8);
  return node;
}

function run(bug: Bug) {
  return (ctx: CrashContext): void => {
    const { pm, a } = openPool(ctx, new Uint8Array(POOL_BYTES));
    let head = 0;
    const nodes: number[] = [];
    for (let i = 0; i < KEYS.length; i++) { head = insert(pm, a, bug, i, head); nodes.push(head); }
    const victim = nodes[KEYS.indexOf(REMOVED)]!, pred = nodes[KEYS.indexOf(REMOVED) + 1]!;
    const free = () => { pm.memset(a + victim, 0, 64); pm.pmem_persist(a + victim, 64); };
    if (bug === 'free-before-unlink') free();
    pm.store64(a + pred, nodes[KEYS.indexOf(REMOVED) - 1]!); // pred.next = victim.next
    pm.pmem_persist(a + pred, 8);
    pm.store64(a + COUNT, KEYS.length - 1);
    pm.pmem_persist(a + COUNT, 8);
    if (bug !== 'free-before-unlink') free();
  };
}

/** The node offsets from head, or an error naming the first bad link (out of the pool, misaligned, a cycle). */
function walk(view: CrashView): number[] | string {
  const out: number[] = [];
  for (let at = u64(view, HEAD); at !== 0; at = u64(view, at)) {
    if (at % NODE !== 0 || at < NODE || at + NODE > POOL_BYTES) return `link to ${at} is not a node offset`;
    if (out.length > KEYS.length) return `the list from head has more than ${KEYS.length} nodes (a cycle?)`;
    out.push(at);
  }
  return out;
}

/** Recount the list and rewrite count when it lags (count is a hint; head is the truth). */
function recover(view: CrashView): void {
  if (view.sizeBytes(POOL) < POOL_BYTES) return; // the pool's creation never committed
  const nodes = walk(view);
  if (typeof nodes === 'string') throw new Error(nodes);
  if (u64(view, COUNT) !== nodes.length) view.write(POOL, COUNT, le64(nodes.length));
}

function check(view: CrashView): string | null {
  if (view.sizeBytes(POOL) < POOL_BYTES) return null;
  const nodes = walk(view);
  if (typeof nodes === 'string') return nodes;
  const keys = nodes.map((n) => u64(view, n + 8));
  for (let i = 0; i < nodes.length; i++) {
    if (keys[i] === 0) return `node at ${nodes[i]} is reachable but zeroed (never persisted, or already freed)`;
    const v = u64(view, nodes[i]! + 16);
    if (v !== keys[i]! * 7) return `node at ${nodes[i]} has key ${keys[i]} with value ${v}, expected ${keys[i]! * 7}`;
  }
  if (!ALLOWED.includes(keys.join(','))) return `the list holds keys [${keys.join(', ')}]: no prefix of the operations`;
  const count = u64(view, COUNT);
  return count === nodes.length ? null : `count is ${count} but the list has ${nodes.length} nodes`;
}

const variants: Array<[Bug, string]> = [
  ['none', 'node, persist, publish head (8-byte atomic), persist, count; unlink, persist, free'],
  ['publish-first', 'head is published and persisted before the node it points at is persisted'],
  ['free-before-unlink', 'the removed node is zeroed and persisted before it is unlinked'],
];
const programs: CrashProgram[] = variants.map(([bug, description]) => ({
  name: bug === 'none' ? 'linked-list' : `linked-list-${bug}`, description, run: run(bug), recover, check,
}));
export default programs;
