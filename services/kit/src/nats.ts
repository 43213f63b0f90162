import { context, propagation, type Context } from '@opentelemetry/api';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  jetstreamManager,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { ConsumerDef, StreamDef } from '@switchyard/contracts';
import type { Logger } from './logger.ts';

export type { NatsConnection, MsgHdrs };

export async function connectNats(opts: {
  servers: string;
  name: string;
  user?: string;
  pass?: string;
  /** Replies come back on `<inboxPrefix>.>`; a per-service prefix lets NATS permissions keep them private. */
  inboxPrefix?: string;
  log: Logger;
}): Promise<NatsConnection> {
  const nc = await connect({
    servers: opts.servers.split(',').map((s) => s.trim()),
    name: opts.name,
    user: opts.user,
    pass: opts.pass,
    inboxPrefix: opts.inboxPrefix,
    // Never give up: NATS restarting must not take the service down with it.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    timeout: 5_000,
  });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error')
        opts.log.warn({ nats: s.type, server: 'server' in s ? s.server : undefined }, `nats ${s.type}`);
    }
  })();
  return nc;
}

// ---- W3C trace context in NATS headers --------------------------------------

/** Writes the active (or given) context's traceparent/tracestate into NATS headers. */
export function injectTrace(h: MsgHdrs = natsHeaders(), ctx: Context = context.active()): MsgHdrs {
  propagation.inject(ctx, h, { set: (carrier, key, value) => carrier.set(key, value) });
  return h;
}

/** Reads trace context from NATS headers (or a plain record, e.g. an outbox row). */
export function extractTrace(h: MsgHdrs | Record<string, string> | undefined): Context {
  if (!h) return context.active();
  const getter = {
    keys: (c: MsgHdrs | Record<string, string>) => ('keys' in c && typeof c.keys === 'function' ? c.keys() : Object.keys(c)),
    get: (c: MsgHdrs | Record<string, string>, key: string) =>
      typeof c.get === 'function' ? (c as MsgHdrs).get(key) || undefined : (c as Record<string, string>)[key],
  };
  return propagation.extract(context.active(), h, getter);
}

/** The current trace context as a plain record, for storing beside an outbox row. */
export function traceCarrier(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

// ---- declarative provisioning -----------------------------------------------

const streamConfig = (d: StreamDef): Partial<StreamConfig> & { name: string } => ({
  name: d.name,
  subjects: [...d.subjects],
  description: d.description,
  retention: d.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
  storage: StorageType.File,
  discard: DiscardPolicy.Old,
  max_age: d.maxAgeMs * 1_000_000,
  duplicate_window: d.duplicateWindowMs * 1_000_000,
  num_replicas: 1,
});

const isNotFound = (e: unknown) =>
  e instanceof JetStreamApiError && (e.code === 404 || /not found/i.test(e.message));

/**
 * Creates or updates streams and durable consumers from their definitions.
 * Safe when several replicas run it at once: a lost creation race becomes an
 * update to the same configuration.
 */
export async function provision(
  nc: NatsConnection,
  defs: { streams?: readonly StreamDef[]; consumers?: readonly ConsumerDef[]; replicas?: number },
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const def of defs.streams ?? []) await ensureStream(jsm, { ...streamConfig(def), num_replicas: defs.replicas ?? 1 });
  for (const c of defs.consumers ?? []) {
    await jsm.consumers.add(c.stream, {
      num_replicas: defs.replicas ?? 1,
      durable_name: c.durable,
      description: c.description,
      filter_subject: c.filterSubject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: c.ackWaitMs * 1_000_000,
      // One spare delivery: the job runner gives a job up on it when its final attempt never settled (see JobRunner).
      max_deliver: c.maxDeliver + 1,
      max_ack_pending: c.maxAckPending,
    });
  }
}

async function ensureStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string }) {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await jsm.streams.info(cfg.name);
      // Retention cannot change after creation; everything else we declare can.
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
      // Another replica created it between our info and add: loop and update.
      if (!(err instanceof JetStreamApiError && /already in use/i.test(err.message))) throw err;
    }
  }
  throw new Error(`could not provision stream ${cfg.name}`);
}
