import { AsyncLocalStorage } from 'node:async_hooks';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { headers as natsHeaders, type Msg, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import { AnyReply, type ReplyMeta, type RequestRoute } from '@switchyard/contracts';
import type { z } from 'zod';
import { AppError, fieldErrors, isAppError, toAppError } from './errors.ts';
import type { Logger } from './logger.ts';
import { secondsHistogram } from './instruments.ts';
import { extractTrace, injectTrace, isNatsConnected, nextDisconnect } from './nats.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const tracer = trace.getTracer('switchyard.rpc');
const handled = secondsHistogram('switchyard.rpc', 'switchyard_rpc_server_duration_seconds', 'Time to handle a NATS request, by subject and outcome');

export interface RequestContext {
  log: Logger;
  subject: string;
  /** When the caller stops waiting (epoch ms): work must not start past it (see startsBefore). */
  deadline: number;
  /** Set by the handler to tell the caller about the answer (e.g. `replayed`); sent beside the data. */
  meta?: ReplyMeta;
  /**
   * The most bytes the handler's answer may take as JSON: one reply carries at
   * most the server's max_payload. Absent when a test calls a handler directly
   * (see replyBudget).
   */
  maxReplyBytes?: number;
}

const LOST: unique symbol = Symbol('NATS connection lost');

/** The NATS header that carries the caller's deadline, epoch milliseconds. */
export const DEADLINE_HEADER = 'Switchyard-Deadline';

/**
 * The deadline of the request being handled, for the requests it makes in
 * turn: a downstream call never waits past the time its caller gave up.
 */
const currentDeadline = new AsyncLocalStorage<number>();

/** Refuses to start work the caller has already given up on (its answer would be thrown away). */
export function startsBefore(deadline: number, what = 'the work'): void {
  if (Date.now() >= deadline) throw new AppError('TIMEOUT', `the caller gave up before ${what} started`);
}

/** NATS's default max_payload, for when the connection has no server info (while reconnecting). */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** Room for the reply envelope around the handler's answer. */
const ENVELOPE_ROOM = 1024;

/**
 * The server's max_payload, remembered per connection: while it reconnects
 * nats.js has no server info, would queue a reply of any size, and the
 * server closes a connection that sends more than its max_payload.
 */
const lastMaxPayload = new WeakMap<NatsConnection, number>();
function maxPayloadOf(nc: NatsConnection): number {
  const now = nc.info?.max_payload;
  if (now) lastMaxPayload.set(nc, now);
  return now ?? lastMaxPayload.get(nc) ?? DEFAULT_MAX_PAYLOAD;
}

/** The bytes a handler's answer may take (for a handler that fits a page to it). */
export const replyBudget = (ctx: Pick<RequestContext, 'maxReplyBytes'>): number => ctx.maxReplyBytes ?? DEFAULT_MAX_PAYLOAD - ENVELOPE_ROOM;
export type Handler<R extends RequestRoute> = (
  req: z.output<R['request']>,
  ctx: RequestContext,
) => Promise<z.input<R['response']>>;
/** One handler per route of the catalog: a missing or mistyped one does not compile. */
export type Handlers<C extends Record<string, RequestRoute>> = { [K in keyof C]: Handler<C[K]> };

export interface RequestServer {
  /** Stops taking requests and waits for the ones in flight. */
  drain(): Promise<void>;
}

/** Serves a catalog of request routes on core NATS in one queue group per service. */
export function serveRequests<C extends Record<string, RequestRoute>>(
  nc: NatsConnection,
  opts: { routes: C; handlers: Handlers<C>; queue: string; log: Logger },
): RequestServer {
  const inFlight = new Set<Promise<void>>();
  const subs: Subscription[] = [];
  for (const key of Object.keys(opts.routes) as (keyof C & string)[]) {
    const route = opts.routes[key]!;
    const handler = opts.handlers[key] as Handler<RequestRoute>;
    subs.push(
      nc.subscribe(route.subject, {
        queue: opts.queue,
        callback: (err, msg) => {
          if (err) return opts.log.error({ err, subject: route.subject }, 'subscription error');
          const p = handle(nc, route, handler, msg, opts.log).finally(() => inFlight.delete(p));
          inFlight.add(p);
        },
      }),
    );
  }
  return {
    async drain() {
      await Promise.allSettled(subs.map((s) => s.drain()));
      await Promise.allSettled([...inFlight]);
    },
  };
}

async function handle(nc: NatsConnection, route: RequestRoute, handler: Handler<RequestRoute>, msg: Msg, log: Logger) {
  const started = performance.now();
  const maxPayload = maxPayloadOf(nc);
  const parent = extractTrace(msg.headers);
  await tracer.startActiveSpan(
    `${route.subject} process`,
    { kind: SpanKind.SERVER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': route.subject } },
    parent,
    async (span) => {
      let reply: AnyReply;
      try {
        let raw: unknown;
        try {
          raw = msg.data.length ? JSON.parse(dec.decode(msg.data)) : {};
        } catch {
          throw new AppError('BAD_REQUEST', 'request body is not JSON');
        }
        const parsed = route.request.safeParse(raw);
        if (!parsed.success)
          throw new AppError('VALIDATION_FAILED', 'request does not match its contract', {
            errors: fieldErrors(parsed.error.issues),
          });
        // A caller without the header (another client) gets the route's own timeout from now.
        const deadline = Number(msg.headers?.get(DEADLINE_HEADER)) || Date.now() + route.timeoutMs;
        startsBefore(deadline, route.subject);
        const ctx: RequestContext = { log, subject: route.subject, deadline, maxReplyBytes: maxPayload - ENVELOPE_ROOM };
        const data = await currentDeadline.run(deadline, () => handler(parsed.data, ctx));
        // A response that breaks the contract is our bug, caught here rather than by the caller.
        reply = { ok: true, data: route.response.parse(data), ...(ctx.meta ? { meta: ctx.meta } : {}) };
      } catch (err) {
        const appErr = toAppError(err);
        if (appErr.code === 'INTERNAL') {
          log.error({ err, subject: route.subject }, 'request handler failed');
          span.recordException(err as Error);
        }
        span.setStatus({ code: SpanStatusCode.ERROR, message: appErr.code });
        reply = { ok: false, error: appErr.toBody() };
      }
      try {
        if (msg.reply) reply = respond(msg, reply, maxPayload, route, log);
      } finally {
        handled().record((performance.now() - started) / 1_000, { subject: route.subject, ok: String(reply.ok) });
        span.end();
      }
    },
  );
}

/**
 * Sends a reply. One over max_payload (nats.js would throw, and the caller
 * wait out its timeout) becomes RESPONSE_TOO_LARGE; one nats.js still
 * refuses is logged, with an error envelope tried in its place. Returns what
 * was sent.
 */
function respond(msg: Msg, reply: AnyReply, maxPayload: number, route: RequestRoute, log: Logger): AnyReply {
  let body = enc.encode(JSON.stringify(reply));
  if (body.length > maxPayload) {
    log.warn({ subject: route.subject, bytes: body.length, max_payload: maxPayload }, 'reply larger than max_payload: answered RESPONSE_TOO_LARGE');
    reply = {
      ok: false,
      error: new AppError(
        'RESPONSE_TOO_LARGE',
        `the answer is ${body.length} bytes, more than one response may carry (${maxPayload}): ask for less, e.g. a smaller limit or a narrower filter`,
        { details: { bytes: body.length, max_bytes: maxPayload } },
      ).toBody(),
    };
    body = enc.encode(JSON.stringify(reply));
  }
  try {
    msg.respond(body);
    return reply;
  } catch (err) {
    log.error({ err, subject: route.subject, bytes: body.length }, 'could not send the reply');
    const failed: AnyReply = { ok: false, error: { code: 'INTERNAL', message: 'internal error' } };
    try {
      msg.respond(enc.encode(JSON.stringify(failed)));
    } catch {
      // The connection is gone: the caller times out.
    }
    return failed;
  }
}

/** Calls request routes: validates what it sends and what it gets back, with a timeout. */
export class RpcClient {
  constructor(private readonly nc: NatsConnection) {}

  async request<R extends RequestRoute>(
    route: R,
    payload: z.input<R['request']>,
    opts: { timeoutMs?: number } = {},
  ): Promise<z.output<R['response']>> {
    return (await this.requestWithMeta(route, payload, opts)).data;
  }

  /** As request, with what the handler said about its answer (e.g. `replayed`). */
  async requestWithMeta<R extends RequestRoute>(
    route: R,
    payload: z.input<R['request']>,
    opts: { timeoutMs?: number } = {},
  ): Promise<{ data: z.output<R['response']>; meta: ReplyMeta }> {
    // NATS is away: answer now (503) rather than after the timeout; the client reconnects by itself.
    if (!isNatsConnected(this.nc)) throw new AppError('UNAVAILABLE', `could not reach ${route.service}: NATS is unavailable`);
    const body = route.request.safeParse(payload);
    if (!body.success)
      throw new AppError('VALIDATION_FAILED', 'request does not match its contract', {
        errors: fieldErrors(body.error.issues),
      });
    return tracer.startActiveSpan(
      `${route.subject} send`,
      { kind: SpanKind.CLIENT, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': route.subject } },
      async (span) => {
        try {
          const h = injectTrace(natsHeaders(), context.active());
          // Inside a handler, never wait past the deadline of the request being handled.
          const inherited = currentDeadline.getStore();
          const timeout = Math.max(1, Math.min(opts.timeoutMs ?? route.timeoutMs, inherited ? inherited - Date.now() : Infinity));
          h.set(DEADLINE_HEADER, String(Date.now() + timeout));
          let msg: Msg;
          try {
            // NATS lost while waiting: the reply will not come; say so now rather than at the timeout.
            const disconnect = nextDisconnect(this.nc);
            let answer: Msg | typeof LOST;
            try {
              answer = await Promise.race([
                this.nc.request(route.subject, enc.encode(JSON.stringify(body.data)), { timeout, headers: h }),
                disconnect.lost.then((): typeof LOST => LOST),
              ]);
            } finally {
              disconnect.cancel();
            }
            if (answer === LOST) throw new AppError('UNAVAILABLE', `could not reach ${route.service}: NATS connection lost`);
            msg = answer;
          } catch (err) {
            throw transportError(route, err, timeout);
          }
          const reply = AnyReply.parse(JSON.parse(dec.decode(msg.data)));
          if (!reply.ok) throw AppError.fromBody(reply.error);
          return { data: route.response.parse(reply.data) as z.output<R['response']>, meta: reply.meta ?? {} };
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof AppError ? err.code : 'error' });
          throw err;
        } finally {
          span.end();
        }
      },
    );
  }
}

function transportError(route: RequestRoute, err: unknown, timeout: number): AppError {
  if (isAppError(err)) return err;
  const text = String((err as Error)?.message ?? err);
  const name = (err as Error)?.name ?? '';
  if (/no responders/i.test(text) || name === 'NoRespondersError')
    return new AppError('UNAVAILABLE', `${route.service} is not available`, { cause: err });
  if (/timeout/i.test(text) || name === 'TimeoutError')
    return new AppError('TIMEOUT', `${route.service} did not answer within ${timeout} ms`, { cause: err });
  return new AppError('UNAVAILABLE', `could not reach ${route.service}`, { cause: err });
}
