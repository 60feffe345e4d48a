// Worker thread of `daxsim run` with several variants: runs the variants it is sent, one at a
// time, and posts each outcome (or the error a user can act on) back.

import { parentPort } from 'node:worker_threads';
import { runVariant, type VariantRequest } from './run-variant.ts';
import { describeUserError } from './errors.ts';

parentPort!.on('message', (req: VariantRequest | null) => {
  if (req === null) {
    parentPort!.close();
    return;
  }
  try {
    parentPort!.postMessage({ ok: true, outcome: runVariant(req) });
  } catch (e) {
    const user = describeUserError(e);
    parentPort!.postMessage({ ok: false, key: req.variant.key, user: user !== null,
      message: user ?? (e instanceof Error ? e.stack ?? e.message : String(e)) });
  }
});
