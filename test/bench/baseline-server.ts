/**
 * Baselines for the gateway benchmark, each its own process like the real services:
 *   fastify <port>           bare Fastify answering JSON
 *   fastify-nats <port> <url> Fastify that answers through one NATS request/reply
 *   responder <url>          the NATS responder for fastify-nats
 */
import { connect } from '@nats-io/transport-node';
import Fastify from 'fastify';

const [mode, arg1, arg2] = process.argv.slice(2);
const SUBJECT = 'bench.echo';

if (mode === 'responder') {
  const nc = await connect({ servers: arg1! });
  nc.subscribe(SUBJECT, { queue: 'bench', callback: (_e, m) => {
      m.respond(JSON.stringify({ ok: true, data: { at: Date.now() } }));
    },
  });
  process.stdout.write('ready\n');
} else {
  const app = Fastify({ logger: false });
  if (mode === 'fastify-nats') {
    const nc = await connect({ servers: arg2! });
    app.get('/', async () => (await nc.request(SUBJECT, '{}', { timeout: 5_000 })).json());
  } else {
    app.get('/', async () => ({ ok: true, data: { at: Date.now() } }));
  }
  await app.listen({ port: Number(arg1), host: '127.0.0.1' });
  process.stdout.write('ready\n');
}
process.on('SIGTERM', () => process.exit(0));
