import { fileURLToPath } from 'node:url';
import { targetPolicyFrom } from '@switchyard/connectors';
import { integrationRequests } from '@switchyard/contracts';
import type { Runtime } from '@switchyard/kit';
import { Config } from './config.ts';
import { createHandler } from './handlers/create.ts';
import {
  connectHandler,
  deleteHandler,
  disconnectHandler,
  getHandler,
  listHandler,
  replaceCredentialHandler,
  startSyncHandler,
  testHandler,
  updateHandler,
} from './handlers/manage.ts';

export const definition = {
  service: 'integrations',
  configSchema: Config,
  migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
} as const;

export async function buildApp(rt: Runtime, config: Config): Promise<void> {
  const deps = { rt, config, limits: { timeoutMs: config.CONNECT_TIMEOUT_MS, policy: targetPolicyFrom(config) } };
  rt.startOutbox();
  rt.serve(integrationRequests, {
    create: createHandler(deps),
    list: listHandler(deps),
    get: getHandler(deps),
    update: updateHandler(deps),
    delete: deleteHandler(deps),
    test: testHandler(deps),
    connect: connectHandler(deps),
    disconnect: disconnectHandler(deps),
    replaceCredential: replaceCredentialHandler(deps),
    startSync: startSyncHandler(deps),
  });
}
