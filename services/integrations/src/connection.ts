import { ConnectionFailure, testConnection } from '@switchyard/connectors';
import type { ConnectionTest, PostgresCredential } from '@switchyard/contracts';
import { AppError, type TargetPolicy } from '@switchyard/kit';
import type { TenantSlots } from './tenant-slots.ts';

/** How far a connection attempt may go: its time bound, which addresses it may reach, how many a tenant may run at once. */
export interface ConnectLimits {
  timeoutMs: number;
  policy: TargetPolicy;
  perTenant: TenantSlots;
}

/** Tries a credential for real; a failure is a 400 that says why (never the password). */
export async function verifyCredential(tenantId: string, credential: PostgresCredential, limits: ConnectLimits): Promise<void> {
  const result = await tryConnection(tenantId, credential, limits);
  if (!result.ok)
    throw new AppError('CONNECTION_FAILED', result.message, {
      details: { reason: result.reason },
      errors: [{ field: 'body.credential', message: result.message }],
    });
}

/** Tries a credential in one of the tenant's slots (RATE_LIMITED when they are all taken); a failure to connect is an answer. */
export async function tryConnection(tenantId: string, credential: PostgresCredential, limits: ConnectLimits): Promise<ConnectionTest> {
  return limits.perTenant.run(tenantId, () => attempt(credential, limits));
}

async function attempt(credential: PostgresCredential, { timeoutMs, policy }: ConnectLimits): Promise<ConnectionTest> {
  try {
    const r = await testConnection(credential, { timeoutMs, policy });
    return { ok: true, latency_ms: r.latency_ms, server_version: r.server_version };
  } catch (err) {
    if (err instanceof ConnectionFailure) return { ok: false, reason: err.reason, message: err.message };
    throw err;
  }
}
