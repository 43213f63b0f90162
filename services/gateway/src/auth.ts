import type { AuthFailure, Role } from '@switchyard/contracts';
import { AppError, counter, type Pool } from '@switchyard/kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { looksLikeKey } from './keys.ts';
import { findPrincipal, type Principal } from './repo/api-keys.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /**
     * 'public' routes need no key; 'operator' routes need a key of the platform
     * operator's tenant (any role: what they show spans tenants, and they only
     * read); otherwise the least role that may call the route.
     */
    access?: 'public' | 'operator' | Role;
  }
}

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };
const refusals = counter('switchyard.gateway', 'switchyard_auth_failures', 'Requests refused for their API key, by reason (missing, malformed, unknown_or_revoked)');

/**
 * Authenticates `Authorization: Bearer <key>` and enforces each route's
 * access: public, operator, or its least role. Each refused key is reported
 * (`report`: the monitor counts them per address and key prefix, for the
 * "repeated authentication failures" rule); never the key itself.
 */
export function registerAuth(app: FastifyInstance, pool: Pool, report: (f: AuthFailure) => void = () => {}): void {
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const access = req.routeOptions.config?.access;
    if (access === 'public') return;
    const header = req.headers.authorization;
    const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
    const refused = (reason: AuthFailure['reason'], keyPrefix: string | null) => {
      refusals().add(1, { reason });
      report({ address: req.ip.slice(0, 100), key_prefix: keyPrefix, reason, at: new Date().toISOString() });
    };
    if (!match) {
      refused('missing', null);
      throw new AppError('UNAUTHENTICATED', 'send an API key as "Authorization: Bearer <key>"');
    }
    const key = match[1]!;
    const principal = looksLikeKey(key) ? await findPrincipal(pool, key) : undefined;
    if (!principal) {
      // The prefix API keys are listed by (never more): enough to tell which key is being tried.
      refused(looksLikeKey(key) ? 'unknown_or_revoked' : 'malformed', looksLikeKey(key) ? key.slice(0, 10) : null);
      throw new AppError('UNAUTHENTICATED', 'API key is not valid or was revoked');
    }
    req.principal = principal;
    if (access === 'operator') {
      if (!principal.operator) throw new AppError('FORBIDDEN', 'this operation is for the platform operator');
      return;
    }
    // An unknown route (no access set) still needs a key, so route names do not leak to strangers.
    const needed = access ?? 'viewer';
    if (RANK[principal.role] < RANK[needed])
      throw new AppError('FORBIDDEN', `this operation needs the ${needed} role; the key has ${principal.role}`);
  });
}
