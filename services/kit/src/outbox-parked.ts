/**
 * The outbox's dead letters: rows that cannot be published for a reason that
 * does not pass by waiting are parked in `outbox_parked`, so the rows after
 * them flow. What counts as such a reason, and the SQL that parks, lists and
 * retries them.
 */
import type { MsgHdrs, NatsConnection, Status } from '@nats-io/nats-core';
import type { ParkedList, ParkedMessage, ParkedReason } from '@switchyard/contracts';
import type { Pool, PoolClient } from 'pg';
import { AppError } from './errors.ts';
import { decodeCursor, pageOf } from './pagination.ts';

export type { ParkedReason };

/** A publish refused before it left (the relay's own checks), with the reason it cannot pass. */
export class PublishRefused extends Error {
  override name = 'PublishRefused';
  constructor(
    readonly reason: ParkedReason,
    message: string,
    opts: { cause?: unknown } = {},
  ) {
    super(message, opts);
  }
}

const causes = function* (err: unknown) {
  for (let e = err, depth = 0; e && depth < 5; e = (e as Error).cause, depth++) yield e as Error;
};

/**
 * Why a failed publish can never pass, or undefined when it may (NATS away or
 * disconnected, a timeout, JetStream without a leader: order is kept and the
 * row is tried again).
 *
 * - too_large: nats.js refuses a message over the server's max_payload
 *   (InvalidArgumentError "max_payload size exceeded"), or a stream's
 *   max_msg_size refuses it (JetStream error 10054).
 * - forbidden: the server refused the publish (nats.js rejects the request
 *   with a PermissionViolationError as its cause); if the rejection is lost
 *   and the request times out instead, `forbiddenSince` says whether the
 *   connection reported a violation for this subject meanwhile.
 * - invalid: a subject NATS cannot carry (InvalidSubjectError), any other
 *   InvalidArgumentError (a header, say), and PublishRefused('invalid') for a
 *   payload that does not serialise.
 */
export function refusalReason(err: unknown, forbiddenSince: () => boolean): ParkedReason | undefined {
  for (const e of causes(err)) {
    if (e instanceof PublishRefused) return e.reason;
    if (e.name === 'PermissionViolationError') return 'forbidden';
    if (e.name === 'InvalidArgumentError') return /max_payload/i.test(e.message) ? 'too_large' : 'invalid';
    if (e.name === 'InvalidSubjectError') return 'invalid';
    if (e.name === 'JetStreamApiError' && ((e as Error & { code?: number }).code === 10054 || /message size exceeds/i.test(e.message)))
      return 'too_large';
  }
  const timedOut = [...causes(err)].some((e) => e.name === 'TimeoutError');
  return timedOut && forbiddenSince() ? 'forbidden' : undefined;
}

/**
 * Publish permission violations a connection reports, by subject: nats.js
 * rejects the refused request itself, but should that rejection be lost and
 * the request time out, this still tells a refusal from NATS being slow.
 */
export class PermissionWatch {
  private readonly refused = new Map<string, number>();
  private status?: AsyncIterable<Status>;

  start(nc: NatsConnection): void {
    const status = nc.status();
    this.status = status;
    void (async () => {
      for await (const s of status) {
        if (s.type !== 'error' || s.error.name !== 'PermissionViolationError') continue;
        const pe = s.error as Error & { operation?: string; subject?: string };
        if (pe.operation !== 'publish' || !pe.subject) continue;
        if (this.refused.size > 1_000) this.refused.clear();
        this.refused.set(pe.subject, Date.now());
      }
    })();
  }

  stop(): void {
    // nats.js's status iterator can be stopped, though its type does not say so.
    (this.status as { stop?(): void } | undefined)?.stop?.();
  }

  /** Whether the server refused a publish to `subject` at or after `since` (epoch ms). */
  refusedSince(subject: string, since: number): boolean {
    return (this.refused.get(subject) ?? Number.NEGATIVE_INFINITY) >= since;
  }
}

/**
 * A row's payload as the JSON to publish, refused (PublishRefused) when it
 * does not serialise or is larger, with its headers, than the server's
 * max_payload: checked here, not only by nats.js, because while disconnected
 * nats.js would queue it, and the server closes a connection that sends more
 * than max_payload.
 */
export function encodeForPublish(payload: unknown, headers: MsgHdrs, maxPayload: number): string {
  let data: string;
  try {
    data = JSON.stringify(payload);
  } catch (err) {
    throw new PublishRefused('invalid', 'the payload does not serialise as JSON', { cause: err });
  }
  // The headers count against max_payload too, as nats.js encodes them.
  const bytes = Buffer.byteLength(data) + ((headers as MsgHdrs & { encode?(): Uint8Array }).encode?.().length ?? 0);
  if (maxPayload && bytes > maxPayload)
    throw new PublishRefused('too_large', `the message is ${bytes} bytes with its headers, over the NATS server's max_payload of ${maxPayload}`);
  return data;
}

interface ParkedRow {
  id: string;
  subject: string;
  reason: ParkedReason;
  error: string;
  attempts: number;
  bytes: number;
  created_at: Date;
  parked_at: Date;
}

const COLUMNS = 'id, subject, reason, error, attempts, bytes, created_at, parked_at';

const toMessage = (r: ParkedRow): ParkedMessage => ({
  ...r,
  created_at: r.created_at.toISOString(),
  parked_at: r.parked_at.toISOString(),
});

/** Moves a row from the outbox to outbox_parked, in the relay's transaction (which holds the row). */
export async function parkRow(
  tx: PoolClient,
  row: { id: string; attempts: number },
  why: { reason: ParkedReason; error: string; bytes: number },
): Promise<void> {
  await tx.query(
    `WITH moved AS (DELETE FROM outbox WHERE id = $1 RETURNING id, subject, event, trace, created_at)
     INSERT INTO outbox_parked (id, subject, event, trace, created_at, attempts, reason, error, bytes)
     SELECT id, subject, event, trace, created_at, $2, $3, $4, $5 FROM moved
     ON CONFLICT (id) DO UPDATE SET subject = EXCLUDED.subject, event = EXCLUDED.event, trace = EXCLUDED.trace,
       attempts = EXCLUDED.attempts, reason = EXCLUDED.reason, error = EXCLUDED.error, bytes = EXCLUDED.bytes,
       parked_at = date_trunc('milliseconds', clock_timestamp())`,
    [row.id, row.attempts, why.reason, why.error.slice(0, 500), why.bytes],
  );
}

/** Parked rows, newest first (keyset pagination). */
export async function listParked(pool: Pool, page: { limit: number; cursor?: string }): Promise<ParkedList> {
  const after = page.cursor ? decodeCursor(page.cursor) : null;
  const { rows } = await pool.query<ParkedRow>(
    `SELECT ${COLUMNS} FROM outbox_parked
      WHERE ($1::timestamptz IS NULL OR (parked_at, id) < ($1::timestamptz, $2::uuid))
      ORDER BY parked_at DESC, id DESC LIMIT $3`,
    [after?.at ?? null, after?.id ?? null, page.limit + 1],
  );
  return pageOf(rows, page.limit, (r) => [r.parked_at, r.id], toMessage);
}

/**
 * Moves a parked row back to the end of the outbox (a new created_at: the
 * rows written after it have been published meanwhile). Its attempts are
 * kept; if it still cannot pass, the relay parks it again.
 */
export async function retryParked(pool: Pool, id: string): Promise<ParkedMessage> {
  const { rows } = await pool.query<ParkedRow>(
    `WITH moved AS (DELETE FROM outbox_parked WHERE id = $1 RETURNING *),
     requeued AS (
       INSERT INTO outbox (id, subject, event, trace, attempts, last_error)
       SELECT id, subject, event, trace, attempts, error FROM moved
       ON CONFLICT (id) DO UPDATE SET subject = EXCLUDED.subject, event = EXCLUDED.event, trace = EXCLUDED.trace,
         created_at = clock_timestamp(), published_at = NULL, permanent_failures = 0
     )
     SELECT ${COLUMNS} FROM moved`,
    [id],
  );
  const row = rows[0];
  if (!row) throw new AppError('NOT_FOUND', `no parked outbox row ${id}`);
  return toMessage(row);
}

export async function countParked(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox_parked');
  return rows[0]?.n ?? 0;
}
