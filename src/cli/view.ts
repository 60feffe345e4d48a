// `daxsim view [FILE] [--port N]`: serves the browser view (src/view, built by Vite into
// dist/view, built on first use when missing) on 127.0.0.1 only. The model runs in the page;
// the server only hands out the static files, with FILE's text, when given, embedded in the
// page so it opens on that scenario.

import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, normalize, sep } from 'node:path';
import { parseScenario } from '../scenario/parse.ts';
import { ScenarioError } from '../scenario/types.ts';
import { buildView, DEFAULT_VIEW_DIR } from '../view/build.ts';

export const VIEW_USAGE = `  view [FILE] [--port N]
                      serve the browser view on http://127.0.0.1:N/ (default: a free port, printed):
                      page tables, page cache, fault timeline, stepping forward and back; the model
                      runs in the page. FILE: a scenario to open (else the bundled examples)`;

export class ViewUsageError extends Error {}

export interface ViewOptions { file: string | null; port: number; dir?: string; quiet?: boolean }

export function parseViewArgs(args: string[]): ViewOptions {
  let file: string | null = null, port = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--port') {
      const v = args[++i];
      if (v === undefined || !/^\d+$/.test(v) || Number(v) > 65535) {
        const got = v === undefined ? 'nothing' : JSON.stringify(v);
        throw new ViewUsageError(`view: --port needs a port number 0-65535, got ${got}`);
      }
      port = Number(v);
    } else if (a.startsWith('-')) throw new ViewUsageError(`view: unknown option ${a} (options: --port N)`);
    else if (file !== null) throw new ViewUsageError(`view: expected at most one scenario FILE, got ${file} and ${a}`);
    else file = a;
  }
  return { file, port };
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json' };

/** The scenario FILE embedded in index.html (checked first: a bad file is the user's error, exit 2). */
function initialScript(file: string | null): string {
  if (file === null) return '';
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    throw new ScenarioError('', `cannot read the file: ${e instanceof Error ? e.message : String(e)}`, file);
  }
  parseScenario(text, file);
  const json = JSON.stringify({ name: basename(file), text }).replace(/</g, '\\u003c');
  return `<script id="daxsim-initial" type="application/json">${json}</script>`;
}

function handler(dir: string, initial: string) {
  return (req: { url?: string | undefined; method?: string | undefined },
    res: { writeHead(c: number, h: Record<string, string>): void; end(b?: string | Buffer): void }): void => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const rel = normalize(path === '/' ? '/index.html' : path).replace(/^([/\\])+/, '');
    const full = join(dir, rel);
    const head = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache' };
    if (req.method !== 'GET' || !full.startsWith(dir + sep) || !existsSync(full) || !statSync(full).isFile()) {
      res.writeHead(404, { ...head, 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    const type = TYPES[extname(full)] ?? 'application/octet-stream';
    if (rel === 'index.html') {
      res.writeHead(200, { ...head, 'Content-Type': type });
      res.end(readFileSync(full, 'utf8').replace('</head>', `${initial}</head>`));
      return;
    }
    res.writeHead(200, { ...head, 'Content-Type': type });
    res.end(readFileSync(full));
  };
}

/** Start the server on 127.0.0.1 (building the page first when it is missing); resolves with its URL. */
export async function startViewServer(o: ViewOptions): Promise<{ url: string; server: Server }> {
  const dir = o.dir ?? DEFAULT_VIEW_DIR;
  const initial = initialScript(o.file);
  if (!existsSync(join(dir, 'index.html'))) {
    if (!o.quiet) console.error(`daxsim view: building the page into ${dir} (first use)`);
    await buildView(dir, true);
  }
  const server = createServer(handler(dir, initial));
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(new ViewUsageError(`view: cannot listen on 127.0.0.1:${o.port}: ${e.code ?? e.message}`)));
    server.listen(o.port, '127.0.0.1', () => ok());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  return { url: `http://127.0.0.1:${port}/`, server };
}

/** The `view` command: serve until interrupted (Ctrl-C), then exit 0. */
export async function viewMain(args: string[]): Promise<number> {
  const o = parseViewArgs(args);
  const { url, server } = await startViewServer(o);
  console.log(`daxsim view: ${url}  (127.0.0.1 only; Ctrl-C stops)`);
  return new Promise<number>((done) => {
    process.once('SIGINT', () => { server.close(); done(0); });
  });
}
