/** `npm run nats-config`: writes deploy/nats/auth.conf and deploy/nats/nats-server.conf from the contracts' permissions. */
import { writeFileSync } from 'node:fs';
import { NATS_AUTH_CONFIG_PATH, NATS_CONFIG_PATH, natsAuthConfig, natsServerConfig } from '@switchyard/kit/local';

writeFileSync(NATS_AUTH_CONFIG_PATH, natsAuthConfig());
writeFileSync(NATS_CONFIG_PATH, natsServerConfig());
console.log(`wrote ${NATS_AUTH_CONFIG_PATH} and ${NATS_CONFIG_PATH}`);
