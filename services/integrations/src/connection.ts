import { ConnectionFailure, testConnection } from '@switchyard/connectors';
import type { ConnectionTest, PostgresCredential } from '@switchyard/contracts';
import { AppError, type TargetPolicy } from '@switchyard/kit';

/** Tries a credential for real; a failure is a 400 that says why (never the password). */
/** How far a connection attempt may go: its time bound and which addresses it may reach. */
export interface ConnectLimits {
  timeoutMs: number;
  policy: TargetPolicy;
}

export async function verifyCredential(credential: PostgresCredential, limits: ConnectLimits): Promise<void> {
  const result = await tryConnection(credential, limits);
  if (!result.ok)
    throw new AppError('CONNECTION_FAILED', result.message, {
      details: { reason: result.reason },
      errors: [{ field: 'body.credential', message: result.message }],
    });
}

export async function tryConnection(credential: PostgresCredential, limits: ConnectLimits): Promise<ConnectionTest> {
  try {
    const r = await testConnection(credential, limits);
    return { ok: true, latency_ms: r.latency_ms, server_version: r.server_version };
  } catch (err) {
    if (err instanceof ConnectionFailure) return { ok: false, reason: err.reason, message: err.message };
    throw err;
  }
}
