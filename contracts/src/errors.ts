import { z } from 'zod';
import { text } from './text.ts';

/**
 * Every failure that crosses a service boundary carries one of these codes.
 * The gateway maps them to HTTP statuses in exactly one place.
 */
export const ErrorCode = z.enum([
  'BAD_REQUEST',
  'CONNECTION_FAILED',
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'UNPROCESSABLE',
  'RATE_LIMITED',
  /** An answer larger than one NATS reply may carry: ask for less (a smaller page, a narrower filter). */
  'RESPONSE_TOO_LARGE',
  'TIMEOUT',
  'UNAVAILABLE',
  'INTERNAL',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const FieldError = z.object({
  field: text().describe('JSON pointer-ish path of the offending field, e.g. "credential.port"'),
  message: text(),
});
export type FieldError = z.infer<typeof FieldError>;

export const ErrorBody = z.object({
  code: ErrorCode,
  message: text(),
  details: z.record(text(), z.unknown()).optional(),
  errors: z.array(FieldError).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** About an answer rather than in it: `replayed` when it is the stored answer of an earlier request with the same Idempotency-Key. */
export const ReplyMeta = z.object({ replayed: z.boolean().optional() });
export type ReplyMeta = z.infer<typeof ReplyMeta>;

/** Reply envelope of every request/reply exchange. */
export const replyEnvelope = <T extends z.ZodType>(data: T) =>
  z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), data, meta: ReplyMeta.optional() }),
    z.object({ ok: z.literal(false), error: ErrorBody }),
  ]);
export const AnyReply = replyEnvelope(z.unknown());
export type AnyReply = z.infer<typeof AnyReply>;
