import { fileURLToPath } from 'node:url';
import { Heartbeat, monitorRequests, signals } from '@switchyard/contracts';
import type { Runtime } from '@switchyard/kit';
import { Config } from './config.ts';
import { listInstances, pruneInstances, recordHeartbeat } from './repo/instances.ts';

export const definition = {
  service: 'monitor',
  configSchema: Config,
  migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
} as const;

export async function buildApp(rt: Runtime, config: Config): Promise<void> {
  rt.listen(signals.heartbeat, Heartbeat, (beat) => recordHeartbeat(rt.pool, beat));
  rt.serve(monitorRequests, {
    listInstances: async (req) => ({
      instances: await listInstances(rt.pool, {
        staleAfterBeats: config.INSTANCE_STALE_AFTER_BEATS,
        includeStale: req.include_stale,
      }),
    }),
  });
  const prune = setInterval(() => void pruneInstances(rt.pool).catch(() => {}), 60_000);
  prune.unref();
  rt.shutdown.on('stop-intake', 'prune timer', () => clearInterval(prune));
}
