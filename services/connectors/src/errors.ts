import type { ConnectionFailureReason } from '@switchyard/contracts';
import { TargetError } from '@switchyard/kit';

/** Where the failure happened: while connecting, or on an open session (a query). */
export type Phase = 'connect' | 'session';

/** What a message may name: the target, never the secret. */
export interface Target {
  host: string;
  port: number;
  username: string;
  database_name: string;
  /** Only used to make sure it never appears in a message. */
  password?: string;
  sslmode?: string;
}

const RETRYABLE: ReadonlySet<ConnectionFailureReason> = new Set(['CONNECTION_REFUSED', 'TIMEOUT', 'CONNECTION_LOST', 'UNKNOWN']);

/**
 * Why a customer's database could not be reached or read. The message is safe
 * to show the customer: it names the host, user and database they gave us, never
 * the password and never a stack. The original error is not kept as `cause`
 * (a logger would print it); its SQLSTATE or system error code is in `code`.
 */
export class ConnectionFailure extends Error {
  override name = 'ConnectionFailure';
  readonly reason: ConnectionFailureReason;
  readonly retryable: boolean;
  /** SQLSTATE or Node system error code of the underlying error, when there was one. */
  readonly code: string | undefined;

  constructor(reason: ConnectionFailureReason, message: string, opts: { code?: string; retryable?: boolean } = {}) {
    super(message);
    this.reason = reason;
    this.retryable = opts.retryable ?? RETRYABLE.has(reason);
    this.code = opts.code;
  }
}


interface ErrorLike {
  message?: unknown;
  code?: unknown;
}

/** "5 s", "0.5 s": how a customer reads a timeout. */
export const seconds = (ms: number) => `${Number((ms / 1000).toFixed(3))} s`;

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_|ERR_SSL_|EPROTO/;

/**
 * Removes the password from a message. Server messages are passed on for
 * reasons we cannot word ourselves; a misconfigured or hostile server could echo
 * anything back, so every message goes through here. Passwords under 4
 * characters are not searched for: they would match ordinary words.
 */
export function redact(message: string, password: string | undefined): string {
  const oneLine = message.split('\n')[0]!.slice(0, 500);
  if (!password || password.length < 4) return oneLine;
  return oneLine.split(password).join('[redacted]');
}

/** Turns a pg or Node error into a ConnectionFailure a customer can act on. */
export function classify(err: unknown, target: Target, phase: Phase = 'connect', timeoutMs?: number): ConnectionFailure {
  if (err instanceof ConnectionFailure) return err;
  if (err instanceof TargetError) return new ConnectionFailure(err.reason, redact(err.message, target.password), { retryable: err.retryable });
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as ErrorLike;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const raw = typeof e.message === 'string' ? e.message : String(err);
  const where = `${target.host}:${target.port}`;
  const fail = (reason: ConnectionFailureReason, message: string, retryable?: boolean) =>
    new ConnectionFailure(reason, redact(message, target.password), { code, retryable });

  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return fail('HOST_NOT_FOUND', `could not resolve host name "${target.host}"`);
    case 'ECONNREFUSED':
      return fail('CONNECTION_REFUSED', `could not connect to ${where}: connection refused`);
    case 'ETIMEDOUT':
      return fail('TIMEOUT', `no answer from ${where}${timeoutMs ? ` within ${seconds(timeoutMs)}` : ''}`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return fail('CONNECTION_REFUSED', `could not connect to ${where}: host unreachable`);
    case '28P01':
      return fail('AUTHENTICATION_FAILED', `password authentication failed for user "${target.username}"`);
    case '28000':
      // pg_hba.conf has an entry for this client over TLS only (PostgreSQL < 14 words it "SSL off").
      if (/no encryption|SSL off/i.test(raw)) {
        return fail('TLS_REQUIRED', `the server at ${where} only accepts TLS connections; use sslmode=require or stricter`);
      }
      // "role is not permitted to log in", "role does not exist", "no pg_hba.conf entry ...".
      return fail('AUTHENTICATION_FAILED', `the server at ${where} refused user "${target.username}": ${raw}`);
    case '3D000':
      return fail('DATABASE_NOT_FOUND', `database "${target.database_name}" does not exist on ${where}`);
    case '42501':
      return fail('PERMISSION_DENIED', `permission denied for user "${target.username}": ${raw}`);
    case '57P01':
    case '57P02':
    case 'ECONNRESET':
    case 'EPIPE':
      return fail('CONNECTION_LOST', `the connection to ${where} was closed by the server`);
    case '57014':
      return fail('TIMEOUT', `a query on ${where} took longer than ${timeoutMs ? seconds(timeoutMs) : 'its time limit'}`);
  }
  if (/does not support SSL/i.test(raw)) {
    return fail('TLS_UNAVAILABLE', `the server at ${where} does not accept TLS connections (sslmode=${target.sslmode ?? 'prefer'})`);
  }
  if ((code && TLS_CODES.test(code)) || /error establishing an SSL connection|certificate|wrong version number|handshake/i.test(raw)) {
    return fail('TLS_FAILED', `TLS with ${where} failed: ${tlsProblem(code, raw)}`);
  }
  if (/timeout expired|Query read timeout|connection timeout/i.test(raw)) {
    const what = phase === 'connect' ? 'no answer from' : 'a query got no answer from';
    return fail('TIMEOUT', `${what} ${where}${timeoutMs ? ` within ${seconds(timeoutMs)}` : ''}`);
  }
  if (/Connection terminated|not queryable|socket hang up|ended by the other party/i.test(raw)) {
    const when = phase === 'connect' ? 'while connecting' : 'during the session';
    return fail('CONNECTION_LOST', `the connection to ${where} was closed ${when}`);
  }
  // A server message (with its SQLSTATE) is more useful than a generic one; it never carries a stack.
  return fail('UNKNOWN', code && /^[0-9A-Z]{5}$/.test(code) ? `${raw} (SQLSTATE ${code})` : `could not talk to ${where}: ${raw}`);
}

function tlsProblem(code: string | undefined, raw: string): string {
  switch (code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return 'the server certificate is self-signed';
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return 'the server certificate is not signed by a trusted authority';
    case 'CERT_HAS_EXPIRED':
      return 'the server certificate has expired';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return 'the server certificate does not name this host';
  }
  return raw;
}
