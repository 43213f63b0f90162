import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ServiceName } from '@switchyard/contracts';
import type { z } from 'zod';
import { ConfigError, loadConfig, type BaseConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { Runtime } from './runtime.ts';
import { startTelemetry } from './telemetry.ts';

export interface ServiceDefinition<C extends BaseConfig> {
  service: ServiceName;
  version: string;
  configSchema: z.ZodType<C>;
  migrationsDir?: string;
  /** Builds the service on its runtime (app.ts); tests call the same function. */
  build: (rt: Runtime, config: C) => Promise<void>;
}

/**
 * The process around a service: config (exit 2 naming every bad variable),
 * telemetry, logger, runtime, signals. Returns once the service is ready.
 */
export async function serviceMain<C extends BaseConfig>(def: ServiceDefinition<C>): Promise<Runtime> {
  let config: C;
  try {
    config = loadConfig(def.configSchema);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`${def.service}: ${err.message}`);
    process.exit(2);
  }
  const instanceId = config.INSTANCE_ID ?? `${def.service}-${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
  const telemetry = startTelemetry({ service: def.service, version: def.version, instanceId });
  const log = createLogger({ service: def.service, instanceId, level: config.LOG_LEVEL });

  let rt: Runtime | undefined;
  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    const ok = rt ? await rt.stop(reason) : true;
    process.exit(ok ? 0 : 1);
  };
  // A terminal's Ctrl-C reaches the whole process group and `npm start` then
  // sends SIGTERM too: later signals are absorbed; the deadline bounds the stop.
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));

  try {
    rt = await Runtime.create({
      service: def.service,
      version: def.version,
      instanceId,
      config,
      log,
      telemetry,
      migrationsDir: def.migrationsDir,
    });
    await def.build(rt, config);
    await rt.markReady();
    log.info({ health_port: rt.healthPort, version: def.version }, 'ready');
    return rt;
  } catch (err) {
    log.fatal({ err }, 'failed to start');
    await rt?.stop('start failed');
    process.exit(1);
  }
}
