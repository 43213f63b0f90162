/**
 * `npm test`: makes sure PostgreSQL, Redis and NATS answer (starting local
 * ones if needed, as `npm start` does), then runs every `*.test.ts` with
 * node's test runner. Arguments narrow the run: `npm test -- services/kit`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ensureInfra, ROOT } from './lib/infra.ts';

function findTests(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.') || entry === 'bench') continue;
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (entry.endsWith('.test.ts')) out.push(relative(ROOT, p));
  }
  return out;
}

const filters = process.argv.slice(2);
const files = ['contracts', 'services', 'test']
  .flatMap((d) => findTests(join(ROOT, d)))
  .filter((f) => !filters.length || filters.some((x) => f.includes(x)))
  .sort();
if (!files.length) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

const infra = await ensureInfra((m) => console.log(`test | ${m}`));
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, DATABASE_URL: infra.DATABASE_URL, REDIS_URL: infra.REDIS_URL, NATS_URL: infra.NATS_URL },
});
process.exit(run.status ?? 1);
