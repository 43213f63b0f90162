import { context, propagation, type Context } from '@opentelemetry/api';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
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
  connected.set(nc, true);
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        connected.set(nc, false);
        for (const fn of disconnectWaiters.get(nc) ?? []) fn();
        disconnectWaiters.delete(nc);
      }
      if (s.type === 'reconnect') connected.set(nc, true);
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error')
        opts.log.warn({ nats: s.type, server: 'server' in s ? s.server : undefined }, `nats ${s.type}`);
    }
  })();
  void nc.closed().then(() => connected.set(nc, false));
  return nc;
}

const connected = new WeakMap<NatsConnection, boolean>();
const disconnectWaiters = new WeakMap<NatsConnection, Set<() => void>>();

/**
 * Resolves when the connection is next lost (a request in flight then will
 * not be answered: its caller can give up at once instead of at its timeout).
 * `cancel` forgets the wait.
 */
export function nextDisconnect(nc: NatsConnection): { lost: Promise<void>; cancel(): void } {
  let fn!: () => void;
  const lost = new Promise<void>((r) => (fn = r));
  const set = disconnectWaiters.get(nc) ?? new Set();
  set.add(fn);
  disconnectWaiters.set(nc, set);
  return { lost, cancel: () => set.delete(fn) };
}

/**
 * Whether the connection is up now. While NATS is away the client buffers
 * what is published and retries the connection; a request would wait out its
 * timeout, so callers check this and fail fast instead.
 */
export const isNatsConnected = (nc: NatsConnection): boolean => !nc.isClosed() && connected.get(nc) !== false;

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
