import { fileURLToPath } from 'node:url';
import { Heartbeat, monitorRequests, signals } from '@switchyard/contracts';
import type { Runtime } from '@switchyard/kit';
import { Config } from './config.ts';
import { listInstancesHandler } from './handlers/monitor.instances.list.ts';
import { pruneInstances } from './repo/instances.ts';
import { onHeartbeat } from './signals/monitor.heartbeat.ts';

export const definition = {
  service: 'monitor',
  configSchema: Config,
  migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
} as const;

export async function buildApp(rt: Runtime, config: Config): Promise<void> {
  const { pool } = rt;
  rt.listen(signals.heartbeat, Heartbeat, onHeartbeat({ pool }));
  rt.serve(monitorRequests, { listInstances: listInstancesHandler({ pool, staleAfterBeats: config.INSTANCE_STALE_AFTER_BEATS }) });
  const prune = setInterval(() => void pruneInstances(pool).catch(() => {}), 60_000);
  prune.unref();
  rt.shutdown.on('stop-intake', 'prune timer', () => clearInterval(prune));
}
