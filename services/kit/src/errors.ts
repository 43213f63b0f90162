import type { ErrorBody, ErrorCode, FieldError } from '@switchyard/contracts';

const RETRYABLE: ReadonlySet<ErrorCode> = new Set(['TIMEOUT', 'UNAVAILABLE']);

/** The one error type that crosses boundaries: a code, a safe message, optional field errors. */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details?: Record<string, unknown>;
  readonly errors?: FieldError[];

  constructor(
    code: ErrorCode,
    message: string,
    opts: { details?: Record<string, unknown>; errors?: FieldError[]; cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, { cause: opts.cause });
    this.code = code;
    this.retryable = opts.retryable ?? RETRYABLE.has(code);
    this.details = opts.details;
    this.errors = opts.errors;
  }

  toBody(): ErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }

  static fromBody(body: ErrorBody): AppError {
    return new AppError(body.code, body.message, { details: body.details, errors: body.errors });
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** Turns a zod error into field errors with dotted paths. */
export function fieldErrors(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>, prefix = ''): FieldError[] {
  return issues.map((i) => ({
    field: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(root)',
    message: i.message,
  }));
}

// PostgreSQL SQLSTATEs of a server that is going away or not there yet: 08 connection exceptions,
// 57P01-57P03 admin/crash shutdown and "cannot connect now", 53300 too many connections.
const PG_UNAVAILABLE = /^(08...|57P0[123]|53300)$/;
const NET_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const PG_DRIVER_UNAVAILABLE = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is closed|Stream isn't writeable|Reached the max retries per request/i;

/**
 * Says whether an error means a dependency (PostgreSQL, Redis) is away rather
 * than a bug: such a request may succeed later, so it is a 503 with
 * Retry-After, never a 500.
 */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown[] } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && (PG_UNAVAILABLE.test(e.code) || NET_UNAVAILABLE.has(e.code))) return true;
  if (typeof e.message === 'string' && PG_DRIVER_UNAVAILABLE.test(e.message)) return true;
  // An AggregateError (one per address tried) from net.connect.
  return Array.isArray(e.errors) && e.errors.some(isUnavailable);
}

/** Anything thrown that is not an AppError is a bug, hidden behind INTERNAL; a dependency that is away is UNAVAILABLE. */
export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  if (isUnavailable(err)) return new AppError('UNAVAILABLE', 'a dependency of this service is unavailable; retry shortly', { cause: err });
  return new AppError('INTERNAL', 'internal error', { cause: err });
}
