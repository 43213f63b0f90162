import type { ErrorCode, FieldError, Problem } from '@switchyard/contracts';
import { isAppError, isUnavailable } from '@switchyard/kit';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';

/** The one place an error code becomes an HTTP status. */
export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  CONNECTION_FAILED: 400,
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNPROCESSABLE: 422,
  RATE_LIMITED: 429,
  // The request is valid but its answer is too large to carry: the client asks for less (a
  // smaller limit, a narrower filter). Not 413 (that is about the request's own body) and not
  // 5xx (retrying the same request fails the same way); the detail says what to do.
  RESPONSE_TOO_LARGE: 422,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const typeFor = (code: string) => `urn:switchyard:problem:${code.toLowerCase().replace(/_/g, '-')}`;

export function problem(status: number, code: string, detail?: string, errors?: FieldError[], reason?: string): Problem {
  return {
    type: typeFor(code),
    title: TITLES[status] ?? 'Error',
    status,
    code,
    ...(detail ? { detail } : {}),
    ...(reason ? { reason } : {}),
    ...(errors?.length ? { errors } : {}),
  };
}

// Fastify's validation contexts, named as the rest of the API names them (`query.cursor`, `header.idempotency-key`).
const PART: Record<string, string> = { querystring: 'query', params: 'path', headers: 'header' };

/** `/credential/port` in the body → `body.credential.port`; `/id` of the path → `path.id`. */
const fieldOf = (context: string | undefined, instancePath: string) =>
  [PART[context ?? 'body'] ?? context ?? 'body', ...instancePath.split('/').filter(Boolean)].join('.');

export function toProblem(err: FastifyError | Error): Problem {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const context = (err as FastifyError).validationContext;
    const errors = err.validation.flatMap((v) => {
      // An unknown key is an error of that key, not of its parent object.
      const keys = v.keyword === 'unrecognized_keys' ? (v.params as { keys?: string[] }).keys : undefined;
      if (keys?.length)
        return keys.map((k) => ({ field: fieldOf(context, `${v.instancePath}/${k}`), message: 'is not a known field' }));
      return [{ field: fieldOf(context, v.instancePath), message: v.message ?? 'is invalid' }];
    });
    return problem(400, 'VALIDATION_FAILED', `${errors.length} field(s) failed validation`, errors);
  }
  if (isAppError(err)) {
    const status = STATUS_BY_CODE[err.code];
    // 5xx detail stays in the logs.
    const reason = typeof err.details?.reason === 'string' ? err.details.reason : undefined;
    return problem(status, err.code, status >= 500 && err.code === 'INTERNAL' ? undefined : err.message, err.errors, reason);
  }
  if (isResponseSerializationError(err)) return problem(500, 'INTERNAL');
  // The gateway's own PostgreSQL (API keys) or Redis away: an outage, not a bug.
  if (isUnavailable(err)) return problem(503, 'UNAVAILABLE', 'a dependency of the API is unavailable; retry shortly');
  const status = (err as FastifyError).statusCode;
  if (status && status >= 400 && status < 500) {
    // Fastify's own client errors (malformed JSON, wrong content type, body too large) say what is wrong.
    const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 414 ? 'URI_TOO_LONG' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'BAD_REQUEST';
    return problem(status, code, err.message);
  }
  return problem(500, 'INTERNAL');
}

/** Seconds a client should wait before retrying a 503 (an outage is usually short; the services reconnect by themselves). */
const RETRY_AFTER_UNAVAILABLE_S = 2;

export function sendProblem(req: FastifyRequest, reply: FastifyReply, p: Problem, retryAfterSeconds?: number) {
  if (p.status === 401) reply.header('www-authenticate', 'Bearer realm="switchyard"');
  const retryAfter = retryAfterSeconds ?? (p.status === 503 ? RETRY_AFTER_UNAVAILABLE_S : undefined);
  if (retryAfter !== undefined && (p.status === 503 || p.status === 429 || p.status === 409)) reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfter))));
  return reply
    .status(p.status)
    .type('application/problem+json')
    .send({ ...p, instance: req.url });
}

/** A Retry-After the error asks for (e.g. a busy tenant's connection-test slots), in seconds. */
export function retryAfterOf(err: unknown): number | undefined {
  const v = isAppError(err) ? err.details?.retry_after_seconds : undefined;
  return typeof v === 'number' && v > 0 ? v : undefined;
}
