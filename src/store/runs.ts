// The run store (`--store FILE.db`): every run kept in node:sqlite with what makes it
// reproducible (scenario hash and text, profile, knobs, daxsim version) and every figure it
// produced (each counter of each report, each step's simulated time, the breakdown), so that
// `daxsim runs` lists them and `daxsim compare A B` shows what changed.

import { DatabaseSync } from 'node:sqlite';
import { scenarioHash, type VariantJson } from '../cli/result-json.ts';
import { daxsimVersion } from '../cli/args.ts';
import { flatCounters } from '../cli/run-output.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  created_at TEXT NOT NULL,
  daxsim_version TEXT NOT NULL,
  scenario_file TEXT NOT NULL,
  scenario_sha256 TEXT NOT NULL,
  scenario_name TEXT NOT NULL,
  profile TEXT NOT NULL,
  knobs TEXT NOT NULL,
  failures INTEGER NOT NULL,
  result TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scenarios (sha256 TEXT PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS figures (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  name TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (run_id, name)
);`;

export class StoreError extends Error {}

function open(path: string): DatabaseSync {
  try {
    const db = new DatabaseSync(path);
    db.exec(SCHEMA);
    return db;
  } catch (e) {
    throw new StoreError(`--store ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Keep each variant's run; returns the new run ids. */
export function storeRuns(path: string, file: string, text: string, variants: VariantJson[]): number[] {
  const db = open(path);
  const sha = scenarioHash(text);
  const ids: number[] = [];
  try {
    db.exec('BEGIN');
    db.prepare('INSERT OR IGNORE INTO scenarios (sha256, text) VALUES (?, ?)').run(sha, text);
    const run = db.prepare(`INSERT INTO runs (created_at, daxsim_version, scenario_file, scenario_sha256,
      scenario_name, profile, knobs, failures, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const fig = db.prepare('INSERT INTO figures (run_id, name, value) VALUES (?, ?, ?)');
    for (const v of variants) {
      const r = run.run(new Date().toISOString(), daxsimVersion(), file, sha, v.name, v.profile,
        JSON.stringify(v.knobs), v.failures.length, JSON.stringify(v));
      const id = Number(r.lastInsertRowid);
      ids.push(id);
      for (const [name, value] of flatCounters(v)) fig.run(id, name, value);
    }
    db.exec('COMMIT');
  } finally {
    db.close();
  }
  return ids;
}

export interface StoredRun {
  id: number; createdAt: string; version: string; file: string; sha256: string; name: string;
  profile: string; knobs: string; failures: number;
}

function rowToRun(r: Record<string, unknown>): StoredRun {
  return { id: Number(r['id']), createdAt: String(r['created_at']), version: String(r['daxsim_version']),
    file: String(r['scenario_file']), sha256: String(r['scenario_sha256']), name: String(r['scenario_name']),
    profile: String(r['profile']), knobs: String(r['knobs']), failures: Number(r['failures']) };
}

const SELECTOR_COLUMNS: Record<string, string> = {
  profile: 'profile', scenario: 'scenario_sha256', file: 'scenario_file', version: 'daxsim_version',
  name: 'scenario_name',
};

/**
 * The runs a selector names: a run id ("12"), or field=value filters joined by commas
 * ("profile=linux-6.1", "scenario=3fa2" (a sha256 prefix), "file=examples/x.yaml", "version=0.1.0").
 */
export function selectRuns(path: string, selector: string): StoredRun[] {
  const db = open(path);
  try {
    if (/^\d+$/.test(selector)) {
      return db.prepare('SELECT * FROM runs WHERE id = ?').all(Number(selector)).map((r) => rowToRun(r));
    }
    const where: string[] = [];
    const params: string[] = [];
    for (const part of selector.split(',')) {
      const m = /^([a-z]+)=(.+)$/.exec(part);
      const col = m ? SELECTOR_COLUMNS[m[1]!] : undefined;
      if (!m || col === undefined) {
        throw new StoreError(`selector ${JSON.stringify(part)}: expected a run id or ` +
          `${Object.keys(SELECTOR_COLUMNS).map((k) => `${k}=...`).join(', ')}`);
      }
      where.push(col === 'scenario_sha256' ? `${col} LIKE ? || '%'` : `${col} = ?`);
      params.push(m[2]!);
    }
    const sql = `SELECT * FROM runs WHERE ${where.join(' AND ')} ORDER BY id`;
    return db.prepare(sql).all(...params).map((r) => rowToRun(r));
  } finally {
    db.close();
  }
}

export function listRuns(path: string): StoredRun[] {
  const db = open(path);
  try {
    return db.prepare('SELECT * FROM runs ORDER BY id').all().map((r) => rowToRun(r));
  } finally {
    db.close();
  }
}

export function figuresOf(path: string, id: number): Map<string, number> {
  const db = open(path);
  try {
    const rows = db.prepare('SELECT name, value FROM figures WHERE run_id = ? ORDER BY rowid').all(id);
    return new Map(rows.map((r) => [String(r['name']), Number(r['value'])]));
  } finally {
    db.close();
  }
}
