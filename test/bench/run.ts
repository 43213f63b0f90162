/**
 * `npm run bench [-- name]`: runs the benchmarks (files `*.bench.ts` here).
 * Each prints its figures beside a baseline measured in the same run.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInfra } from '@switchyard/kit/local';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !filters.length || filters.some((x) => f.includes(x)))
  .sort();

await ensureInfra((m) => console.log(`bench | ${m}`));
for (const file of benches) {
  console.log(`\n=== ${file} ===`);
  const mod = (await import(`./${file}`)) as { run(): Promise<unknown> };
  await mod.run();
}
process.exit(0);
