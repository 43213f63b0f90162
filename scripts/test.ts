/**
 * `npm test`: makes sure PostgreSQL, Redis and NATS answer (starting local
 * ones if needed, as `npm start` does), then runs `vitest run` (projects and
 * timeouts in vitest.config.ts). Arguments go to vitest: a path narrows the
 * run to the files whose path contains it (`npm test -- services/kit`).
 * `--watch` runs vitest in watch mode instead (`npm run test:watch`);
 * `--coverage` adds v8 coverage (`npm run coverage`).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureInfra, ROOT } from '@switchyard/kit/local';

const args = process.argv.slice(2);
const watch = args.includes('--watch');
const vitestArgs = [watch ? 'watch' : 'run', ...args.filter((a) => a !== '--watch')];

const infra = await ensureInfra((m) => console.log(`test | ${m}`));
const run = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), ...vitestArgs], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, DATABASE_URL: infra.DATABASE_URL, REDIS_URL: infra.REDIS_URL, NATS_URL: infra.NATS_URL },
});
process.exit(run.status ?? 1);
