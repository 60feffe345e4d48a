// Builds the browser view (src/view) into static files with Vite: `npm run build:view` writes
// dist/view; `daxsim view` calls buildView when the folder is missing. The example scenarios are
// bundled through a virtual module, so the page makes no network request at all.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '../..');
export const DEFAULT_VIEW_DIR = join(REPO_ROOT, 'dist/view');

/** The examples/*.yaml files (and examples/crash/*.yaml) as { name, text }. */
export function exampleFiles(): Array<{ name: string; text: string }> {
  const out: Array<{ name: string; text: string }> = [];
  for (const sub of ['', 'crash/']) {
    const dir = join(REPO_ROOT, 'examples', sub);
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml')).sort()) {
      out.push({ name: sub + f, text: readFileSync(join(dir, f), 'utf8') });
    }
  }
  return out;
}

function examplesPlugin(): { name: string; resolveId(id: string): string | null; load(id: string): string | null } {
  const id = 'virtual:daxsim-examples';
  return {
    name: 'daxsim-examples',
    resolveId: (x) => (x === id ? '\0' + id : null),
    load: (x) => (x === '\0' + id ? `export const examples = ${JSON.stringify(exampleFiles())};` : null),
  };
}

/** Build the page into `outDir` (default dist/view). */
export async function buildView(outDir = DEFAULT_VIEW_DIR, quiet = false): Promise<void> {
  const vite = await import('vite');
  await vite.build({
    configFile: false, root: here, base: './', logLevel: quiet ? 'warn' : 'info',
    plugins: [examplesPlugin()],
    build: { outDir, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ? resolve(process.argv[2]) : DEFAULT_VIEW_DIR;
  buildView(out).then(() => console.log(`built the view into ${out}`), (e: unknown) => {
    console.error(`build:view failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
