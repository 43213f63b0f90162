import { createHash } from 'node:crypto';
import type { IdempotencyRef, RequestRoute } from '@switchyard/contracts';
import { AppError, type RpcClient } from '@switchyard/kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';

/**
 * `Idempotency-Key` on the POST routes that opt in (IETF httpapi
 * idempotency-key draft). The gateway checks the header and sends the key,
 * with a fingerprint of the request (method, route, body), to the service that
 * does the work, which enforces it durably in its own database: the first
 * request runs; a retry with the same key and body gets the stored answer
 * (`Idempotent-Replayed: true`) even after a gateway crash or a caller's
 * timeout; the same key with another body is a 422; a retry while the first is
 * still running is a 409 with Retry-After. Nothing of it lives in Redis.
 */
const KEY = /^[\x21-\x7e]{1,255}$/;

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: IdempotencyRef;
  }
  interface FastifyContextConfig {
    /** The route honours Idempotency-Key (its service enforces it). */
    idempotent?: boolean;
  }
}

export function registerIdempotency(app: FastifyInstance): void {
  app.decorateRequest('idempotency', undefined);
  // After authentication (onRequest) and body parsing: the fingerprint covers the parsed body.
  app.addHook('preHandler', async (req: FastifyRequest) => {
    const header = req.headers['idempotency-key'];
    if (req.method !== 'POST' || header === undefined || !req.routeOptions.config?.idempotent) return;
    const key = Array.isArray(header) ? header[0] : header;
    if (!key || !KEY.test(key))
      throw new AppError('VALIDATION_FAILED', 'Idempotency-Key must be 1-255 visible ASCII characters', {
        errors: [{ field: 'header.idempotency-key', message: 'must be 1-255 visible ASCII characters' }],
      });
    const fingerprint = createHash('sha256').update(`${req.method} ${req.url}\n${JSON.stringify(req.body ?? null)}`).digest('hex');
    req.idempotency = { key, fingerprint };
  });
}

/** Calls an idempotent route with the request's key, marking a stored answer `Idempotent-Replayed: true`. */
export async function requestIdempotent<R extends RequestRoute>(
  rpc: RpcClient,
  route: R,
  payload: z.input<R['request']> & object,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<z.output<R['response']>> {
  const { data, meta } = await rpc.requestWithMeta(route, { ...payload, ...(req.idempotency ? { idempotency: req.idempotency } : {}) });
  if (meta.replayed) reply.header('idempotent-replayed', 'true');
  return data;
}
