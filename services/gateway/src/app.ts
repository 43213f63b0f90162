import { fileURLToPath } from 'node:url';
import type { Runtime } from '@switchyard/kit';
import { Config } from './config.ts';
import { buildHttp } from './http.ts';

export const definition = {
  service: 'gateway',
  configSchema: Config,
  migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
} as const;

export async function buildApp(rt: Runtime, config: Config): Promise<void> {
  rt.startOutbox();
  const app = await buildHttp(rt, config, rt.telemetry?.fastifyOtel);
  await app.listen({ host: config.HOST, port: config.PORT });
  rt.log.info({ url: `http://${config.HOST}:${config.PORT}` }, 'gateway listening');
  // Stop taking HTTP requests first; close() waits for the ones in flight.
  rt.shutdown.on('stop-intake', 'http server', () => app.close());
}
