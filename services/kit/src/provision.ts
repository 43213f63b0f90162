/**
 * Declarative JetStream provisioning: the streams and durable consumers
 * declared in contracts, created or updated by the provisioning identity (a
 * step of `npm start`, a Kubernetes Job, a Compose one-shot service). Service
 * users cannot do this; they only use what is provisioned.
 */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  jetstreamManager,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { consumers, streams, type ConsumerDef, type StreamDef } from '@switchyard/contracts';
import { z } from 'zod';
import { baseConfig } from './config.ts';

const NS = 1_000_000;

const streamConfig = (d: StreamDef, replicas: number): Partial<StreamConfig> & { name: string } => ({
  name: d.name,
  subjects: [...d.subjects],
  description: d.description,
  retention: d.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
  storage: StorageType.File,
  discard: d.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
  max_age: d.maxAgeMs * NS,
  max_bytes: d.maxBytes,
  duplicate_window: d.duplicateWindowMs * NS,
  num_replicas: replicas,
});

const consumerConfig = (c: ConsumerDef, replicas: number): Partial<ConsumerConfig> & { durable_name: string } => ({
  num_replicas: replicas,
  durable_name: c.durable,
  description: c.description,
  filter_subject: c.filterSubject,
  ack_policy: AckPolicy.Explicit,
  deliver_policy: DeliverPolicy.All,
  ack_wait: c.ackWaitMs * NS,
  max_deliver: c.maxDeliver,
  max_ack_pending: c.maxAckPending,
});

const isNotFound = (e: unknown) => e instanceof JetStreamApiError && (e.code === 404 || /not found/i.test(e.message));
const isInUse = (e: unknown) => e instanceof JetStreamApiError && /already (in use|exists)/i.test(e.message);

async function ensureStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string }) {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await jsm.streams.info(cfg.name);
      // Retention and storage cannot change after creation; everything else we declare can.
      const { retention: _r, storage: _s, ...mutable } = cfg;
      await jsm.streams.update(cfg.name, mutable);
      return;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    try {
      await jsm.streams.add(cfg);
      return;
    } catch (err) {
      // Created elsewhere between our info and add: loop and update.
      if (!isInUse(err)) throw err;
    }
  }
  throw new Error(`could not provision stream ${cfg.name}`);
}

async function ensureConsumer(jsm: JetStreamManager, stream: string, cfg: Partial<ConsumerConfig> & { durable_name: string }) {
  try {
    await jsm.consumers.add(stream, cfg);
  } catch (err) {
    if (!isInUse(err)) throw err;
    // It exists with another configuration: change what may change (the filter and policies may not).
    const { description, ack_wait, max_deliver, max_ack_pending } = cfg;
    await jsm.consumers.update(stream, cfg.durable_name, { description, ack_wait, max_deliver, max_ack_pending });
  }
}

/**
 * Creates or updates streams and durable consumers from their definitions.
 * Safe when several provisioners run at once: a lost creation race becomes an
 * update to the same configuration.
 */
export async function provision(
  nc: NatsConnection,
  defs: { streams?: readonly StreamDef[]; consumers?: readonly ConsumerDef[]; replicas?: number },
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const replicas = defs.replicas ?? 1;
  for (const def of defs.streams ?? []) await ensureStream(jsm, streamConfig(def, replicas));
  for (const c of defs.consumers ?? []) await ensureConsumer(jsm, c.stream, consumerConfig(c, replicas));
}

/** The provisioning step's settings (its own environment: it runs as the provisioner NATS user). */
export const ProvisionSettings = z.object({
  // 3 on a NATS cluster (R3 streams survive a node loss); 1 on a single server.
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  // How long a delivered sync job may go without a heartbeat before JetStream
  // hands it to another worker (a killed worker's sync resumes after this).
  SYNC_ACK_WAIT_MS: z.coerce.number().int().min(1_000).max(600_000).default(consumers.syncWorker.ackWaitMs),
  SYNC_MAX_DELIVER: z.coerce.number().int().min(1).max(20).default(consumers.syncWorker.maxDeliver),
});
export type ProvisionSettings = z.infer<typeof ProvisionSettings>;

/** The provisioning process's whole environment (services/kit/src/provision-main.ts). */
export const ProvisionConfig = baseConfig({ healthPort: 0 })
  .pick({ NODE_ENV: true, LOG_LEVEL: true, NATS_URL: true, NATS_USER: true, NATS_PASSWORD: true, ALLOW_INSECURE_TRANSPORT: true })
  .extend({
    ...ProvisionSettings.shape,
    // Bounds the wait for NATS, so a Job that cannot reach it fails (and is retried) instead of hanging.
    PROVISION_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(60_000),
  });
export type ProvisionConfig = z.infer<typeof ProvisionConfig>;

/** The consumers of the contracts with the settings applied. */
export function plannedConsumers(s: ProvisionSettings): ConsumerDef[] {
  return Object.values(consumers).map((c) =>
    c.durable === consumers.syncWorker.durable ? { ...c, ackWaitMs: s.SYNC_ACK_WAIT_MS, maxDeliver: s.SYNC_MAX_DELIVER } : c,
  );
}

/** Every stream and consumer Switchyard declares. */
export async function provisionAll(nc: NatsConnection, s: ProvisionSettings): Promise<{ streams: string[]; consumers: string[] }> {
  const planned = plannedConsumers(s);
  await provision(nc, { streams: Object.values(streams), consumers: planned, replicas: s.NATS_STREAM_REPLICAS });
  return { streams: Object.values(streams).map((d) => d.name), consumers: planned.map((c) => `${c.stream}/${c.durable}`) };
}
