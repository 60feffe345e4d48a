/**
 * A PMDK-style redo log (libpmemobj's tx redo logs, simplified): to update two 8-byte slots
 * atomically, write (offset, value) entries to the log, persist them, set the log's 8-byte commit
 * word (failure-atomic), persist it, apply the entries in place, persist, clear the commit word.
 * Recovery (recover): a set commit word means "replay the log, then clear it". The invariant
 * (check): after recovery the slots hold both old values or both new values.
 *
 * Variants: redo-log (correct) and the bugs pmemcheck users report: missing flush of the log,
 * missing fence before the commit, flush of the wrong range (only the first 8 bytes of the
 * entries), and one in recovery: redo-log-recovery-clears-first clears the commit word before
 * replaying, so a power failure during recovery loses the update's second half. (The non-atomic
 * 16-byte commit is in hash-map.ts.)
 * Run: npm run daxsim -- crash examples/crash/redo-log.ts --all
 */
import type { CrashProgram, CrashContext, CrashView } from 'daxsim';
import { openPool, le64, u64, POOL } from './pool.ts';

// The log's two 16-byte entries straddle a cache line (112..144), as entries of a growing log do.
const COMMIT = 0, LOG = 112, SLOTS = 1024;
const OLD = [11, 22], NEW = [1100, 2200];
type Bug = 'none' | 'missing-flush' | 'missing-fence' | 'wrong-range';

function entries(): Uint8Array {
  const e = new Uint8Array(32);
  for (let i = 0; i < 2; i++) { e.set(le64(SLOTS + 8 * i), 16 * i); e.set(le64(NEW[i]!), 16 * i + 8); }
  return e;
}

function run(bug: Bug) {
  return (ctx: CrashContext): void => {
    const init = new Uint8Array(4096);
    for (let i = 0; i < 2; i++) init.set(le64(OLD[i]!), SLOTS + 8 * i);
    const { pm, a } = openPool(ctx, init);
    pm.memcpy(a + LOG, entries());
    if (bug === 'wrong-range') pm.pmem_persist(a + LOG, 8);
    else if (bug === 'missing-fence') pm.pmem_flush(a + LOG, 32);
    else if (bug !== 'missing-flush') pm.pmem_persist(a + LOG, 32);
    pm.store64(a + COMMIT, 2); // commit: two entries, one failure-atomic 8-byte store
    pm.pmem_persist(a + COMMIT, 8);
    for (let i = 0; i < 2; i++) pm.store64(a + SLOTS + 8 * i, NEW[i]!);
    pm.pmem_persist(a + SLOTS, 16);
    pm.store64(a + COMMIT, 0);
    pm.pmem_persist(a + COMMIT, 8);
  };
}

/**
 * Replay a committed log, then clear the commit word (PMDK's recovery of redo logs). With
 * `clearFirst` (a bug) the commit word is cleared before the replay: a power failure between the
 * two leaves a half-applied update that no later recovery knows to finish.
 */
function recovery(clearFirst: boolean) {
  return (view: CrashView): void => {
    if (view.sizeBytes(POOL) < 4096) return; // the pool's creation never committed: nothing to recover
    const n = u64(view, COMMIT);
    if (n === 0) return;
    if (n > 2) throw new Error(`commit word ${n} is not an entry count`);
    if (clearFirst) view.write(POOL, COMMIT, le64(0));
    for (let i = 0; i < n; i++) {
      const off = u64(view, LOG + 16 * i);
      if (off < SLOTS || off >= SLOTS + 16) throw new Error(`log entry ${i} names offset ${off}, not a slot`);
      view.write(POOL, off, le64(u64(view, LOG + 16 * i + 8)));
    }
    if (!clearFirst) view.write(POOL, COMMIT, le64(0));
  };
}

function check(view: CrashView): string | null {
  if (view.sizeBytes(POOL) < 4096) return null; // the pool's creation never committed
  const got = [u64(view, SLOTS), u64(view, SLOTS + 8)];
  if (got.every((v, i) => v === OLD[i]) || got.every((v, i) => v === NEW[i])) return null;
  return `slots hold ${got.join(', ')}: neither the old ${OLD.join(', ')} nor the new ${NEW.join(', ')}`;
}

const variants: Array<[Bug, string]> = [
  ['none', 'log, persist, commit, persist, apply, persist, clear'],
  ['missing-flush', 'the log entries are never flushed before the commit'],
  ['missing-fence', 'the log entries are flushed (clwb) but not fenced before the commit'],
  ['wrong-range', 'pmem_persist covers only the first 8 bytes of the 32-byte log'],
];
const programs: CrashProgram[] = variants.map(([bug, description]) => ({
  name: bug === 'none' ? 'redo-log' : `redo-log-${bug}`, description, run: run(bug), recover: recovery(false), check,
}));
// The program is right; its recovery is not restartable (found only by a power failure during recovery).
programs.push({ name: 'redo-log-recovery-clears-first', run: run('none'), recover: recovery(true), check,
  description: 'recovery clears the commit word before it replays the log' });
export default programs;
