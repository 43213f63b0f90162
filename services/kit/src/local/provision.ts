import { inboxPrefix, PROVISIONER } from '@switchyard/contracts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { connectNats } from '../nats.ts';
import { provisionAll, ProvisionSettings } from '../provision.ts';

/**
 * The provisioning step of `npm start` and of the isolated test system: every
 * stream and consumer, with the settings found in `env` (SYNC_ACK_WAIT_MS…),
 * as the provisioner NATS user when `credentials` are given.
 */
export async function provisionNats(natsUrl: string, env: Record<string, string | undefined>, credentials?: { user: string; pass: string }) {
  const settings = loadConfig(ProvisionSettings, env);
  const nc = await connectNats({
    servers: natsUrl,
    name: 'provision',
    user: credentials?.user,
    pass: credentials?.pass,
    inboxPrefix: inboxPrefix(PROVISIONER),
    log: createLogger({ service: 'provision', instanceId: 'provision', level: 'warn' }),
  });
  try {
    return await provisionAll(nc, settings);
  } finally {
    await nc.close();
  }
}
