/**
 * The provisioning step as a process: `node services/kit/dist/provision.js`
 * (the image's Kubernetes Job and Compose one-shot service). Connects as the
 * provisioner NATS user, creates or updates every stream and consumer, exits
 * 0; exits 1 when NATS does not answer within PROVISION_TIMEOUT_MS (the Job
 * retries), 2 on a bad variable.
 */
import { inboxPrefix, PROVISIONER } from '@switchyard/contracts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { connectNats } from './nats.ts';
import { ProvisionConfig, provisionAll } from './provision.ts';

async function main() {
  let config: ProvisionConfig;
  try {
    config = loadConfig(ProvisionConfig);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`provision: ${err.message}`);
    process.exit(2);
  }
  const log = createLogger({ service: 'provision', instanceId: 'provision', level: config.LOG_LEVEL });
  const deadline = setTimeout(() => {
    log.fatal({ timeout_ms: config.PROVISION_TIMEOUT_MS }, 'NATS did not answer in time; nothing provisioned');
    process.exit(1);
  }, config.PROVISION_TIMEOUT_MS);
  const nc = await connectNats({ servers: config.NATS_URL, name: 'provision', user: config.NATS_USER, pass: config.NATS_PASSWORD, inboxPrefix: inboxPrefix(PROVISIONER), log });
  const done = await provisionAll(nc, config);
  clearTimeout(deadline);
  await nc.close();
  log.info(done, 'streams and consumers provisioned');
}

main().catch((err) => {
  console.error(`provision: ${(err as Error).message}`);
  process.exit(1);
});
