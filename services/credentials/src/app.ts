import { fileURLToPath } from 'node:url';
import { credentialRequests } from '@switchyard/contracts';
import type { Handlers, Runtime } from '@switchyard/kit';
import { Config, rootKeys } from './config.ts';
import { remove } from './handlers/credentials.delete.ts';
import { rotateMasterKey } from './handlers/credentials.master_key.rotate.ts';
import { keyRing } from './handlers/credentials.master_key.status.ts';
import { reveal } from './handlers/credentials.reveal.ts';
import { store } from './handlers/credentials.store.ts';
import { KeyRing } from './keyring.ts';
import { Rewrapper } from './rewrap.ts';

export const definition = {
  service: 'credentials',
  configSchema: Config,
  migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
} as const;

/** What tests reach past NATS: a replica's own handlers and key ring. */
export interface CredentialsApp {
  handlers: Handlers<typeof credentialRequests>;
  ring: KeyRing;
  rewrapper: Rewrapper;
}

export async function buildApp(rt: Runtime, config: Config): Promise<CredentialsApp> {
  const root = rootKeys(config);
  if (root.insecureDefault)
    rt.log.warn(
      'CREDENTIALS_ROOT_KEY is not set: master keys are wrapped with the public development root key; ' +
        'set it (base64 of 32 random bytes) anywhere but a developer machine',
    );

  const ring = await KeyRing.open({
    pool: rt.pool,
    databaseUrl: config.DATABASE_URL,
    schema: rt.schema,
    root,
    log: rt.log.child({ component: 'key-ring' }),
    // Only watch() calls this, and it starts below, once the re-wrapper exists.
    onChange: () => rewrapper.kick(),
  });
  rt.shutdown.on('resources', 'wipe master keys', () => ring.close());
  const rewrapper = new Rewrapper({ pool: rt.pool, ring, batchSize: config.REWRAP_BATCH_SIZE, log: rt.log.child({ component: 'rewrap' }) });
  rt.shutdown.on('in-flight', 'master key re-wrap', () => rewrapper.stop());
  await ring.watch();
  rt.shutdown.on('stop-intake', 'key ring listener', () => ring.stopWatching());
  // Resumes a re-wrap a replica (this one, before a restart) left half done; a no-op when all is on the active key.
  rewrapper.kick();

  const deps = { pool: rt.pool, ring, rewrapper, log: rt.log };
  const handlers: Handlers<typeof credentialRequests> = {
    store: store(deps),
    reveal: reveal(deps),
    delete: remove(deps),
    rotateMasterKey: rotateMasterKey(deps),
    keyRing: keyRing(deps),
  };
  rt.serve(credentialRequests, handlers);
  return { handlers, ring, rewrapper };
}
