import type { Runtime } from '@switchyard/kit';
import { Config } from './config.ts';

export const definition = { service: 'credentials', configSchema: Config } as const;

export async function buildApp(_rt: Runtime, _config: Config): Promise<void> {
  // Boots on the kit alone for now: health, status, heartbeats, its schema and outbox.
}
