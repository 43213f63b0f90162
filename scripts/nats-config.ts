/** `npm run nats-config`: writes deploy/nats/nats-server.conf from the contracts' permissions. */
import { writeFileSync } from 'node:fs';
import { NATS_CONFIG_PATH, natsConfig } from '@switchyard/kit/local';

writeFileSync(NATS_CONFIG_PATH, natsConfig());
console.log(`wrote ${NATS_CONFIG_PATH}`);
