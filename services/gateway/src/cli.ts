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
 *   outbox-parked [--service <name>]
 * Lists the outbox rows each service (or one) has parked because they cannot
 * be published (too large, refused by permissions, invalid), over NATS.
 *   outbox-retry --service <name> --id <event id>
 * Moves a parked row back to the end of that service's outbox.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { credentialRequests, inboxPrefix, outboxRequests, Role, SERVICE_NAMES, ServiceName, type ParkedMessage } from '@switchyard/contracts';
import { AppError, ConfigError, KIT_MIGRATIONS, connectNats, redactUrl, createLogger, createPool, loadConfig, migrate, RpcClient } from '@switchyard/kit';
import { z } from 'zod';
import { Config } from './config.ts';
import { createApiKey, revokeApiKeysNamed } from './repo/api-keys.ts';

const USAGE = `usage: npm run admin -- create-key [--tenant default] [--role admin] [--name "local admin"] [--replace] [--operator]
       npm run admin -- rotate-master-key
       npm run admin -- outbox-parked [--service <name>]
       npm run admin -- outbox-retry --service <name> --id <event id>`;

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
  if (command === 'outbox-parked') return outboxParked(args0);
  if (command === 'outbox-retry') return outboxRetry(args0);
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

/** Runs `fn` with an RpcClient on the operator's NATS connection, then closes it. */
async function asOperator<T>(fn: (rpc: RpcClient, natsUrl: string) => Promise<T>): Promise<T> {
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
    return await fn(new RpcClient(nc), redactUrl(config.NATS_URL));
  } finally {
    await nc.close();
  }
}

const unanswered = (err: unknown) => err instanceof AppError && (err.code === 'UNAVAILABLE' || err.code === 'TIMEOUT');

async function rotateMasterKey() {
  await asOperator(async (rpc, natsUrl) => {
    try {
      const r = await rpc.request(credentialRequests.rotateMasterKey, {});
      console.log(`active master key:  ${r.active_key_id}`);
      console.log(`previous keys:      ${r.previous_key_ids.join(', ') || '(none)'}`);
      console.log(`records to re-wrap: ${r.pending_rewrap} (in the background; see credentials.master_key.status)`);
    } catch (err) {
      if (unanswered(err))
        throw new Error(`the credentials service did not answer (${(err as Error).message}); is it running and connected to ${natsUrl}?`, { cause: err });
      throw err;
    }
  });
}

/** `--service <name>` of the outbox commands, checked against the service names. */
function serviceArg(value: string | undefined, required: boolean): ServiceName | undefined {
  if (value === undefined && !required) return undefined;
  const parsed = ServiceName.safeParse(value);
  if (parsed.success) return parsed.data;
  console.error(`--service: ${value === undefined ? 'is required' : `unknown service "${value}"`}; one of ${SERVICE_NAMES.join(', ')}`);
  process.exit(2);
}

async function outboxParked(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: { service: { type: 'string' } } });
  const only = serviceArg(values.service, false);
  await asOperator(async (rpc) => {
    for (const service of only ? [only] : SERVICE_NAMES) {
      const rows: ParkedMessage[] = [];
      try {
        for (let cursor: string | undefined, first = true; first || cursor; first = false) {
          const page = await rpc.request(outboxRequests[service].parked, { limit: 200, cursor });
          rows.push(...page.data);
          cursor = page.next_cursor ?? undefined;
        }
      } catch (err) {
        if (!unanswered(err)) throw err;
        console.log(`${service}: did not answer (${(err as Error).message})`);
        process.exitCode = 1;
        continue;
      }
      console.log(`${service}: ${rows.length} parked`);
      for (const r of rows) {
        console.log(`  ${r.id}  ${r.subject}  ${r.reason}  attempts=${r.attempts}  bytes=${r.bytes}  parked_at=${r.parked_at}`);
        console.log(`    ${r.error}`);
      }
    }
  });
}

async function outboxRetry(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: { service: { type: 'string' }, id: { type: 'string' } } });
  const service = serviceArg(values.service, true)!;
  const id = z.uuid().safeParse(values.id);
  if (!id.success) {
    console.error('--id: the id of a parked row (a UUID), as outbox-parked lists it');
    process.exit(2);
  }
  await asOperator(async (rpc, natsUrl) => {
    try {
      const moved = await rpc.request(outboxRequests[service].retry, { id: id.data });
      console.log(`moved ${moved.id} (${moved.subject}) back to the end of ${service}'s outbox.`);
      console.log(`If it still cannot be published (${moved.reason}), it is parked again after OUTBOX_PARK_AFTER_ATTEMPTS attempts.`);
    } catch (err) {
      if (unanswered(err)) throw new Error(`${service} did not answer (${(err as Error).message}); is it running and connected to ${natsUrl}?`, { cause: err });
      throw err;
    }
  });
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `admin: ${(err as Error).message}`);
  process.exit(1);
});
