/**
 * `npm run build`: compiles every service to `services/<name>/dist` (see
 * services/kit/src/local/build.ts). `npm start` does this by itself for what is stale;
 * `--force` rebuilds everything.
 */
import { buildServices } from '@switchyard/kit/local';

const began = performance.now();
const built = await buildServices({ force: process.argv.includes('--force') });
console.log(
  built.length
    ? `built ${built.join(', ')} in ${Math.round(performance.now() - began)} ms`
    : 'every service is up to date (npm run build -- --force rebuilds)',
);
