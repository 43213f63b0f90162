/**
 * Operator commands, run as `npm run admin -- <command> [options]`.
 *   create-key --tenant <id> --role <admin|editor|viewer> --name <label> [--replace] [--operator]
 * --replace revokes the tenant's other active keys of that name first (what
 * `npm start` does, so restarts do not pile up local admin keys).
 * --operator makes the tenant the platform operator's: its keys also see what
 * spans tenants (service instances, hosts, pids, dependency errors). `npm start`
 * makes its key this way.
 * Prints the new key on stdout and nothing else (so scripts can capture it).
 *   rotate-master-key
 * Asks the credentials service (over NATS_URL, with NATS_USER/NATS_PASSWORD
 * when set) to start a new master key; records are re-wrapped in the background.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { credentialRequests, inboxPrefix, Role } from '@switchyard/contracts';
import { AppError, ConfigError, KIT_MIGRATIONS, connectNats, redactUrl, createLogger, createPool, loadConfig, migrate, RpcClient } from '@switchyard/kit';
import { z } from 'zod';
import { Config } from './config.ts';
import { createApiKey, revokeApiKeysNamed } from './repo/api-keys.ts';

const USAGE = `usage: npm run admin -- create-key [--tenant default] [--role admin] [--name "local admin"] [--replace] [--operator]
       npm run admin -- rotate-master-key`;

// Connecting waits for NATS (the kit's client retries forever); an operator should hear back instead.
const NATS_CONNECT_TIMEOUT_MS = 10_000;

const CreateKeyArgs = z.object({
  tenant: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (at most 64)').default('default'),
  role: Role.default('admin'),
  name: z.string().trim().min(1).max(100).default('admin (cli)'),
});

async function main() {
  const [command, ...args0] = process.argv.slice(2);
  if (command === 'rotate-master-key') return rotateMasterKey();
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
      operator: { type: 'boolean', default: false },
    },
  });
  const { replace, operator, ...rest2 } = values;
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
    // src/ and dist/ are both one level below the service's folder.
    dir: [KIT_MIGRATIONS, fileURLToPath(new URL('../migrations', import.meta.url))],
    log,
  });
  const pool = createPool({ url: config.DATABASE_URL, schema: 'gateway', max: 1, applicationName: 'gateway-cli' });
  try {
    if (replace) await revokeApiKeysNamed(pool, args.data.tenant, args.data.name);
    const key = await createApiKey(pool, { tenantId: args.data.tenant, role: args.data.role, name: args.data.name, operator });
    // The secret goes to stdout only; it is never logged.
    process.stdout.write(`${key.key}\n`);
  } finally {
    await pool.end();
  }
}

async function rotateMasterKey() {
  // Only the NATS variables matter here, checked by the same rules as every service's.
  const config = loadConfig(Config.pick({ NATS_URL: true, NATS_USER: true, NATS_PASSWORD: true }));
  const log = createLogger({ service: 'gateway-cli', instanceId: 'cli', level: 'warn' });
  let timer: NodeJS.Timeout | undefined;
  const nc = await Promise.race([
    connectNats({
      servers: config.NATS_URL,
      name: 'admin-cli',
      user: config.NATS_USER,
      pass: config.NATS_PASSWORD,
      // The operator's own reply inbox: with per-service NATS users, replies to any other prefix are refused.
      inboxPrefix: inboxPrefix(config.NATS_USER ?? 'operator'),
      log,
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`could not connect to NATS at ${redactUrl(config.NATS_URL)} within ${NATS_CONNECT_TIMEOUT_MS / 1000} s`)),
        NATS_CONNECT_TIMEOUT_MS,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  try {
    const r = await new RpcClient(nc).request(credentialRequests.rotateMasterKey, {});
    console.log(`active master key:  ${r.active_key_id}`);
    console.log(`previous keys:      ${r.previous_key_ids.join(', ') || '(none)'}`);
    console.log(`records to re-wrap: ${r.pending_rewrap} (in the background; see credentials.master_key.status)`);
  } catch (err) {
    if (err instanceof AppError && (err.code === 'UNAVAILABLE' || err.code === 'TIMEOUT'))
      throw new Error(`the credentials service did not answer (${err.message}); is it running and connected to ${redactUrl(config.NATS_URL)}?`, {
        cause: err,
      });
    throw err;
  } finally {
    await nc.close();
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `admin: ${(err as Error).message}`);
  process.exit(1);
});
