// Writes schema/scenario.schema.json from the zod scenario schema (src/scenario/schema.ts):
//   node scripts/gen-schema.ts      (test/schema.test.ts fails when the file is out of date)
import { writeFileSync } from 'node:fs';
import { scenarioJsonSchema } from '../src/scenario/schema.ts';
writeFileSync(new URL('../schema/scenario.schema.json', import.meta.url), `${JSON.stringify(scenarioJsonSchema(), null, 1)}\n`);
