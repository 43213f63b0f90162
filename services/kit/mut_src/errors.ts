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

/** Anything thrown that is not an AppError is a bug: hide its detail behind INTERNAL. */
export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  return new AppError('INTERNAL', 'internal error', { cause: err });
}
