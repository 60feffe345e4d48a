/**
 * JBD2-like journal: the transaction lifecycle ext4 metadata goes through (models fs/jbd2,
 * transaction.c + commit.c + journal.c, v6.1, at the level daxsim needs).
 *
 * - Metadata changes (extent map, i_size, allocator, inode timestamps) are recorded inside a
 *   handle and join the RUNNING transaction; commit() makes them durable and starts a new one.
 * - There is no separate "committing" state: a commit completes at once and returns how long it
 *   took, which the caller charges to the thread that waits for it.
 * - JBD2 cannot commit while handles of the running transaction are open (it waits for
 *   t_updates to drain). Here that is an assertion: the caller (the fs) must stop its handle
 *   before anything commits, as ext4 does before dax_finish_sync_fault.
 * - A metadata buffer joins a transaction once however often it is changed
 *   (jbd2_journal_get_write_access on a buffer already in the transaction costs nothing), so
 *   changes are kept per (inode, kind) and a commit writes, per (inode, kind), the largest block
 *   count recorded for it.
 * - Per-inode tids as ext4 keeps them (ext4_update_inode_fsync_trans, fs/ext4/ext4_jbd2.h):
 *   every change sets the inode's sync tid; changes fdatasync must persist also set its datasync
 *   tid. fsync/fdatasync then commit only if that tid is not yet committed (ext4_sync_file ->
 *   jbd2_complete_transaction, fs/ext4/fsync.c).
 */
import { assert } from '../../lib/assert.ts';

/**
 * Commit cost. Placeholders: Kara's 2017 ramdisk figures (reference seed 003) put a
 * MAP_SYNC allocating fault ~85 us above a plain one (108 vs 23 us avg), almost all of it one
 * journal commit of a handful of blocks; so ~80 us fixed (descriptor + commit record, cache
 * flush, kjournald2 wakeup) and ~1 us per 4 KiB metadata block written to pmem.
 */
export interface JournalCosts { commitBaseNs: number; commitPerBlockNs: number }
export const DEFAULT_JOURNAL_COSTS: JournalCosts = { commitBaseNs: 80_000, commitPerBlockNs: 1_000 };
/** ext4's default commit interval (JBD2_DEFAULT_MAX_COMMIT_AGE, the `commit=` mount option): 5 s. */
export const DEFAULT_COMMIT_INTERVAL_NS = 5_000_000_000;
/** Open-handle limit: a handle left open is a bug, this bounds the damage. */
export const MAX_OPEN_HANDLES = 1 << 16;

export type JournalChangeKind = 'extent' | 'size' | 'alloc' | 'inode';
const KIND_INDEX: Readonly<Record<JournalChangeKind, number>> = { extent: 0, size: 1, alloc: 2, inode: 3 };

/**
 * What one transaction changed for one inode and kind. `datasync`: at least one of the changes
 * must be persisted by fdatasync (block mapping, size growth). `blocks`: metadata blocks this
 * change journals (largest recorded). `records`: how many recordMetadata calls it merges.
 */
export interface JournalChange {
  readonly ino: number;
  readonly kind: JournalChangeKind;
  readonly datasync: boolean;
  readonly blocks: number;
  readonly records: number;
}

interface MutableChange { ino: number; kind: JournalChangeKind; datasync: boolean; blocks: number; records: number }

export interface JournalCommitResult { tid: number; durationNs: number; blocks: number }
export type CommitListener = (tid: number, changes: ReadonlyArray<JournalChange>) => void;

export class Journal {
  readonly commitIntervalNs: number;
  readonly costs: JournalCosts;
  private running = 1;
  private committed = 0;
  private openHandles = 0;
  private commitCount = 0;
  private lastCommitNs = 0;
  private committing = false;
  private changes: MutableChange[] = [];
  private changeIndex = new Map<number, MutableChange>(); // key ino * 4 + kind index
  private runningBlockCount = 0;
  private syncTids = new Map<number, number>();
  private datasyncTids = new Map<number, number>();
  private listeners: CommitListener[] = [];

  constructor(opts: { commitIntervalNs: number; costs: JournalCosts }) {
    assert(Number.isSafeInteger(opts.commitIntervalNs) && opts.commitIntervalNs > 0,
      `journal: bad commitIntervalNs ${opts.commitIntervalNs}`);
    assert(opts.costs.commitBaseNs >= 0 && opts.costs.commitPerBlockNs >= 0, 'journal: negative costs');
    this.commitIntervalNs = opts.commitIntervalNs;
    this.costs = { commitBaseNs: opts.costs.commitBaseNs, commitPerBlockNs: opts.costs.commitPerBlockNs };
  }

  /** Tid of the running transaction (starts at 1). */
  get runningTid(): number { return this.running; }
  /** Tid of the last committed transaction (0: none yet). */
  get committedTid(): number { return this.committed; }
  get commits(): number { return this.commitCount; }
  /** Handles currently open on the running transaction (JBD2's t_updates). */
  get handlesOpen(): number { return this.openHandles; }
  /** Distinct metadata blocks the running transaction would write. */
  get runningBlocks(): number { return this.runningBlockCount; }
  /** When the periodic commit is due (ignoring whether the transaction has anything in it). */
  get nextPeriodicCommitNs(): number { return this.lastCommitNs + this.commitIntervalNs; }

  /** The running transaction's changes so far (copies). */
  runningChanges(): ReadonlyArray<JournalChange> {
    return this.changes.map((c) => ({ ...c }));
  }

  /**
   * Open a handle on the running transaction and return its tid (models jbd2_journal_start(),
   * transaction.c, v6.1; nested handles are counted like separate ones).
   */
  startHandle(): number {
    assert(!this.committing, 'journal: handle started from a commit listener');
    assert(this.openHandles < MAX_OPEN_HANDLES, 'journal: too many open handles (one left open?)');
    this.openHandles += 1;
    return this.running;
  }

  /** Close a handle (models jbd2_journal_stop()). */
  stopHandle(): void {
    assert(this.openHandles > 0, 'journal: stopHandle without a matching startHandle');
    this.openHandles -= 1;
  }

  /**
   * Record, inside a handle, that inode `ino` changed metadata of `kind` in the running
   * transaction, touching `blocks` metadata blocks (default 1). datasync=true for changes
   * fdatasync must persist (block mapping, size growth), false for timestamp-only changes.
   * Returns the running tid. Models jbd2_journal_dirty_metadata() plus
   * ext4_update_inode_fsync_trans() (v6.1).
   */
  recordMetadata(ino: number, kind: JournalChangeKind, datasync: boolean, blocks = 1): number {
    assert(this.openHandles > 0, 'journal: metadata change outside a handle');
    assert(Number.isSafeInteger(ino) && ino > 0 && ino < 2 ** 48, `journal: bad inode number ${ino}`);
    const k = KIND_INDEX[kind];
    assert(k !== undefined, `journal: bad change kind ${String(kind)}`);
    assert(Number.isSafeInteger(blocks) && blocks >= 0, `journal: bad block count ${blocks}`);
    const key = ino * 4 + k;
    const c = this.changeIndex.get(key);
    if (c === undefined) {
      const fresh: MutableChange = { ino, kind, datasync, blocks, records: 1 };
      this.changes.push(fresh);
      this.changeIndex.set(key, fresh);
      this.runningBlockCount += blocks;
    } else {
      if (blocks > c.blocks) { this.runningBlockCount += blocks - c.blocks; c.blocks = blocks; }
      c.datasync ||= datasync;
      c.records += 1;
    }
    this.syncTids.set(ino, this.running);
    if (datasync) this.datasyncTids.set(ino, this.running);
    return this.running;
  }

  /** Tid of the inode's last change fdatasync must persist (ext4 i_datasync_tid); 0 if none. */
  inodeDatasyncTid(ino: number): number { return this.datasyncTids.get(ino) ?? 0; }
  /** Tid of the inode's last metadata change of any kind (ext4 i_sync_tid); 0 if none. */
  inodeSyncTid(ino: number): number { return this.syncTids.get(ino) ?? 0; }

  /** fdatasync must commit (models ext4_inode_datasync_dirty() with a journal, fs/ext4/inode.c). */
  needsCommitForDatasync(ino: number): boolean { return this.inodeDatasyncTid(ino) > this.committed; }
  /** fsync must commit. */
  needsCommitForSync(ino: number): boolean { return this.inodeSyncTid(ino) > this.committed; }

  /**
   * Make sure transaction `tid` is committed: commit the running transaction if `tid` is it,
   * else nothing (models jbd2_complete_transaction(), journal.c, v6.1, as ext4_sync_file calls it
   * with the inode's sync or datasync tid). Returns the commit done, or null.
   */
  completeTransaction(tid: number, nowNs: number): JournalCommitResult | null {
    assert(Number.isSafeInteger(tid) && tid >= 0 && tid <= this.running, `journal: unknown tid ${tid}`);
    if (tid <= this.committed) return null;
    return this.commit(nowNs);
  }

  /**
   * Commit the running transaction if it has changes; then every listener runs, in registration
   * order, with the tid and its changes. Returns the tid, the commit's duration (costs) and the
   * blocks written, or null for an empty transaction (nothing written, tids unchanged). All
   * handles must be stopped first (JBD2 waits for t_updates to reach 0; models
   * jbd2_journal_commit_transaction(), commit.c, v6.1).
   */
  commit(nowNs: number): JournalCommitResult | null {
    assert(Number.isFinite(nowNs) && nowNs >= 0, `journal: bad time ${nowNs}`);
    assert(!this.committing, 'journal: commit from a commit listener');
    assert(this.openHandles === 0, `journal: commit with ${this.openHandles} handle(s) open; stop the handle first`);
    if (this.changes.length === 0) return null;
    const tid = this.running;
    const blocks = this.runningBlockCount;
    const changes: ReadonlyArray<JournalChange> = this.changes;
    this.changes = [];
    this.changeIndex = new Map();
    this.runningBlockCount = 0;
    this.committed = tid;
    this.running = tid + 1;
    this.commitCount += 1;
    this.lastCommitNs = nowNs;
    this.committing = true;
    try {
      for (const fn of this.listeners) fn(tid, changes);
    } finally {
      this.committing = false;
    }
    return { tid, durationNs: this.costs.commitBaseNs + blocks * this.costs.commitPerBlockNs, blocks };
  }

  /**
   * The periodic commit (kjournald2's commit timer, `commit=` seconds): commit when
   * nowNs >= last commit + commitIntervalNs and the transaction is not empty. Simplification:
   * JBD2 arms the timer when a transaction is created, i.e. at the first handle after a commit;
   * here the deadline counts from the last commit (or time 0), so after a quiet spell the next
   * change can be committed at the next call rather than up to an interval later. Returns null
   * while handles are open (JBD2 would wait for them); the caller tries again after they stop.
   */
  maybePeriodicCommit(nowNs: number): JournalCommitResult | null {
    if (nowNs < this.lastCommitNs + this.commitIntervalNs) return null;
    if (this.changes.length === 0 || this.openHandles > 0) return null;
    return this.commit(nowNs);
  }

  /** Register a commit listener (crash model, counters); called in registration order. */
  onCommit(fn: CommitListener): void {
    this.listeners.push(fn);
  }
}
