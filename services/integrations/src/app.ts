import { fileURLToPath } from 'node:url';
import { integrationRequests } from '@switchyard/contracts';
import { targetPolicyFrom, type Handlers, type Runtime } from '@switchyard/kit';
import { Config } from './config.ts';
import type { Deps } from './handlers/deps.ts';
import { connect } from './handlers/integrations.connect.ts';
import { create } from './handlers/integrations.create.ts';
import { replaceCredential } from './handlers/integrations.credentials.replace.ts';
import { remove } from './handlers/integrations.delete.ts';
import { disconnect } from './handlers/integrations.disconnect.ts';
import { get } from './handlers/integrations.get.ts';
import { list } from './handlers/integrations.list.ts';
import { startSync } from './handlers/integrations.syncs.start.ts';
import { testConnection } from './handlers/integrations.test_connection.ts';
import { update } from './handlers/integrations.update.ts';
import { TenantSlots } from './tenant-slots.ts';

export const definition = {
  service: 'integrations',
  configSchema: Config,
  migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
} as const;

/** The request handlers, keyed as the contract's catalog: a missing or mistyped one does not compile. */
export const handlers = (d: Deps): Handlers<typeof integrationRequests> => ({
  create: create(d),
  list: list(d),
  get: get(d),
  update: update(d),
  delete: remove(d),
  test: testConnection(d),
  connect: connect(d),
  disconnect: disconnect(d),
  replaceCredential: replaceCredential(d),
  startSync: startSync(d),
});

export async function buildApp(rt: Runtime, config: Config): Promise<void> {
  rt.startOutbox();
  const limits = { timeoutMs: config.CONNECT_TIMEOUT_MS, policy: targetPolicyFrom(config), perTenant: new TenantSlots(config.CONNECTION_TESTS_PER_TENANT) };
  rt.serve(integrationRequests, handlers({ pool: rt.pool, rpc: rt.rpc, log: rt.log, limits }));
}
