import { createHash } from 'node:crypto';
import { AppError, type RedisClient } from '@switchyard/kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * `Idempotency-Key` on the POST routes that opt in (IETF httpapi idempotency-key draft): the first
 * request with a key runs; a retry with the same key and body gets the stored
 * answer (`Idempotent-Replayed: true`) instead of running twice; the same key
 * with another body is a 422; a retry while the first still runs is a 409.
 * A 5xx answer is not kept, so the request can be retried. Keys live in Redis
 * (only what can be lost safely: losing one re-opens a retry, nothing more).
 */
const KEY = /^[\x21-\x7e]{1,255}$/;

interface Stored {
  state: 'running' | 'done';
  fingerprint: string;
  status?: number;
  body?: string;
  contentType?: string;
  location?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey?: string;
  }
  interface FastifyContextConfig {
    /** The route honours Idempotency-Key. Not for routes whose answer holds a secret (it would sit in Redis). */
    idempotent?: boolean;
  }
}

export function registerIdempotency(app: FastifyInstance, redis: RedisClient, ttlSeconds: number): void {
  app.decorateRequest('idempotencyKey', undefined);

  // After authentication (onRequest) and body parsing: the key is scoped to the tenant and route.
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers['idempotency-key'];
    if (req.method !== 'POST' || header === undefined || !req.principal || !req.routeOptions.config?.idempotent) return;
    const key = Array.isArray(header) ? header[0] : header;
    if (!key || !KEY.test(key))
      throw new AppError('VALIDATION_FAILED', 'Idempotency-Key must be 1-255 visible ASCII characters', {
        errors: [{ field: 'header.idempotency-key', message: 'must be 1-255 visible ASCII characters' }],
      });
    const redisKey = `gateway:idem:${req.principal.tenantId}:${req.routeOptions.url}:${key}`;
    const fingerprint = createHash('sha256').update(`${req.url}\n${JSON.stringify(req.body ?? null)}`).digest('hex');
    const fresh: Stored = { state: 'running', fingerprint };
    const claimed = await redis.set(redisKey, JSON.stringify(fresh), 'EX', ttlSeconds, 'NX');
    if (claimed) {
      req.idempotencyKey = redisKey;
      return;
    }
    const raw = await redis.get(redisKey);
    const seen = raw ? (JSON.parse(raw) as Stored) : undefined;
    if (!seen) throw new AppError('CONFLICT', 'a request with this Idempotency-Key just finished; retry it');
    if (seen.fingerprint !== fingerprint)
      throw new AppError('UNPROCESSABLE', 'this Idempotency-Key was used with a different request body', {
        errors: [{ field: 'header.idempotency-key', message: 'already used for a different request' }],
      });
    if (seen.state === 'running') throw new AppError('CONFLICT', 'a request with this Idempotency-Key is still being processed');
    reply.header('idempotent-replayed', 'true');
    if (seen.location) reply.header('location', seen.location);
    return reply.status(seen.status!).type(seen.contentType ?? 'application/json').send(seen.body);
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const redisKey = req.idempotencyKey;
    if (!redisKey || reply.getHeader('idempotent-replayed')) return payload;
    req.idempotencyKey = undefined;
    if (reply.statusCode >= 500) {
      await redis.del(redisKey).catch(() => {});
      return payload;
    }
    const raw = await redis.get(redisKey).catch(() => null);
    const running = raw ? (JSON.parse(raw) as Stored) : undefined;
    if (!running) return payload;
    const done: Stored = {
      state: 'done',
      fingerprint: running.fingerprint,
      status: reply.statusCode,
      body: typeof payload === 'string' ? payload : payload == null ? '' : String(payload),
      contentType: String(reply.getHeader('content-type') ?? 'application/json'),
      location: reply.getHeader('location') as string | undefined,
    };
    await redis.set(redisKey, JSON.stringify(done), 'KEEPTTL').catch(() => {});
    return payload;
  });
}
