/**
 * Operator commands, run as `npm run admin -- <command> [options]`.
 *   create-key --tenant <id> --role <admin|editor|viewer> --name <label> [--replace]
 * --replace revokes the tenant's other active keys of that name first (what
 * `npm start` does, so restarts do not pile up local admin keys).
 * Prints the new key on stdout and nothing else (so scripts can capture it).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Role } from '@switchyard/contracts';
import { ConfigError, createLogger, createPool, loadConfig, migrate } from '@switchyard/kit';
import { z } from 'zod';
import { Config } from './config.ts';
import { createApiKey, revokeApiKeysNamed } from './repo/api-keys.ts';

const USAGE = `usage: npm run admin -- create-key [--tenant default] [--role admin] [--name "local admin"] [--replace]`;

const CreateKeyArgs = z.object({
  tenant: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (at most 64)').default('default'),
  role: Role.default('admin'),
  name: z.string().trim().min(1).max(100).default('admin (cli)'),
});

async function main() {
  const [command, ...args0] = process.argv.slice(2);
  if (command !== 'create-key') {
    console.error(USAGE);
    process.exit(2);
  }
  const { values } = parseArgs({
    args: args0,
    options: {
      tenant: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      replace: { type: 'boolean', default: false },
    },
  });
  const { replace, ...rest2 } = values;
  const args = CreateKeyArgs.safeParse(rest2);
  if (!args.success) {
    for (const i of args.error.issues) console.error(`--${i.path.join('.')}: ${i.message}`);
    process.exit(2);
  }
  const config = loadConfig(Config);
  const log = createLogger({ service: 'gateway-cli', instanceId: 'cli', level: 'warn' });
  await migrate({
    url: config.DATABASE_URL,
    schema: 'gateway',
    dir: [fileURLToPath(new URL('../../kit/migrations', import.meta.url)), fileURLToPath(new URL('../migrations', import.meta.url))],
    log,
  });
  const pool = createPool({ url: config.DATABASE_URL, schema: 'gateway', max: 1, applicationName: 'gateway-cli' });
  try {
    if (replace) await revokeApiKeysNamed(pool, args.data.tenant, args.data.name);
    const key = await createApiKey(pool, { tenantId: args.data.tenant, role: args.data.role, name: args.data.name });
    // The secret goes to stdout only; it is never logged.
    process.stdout.write(`${key.key}\n`);
  } finally {
    await pool.end();
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `admin: ${(err as Error).message}`);
  process.exit(1);
});
