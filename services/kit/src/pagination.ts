import { AppError } from './errors.ts';

/**
 * Keyset pagination cursors: opaque to clients, (created_at, id) inside, so a
 * page never skips or repeats a row when rows are added meanwhile.
 */
export const encodeCursor = (at: Date, id: string): string =>
  Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');

export function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && !Number.isNaN(Date.parse(v[0])) && /^[0-9a-f-]{36}$/.test(v[1]))
      return { at: v[0], id: v[1] };
  } catch {
    // fall through
  }
  throw new AppError('VALIDATION_FAILED', 'cursor is not one this API returned', {
    errors: [{ field: 'query.cursor', message: 'not a valid cursor' }],
  });
}
