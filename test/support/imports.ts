// Reads the import statements of every .ts file under a folder and returns the runtime import
// graph: an edge for each `import ... from` or `export ... from` that type stripping keeps
// (`import type` and `export type` are erased; `import { type A }` still loads the module).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname, normalize } from 'node:path';

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTs(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const IMPORT_RE = /^(import|export)\s+(type\s+)?([^;]*?)\s*from\s*['"]([^'"]+)['"]/gms;

/** Runtime import edges between files under `root` (paths relative to the cwd, '/'-separated). */
export function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of listTs(root).sort()) {
    const text = readFileSync(file, 'utf8');
    const edges: string[] = [];
    for (const m of text.matchAll(IMPORT_RE)) {
      if (m[2]) continue; // import type / export type
      const spec = m[4]!;
      if (!spec.startsWith('.')) continue;
      edges.push(normalize(join(dirname(file), spec)).split('\\').join('/'));
    }
    graph.set(file.split('\\').join('/'), [...new Set(edges)].sort());
  }
  return graph;
}

/** Every elementary cycle's first appearance in a depth-first walk (each reported once, rotated to its smallest node). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const seen = new Set<string>();
  const out: string[][] = [];
  const keys = new Set<string>();
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 1);
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      const s = state.get(m);
      if (s === 1) {
        const cyc = stack.slice(stack.indexOf(m));
        let min = 0;
        for (let i = 1; i < cyc.length; i++) if (cyc[i]! < cyc[min]!) min = i;
        const rot = [...cyc.slice(min), ...cyc.slice(0, min)];
        const key = rot.join('>');
        if (!keys.has(key)) { keys.add(key); out.push([...rot, rot[0]!]); }
      } else if (s === undefined) visit(m);
    }
    stack.pop();
    state.set(n, 2);
    seen.add(n);
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return out;
}
