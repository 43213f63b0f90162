/**
 * How to open a connection for a credential: its sslmode, as libpq defines
 * it, under the transport policy of this Switchyard (the kit's
 * TransportPolicy). On a production Switchyard ('verified'):
 *
 * - no sslmode: verify-full.
 * - verify-full, verify-ca: as libpq (the certificate is checked).
 * - require: TLS without checking the certificate, and the password goes
 *   only into SCRAM with channel binding (SCRAM-SHA-256-PLUS): the server then
 *   proves it holds the password's verifier for this very TLS session, so a
 *   machine in the middle can neither relay the login nor collect the
 *   password (cleartext) or a replayable hash (md5). A server that asks any
 *   other way gets nothing: TLS_UNVERIFIED.
 * - prefer, allow: as require. Neither falls back to (nor starts with)
 *   plaintext: a server without TLS is TLS_UNAVAILABLE.
 * - disable: refused before connecting, TLS_REQUIRED.
 *
 * With CONNECTOR_ALLOW_INSECURE_TLS ('as-asked') a named mode is libpq's own
 * and no sslmode is still verify-full; outside production ('lenient') it is
 * libpq throughout, prefer by default.
 */
import type { ConnectionFailureReason, PostgresCredential, SslMode } from '@switchyard/contracts';
import type { TransportPolicy } from '@switchyard/kit';
import type { Client, ClientConfig } from 'pg';
import { ConnectionFailure, type Target } from './errors.ts';

export const APPLICATION_NAME = 'switchyard';

/**
 * libpq's `prefer` and `allow` try one way and, when the server answers in a
 * particular way, the other: that is `fallback`. `channelBinding`: the TLS
 * does not check the server, so the password goes only into SCRAM with
 * channel binding (see guardPassword).
 */
export interface ConnectPlan {
  config: ClientConfig;
  fallback: { when: ConnectionFailureReason; config: ClientConfig } | null;
  channelBinding: boolean;
}

/** TLS that encrypts but does not check who answers: libpq's `require` (and what prefer/allow try). */
const TLS_UNVERIFIED = { rejectUnauthorized: false } as const;

/** The sslmode a credential gets: its own, else libpq's prefer, or verify-full on a production Switchyard. */
export const sslmodeOf = (cred: PostgresCredential, transport: TransportPolicy = 'lenient'): SslMode =>
  cred.sslmode ?? (transport === 'lenient' ? 'prefer' : 'verify-full');

/** `queryTimeoutMs` (default `timeoutMs`) bounds each query on the client side. Throws TLS_REQUIRED for a mode the transport policy refuses. */
export function connectOptions(
  cred: PostgresCredential,
  timeoutMs: number,
  queryTimeoutMs = timeoutMs,
  transport: TransportPolicy = 'lenient',
): ConnectPlan {
  const base: ClientConfig = {
    host: cred.host,
    port: cred.port,
    user: cred.username,
    password: cred.password,
    database: cred.database_name,
    application_name: APPLICATION_NAME,
    connectionTimeoutMillis: timeoutMs,
    // Client-side bound on each query, a little past the server-side
    // statement_timeout discovery sets, so the server's own cancel (a clean
    // 57014) normally wins and this only catches a server that stopped answering.
    // statement_timeout itself is set with SET LOCAL inside the transaction, not
    // as a startup parameter: PgBouncer and similar poolers refuse unknown
    // startup parameters and a customer's database is often behind one.
    query_timeout: queryTimeoutMs + 1_000,
    keepAlive: true,
  };
  const plain = { ...base, ssl: false };
  const unverified = { ...base, ssl: { ...TLS_UNVERIFIED } };
  const mode = sslmodeOf(cred, transport);
  if (transport === 'verified') {
    if (mode === 'disable') {
      throw new ConnectionFailure(
        'TLS_REQUIRED',
        `sslmode=disable would send the password to ${cred.host}:${cred.port} in plaintext; this Switchyard connects only over TLS (use sslmode=verify-full, or require with a server that offers SCRAM channel binding)`,
        { retryable: false },
      );
    }
    if (mode === 'allow' || mode === 'prefer' || mode === 'require') return { config: unverified, fallback: null, channelBinding: true };
  }
  switch (mode) {
    case 'disable':
      return { config: plain, fallback: null, channelBinding: false };
    case 'allow':
      return { config: plain, fallback: { when: 'TLS_REQUIRED', config: unverified }, channelBinding: false };
    case 'prefer':
      return { config: unverified, fallback: { when: 'TLS_UNAVAILABLE', config: plain }, channelBinding: false };
    case 'require':
      return { config: unverified, fallback: null, channelBinding: false };
    case 'verify-ca':
      // The chain must lead to a trusted authority, but the name on the certificate is not checked.
      return { config: { ...base, ssl: { rejectUnauthorized: true, checkServerIdentity: () => undefined } }, fallback: null, channelBinding: false };
    case 'verify-full':
      return { config: { ...base, ssl: { rejectUnauthorized: true } }, fallback: null, channelBinding: false };
  }
}

/**
 * A config whose password is handed over only inside SCRAM-SHA-256-PLUS (see
 * ConnectPlan.channelBinding); `watch` must see the client before it connects.
 * pg asks for the password when the server asks for it, before sending
 * anything derived from it: cleartext, md5 and SCRAM without channel binding
 * are refused there.
 */
export function guardPassword(config: ClientConfig, target: Target): { config: ClientConfig; watch: (client: Client) => void } {
  const password = config.password;
  let offered: readonly string[] = [];
  return {
    config: {
      ...config,
      enableChannelBinding: true,
      password: () => {
        if (offered.includes('SCRAM-SHA-256-PLUS') && typeof password === 'string') return password;
        throw new ConnectionFailure(
          'TLS_UNVERIFIED',
          `the server at ${target.host}:${target.port} asked for the password over TLS whose certificate was not verified (sslmode=${target.sslmode}) without SCRAM channel binding; this Switchyard sends a password only to a verified server: use sslmode=verify-full, or a server with scram-sha-256 authentication over TLS (PostgreSQL 11 or later)`,
          { retryable: false },
        );
      },
    },
    watch: (client) => {
      // Before pg's own listener, which asks for the password.
      client.connection.prependListener('authenticationSASL', (msg: { mechanisms?: string[] }) => {
        offered = msg.mechanisms ?? [];
      });
    },
  };
}
