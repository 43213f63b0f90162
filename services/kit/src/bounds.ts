/**
 * Byte bounds on what crosses NATS. A message over the server's max_payload
 * is refused by the client before it leaves, forever: an outbox row that big
 * would hold up every row after it, and a reply that big would leave its
 * caller waiting for a timeout. So messages are bounded where they are
 * written, and large data travels as a summary plus a reference.
 */
import { AppError } from './errors.ts';

/**
 * The default bound on one outbox message (an event or a job), in bytes.
 * 128 KiB: twice what the largest event or job a valid request can make today
 * (an integration event or sync job naming 1,000 schemas of 63 bytes, ~67 KB),
 * and a fraction of NATS's default max_payload (1 MiB), which leaves room for
 * headers (trace context, Nats-Msg-Id) and for servers configured lower.
 * Every event may also be delivered to each webhook endpoint of its tenant:
 * receivers, JetStream storage and redeliveries all pay for its size.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 128 * 1024;

let maxMessage = DEFAULT_MAX_MESSAGE_BYTES;

/**
 * Sets the process's bound on outbox messages (OUTBOX_MAX_MESSAGE_BYTES; the
 * runtime calls it at start). A process-wide setting, like a log level, so
 * that every writer (any handler, any job) enforces the same bound without
 * being handed it.
 */
export function setMaxMessageBytes(bytes: number): void {
  if (!Number.isInteger(bytes) || bytes < 1) throw new RangeError(`max message bytes must be a positive integer, not ${bytes}`);
  maxMessage = bytes;
}

/** The bound writeMessage and writeEvent enforce. */
export const maxMessageBytes = (): number => maxMessage;

/** The size of a value as JSON text, in UTF-8 bytes. */
export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? '');

/**
 * How many leading items fit in `budget` bytes as elements of a JSON array
 * (with the commas between them). Each item is serialised once.
 */
export function fitting(items: readonly unknown[], budget: number): number {
  let used = 0;
  for (let i = 0; i < items.length; i++) {
    used += jsonBytes(items[i]) + (i > 0 ? 1 : 0);
    if (used > budget) return i;
  }
  return items.length;
}

/**
 * A message refused where it was written: it is larger than the bound. A bug
 * of the writer (it should have sent a summary and a reference), so INTERNAL
 * and never retried: the same message would be refused again.
 */
export class MessageTooLargeError extends AppError {
  override name = 'MessageTooLargeError';

  constructor(
    readonly subject: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super('INTERNAL', `a message to ${subject} is ${bytes} bytes, over the bound of ${limit} (OUTBOX_MAX_MESSAGE_BYTES): send a summary and a reference instead`, {
      retryable: false,
    });
  }
}
