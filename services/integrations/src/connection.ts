import { ConnectionFailure, testConnection } from '@switchyard/connectors';
import type { ConnectionTest, PostgresCredential } from '@switchyard/contracts';
import { AppError } from '@switchyard/kit';

/** Tries a credential for real; a failure is a 400 that says why (never the password). */
export async function verifyCredential(credential: PostgresCredential, timeoutMs: number): Promise<void> {
  const result = await tryConnection(credential, timeoutMs);
  if (!result.ok)
    throw new AppError('CONNECTION_FAILED', result.message, {
      details: { reason: result.reason },
      errors: [{ field: 'body.credential', message: result.message }],
    });
}

export async function tryConnection(credential: PostgresCredential, timeoutMs: number): Promise<ConnectionTest> {
  try {
    const r = await testConnection(credential, { timeoutMs });
    return { ok: true, latency_ms: r.latency_ms, server_version: r.server_version };
  } catch (err) {
    if (err instanceof ConnectionFailure) return { ok: false, reason: err.reason, message: err.message };
    throw err;
  }
}
