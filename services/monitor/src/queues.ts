import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { consumers, streams, type ConsumerState, type QueueList, type StreamState } from '@switchyard/contracts';
import { AppError } from '@switchyard/kit';

/** JetStream reports times as RFC 3339 strings (or, in some clients' types, nanoseconds). */
const timeOf = (v: unknown): number | null => {
  if (typeof v === 'string') {
    const t = Date.parse(v);
    // Go's zero time means "never".
    return Number.isFinite(t) && t > 0 ? t : null;
  }
  if (typeof v === 'number' && v > 0) return v / 1e6;
  return null;
};
const ageOf = (t: number | null, now: number) => (t === null ? null : Math.max(0, Math.round((now - t) / 100) / 10));

/**
 * Every declared stream and durable consumer as JetStream reports them. The
 * monitor may read their state, never their messages (least privilege), so
 * the age of the oldest unacknowledged message is exact for work queues
 * (acknowledged jobs leave the stream: its first message is the oldest
 * waiting) and left null for consumers of streams that keep messages.
 */
export async function readQueues(nc: NatsConnection): Promise<QueueList> {
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc, { timeout: 2_000 });
  } catch (err) {
    throw new AppError('UNAVAILABLE', 'JetStream is not available', { cause: err });
  }
  const now = Date.now();
  const out: StreamState[] = [];
  for (const def of Object.values(streams)) {
    const info = await jsm.streams.info(def.name).catch(() => null);
    const state = info?.state;
    const firstAt = state && state.messages > 0 ? timeOf(state.first_ts) : null;
    const lastAt = state && state.messages > 0 ? timeOf(state.last_ts) : null;
    const mine = Object.values(consumers).filter((c) => c.stream === def.name);
    const list: ConsumerState[] = [];
    for (const c of mine) {
      const ci = await jsm.consumers.info(c.stream, c.durable).catch(() => null);
      if (!ci) continue;
      const waiting = ci.num_pending + ci.num_ack_pending;
      list.push({
        stream: c.stream,
        consumer: c.durable,
        service: c.service,
        pending: ci.num_pending,
        ack_pending: ci.num_ack_pending,
        redelivered: ci.num_redelivered,
        oldest_unacked_age_seconds: def.retention === 'workqueue' ? (waiting > 0 ? ageOf(firstAt, now) : 0) : null,
        last_ack_age_seconds: ageOf(timeOf(ci.ack_floor?.last_active), now),
      });
    }
    out.push({
      stream: def.name,
      messages: state?.messages ?? 0,
      bytes: state?.bytes ?? 0,
      first_at: firstAt === null ? null : new Date(firstAt).toISOString(),
      last_at: lastAt === null ? null : new Date(lastAt).toISOString(),
      consumers: list,
    });
  }
  return { streams: out, checked_at: new Date(now).toISOString() };
}
