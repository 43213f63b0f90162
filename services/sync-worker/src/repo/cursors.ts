/**
 * Page cursors of the schema routes: opaque to clients (base64url JSON),
 * checked on the way in so nothing odd reaches SQL.
 */
import { AppError } from '@switchyard/kit';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const invalid = () =>
  new AppError('VALIDATION_FAILED', 'cursor is not one this API returned', {
    errors: [{ field: 'query.cursor', message: 'not a valid cursor' }],
  });

const encode = (v: unknown[]) => Buffer.from(JSON.stringify(v)).toString('base64url');

function decode(cursor: string): unknown[] {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v)) return v;
  } catch {
    // fall through
  }
  throw invalid();
}

/** The last relation of a page, and the snapshot the pages keep to. */
export interface RelationKey {
  syncId: string;
  schema: string;
  name: string;
}

export const encodeRelationCursor = (k: RelationKey): string => encode(['r', k.syncId, k.schema, k.name]);

export function decodeRelationCursor(cursor: string): RelationKey {
  const [tag, syncId, schema, name, ...rest] = decode(cursor);
  if (tag !== 'r' || rest.length || typeof syncId !== 'string' || !UUID.test(syncId) || typeof schema !== 'string' || typeof name !== 'string')
    throw invalid();
  return { syncId, schema, name };
}

/** How many items of a fixed list (a change set) earlier pages held. */
export const encodeOffsetCursor = (offset: number): string => encode(['o', offset]);

export function decodeOffsetCursor(cursor: string): number {
  const [tag, offset, ...rest] = decode(cursor);
  if (tag !== 'o' || rest.length || typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset > 1e9) throw invalid();
  return offset;
}
