import { z } from 'zod';
import { text } from '../text.ts';

/** `?limit=&cursor=` of every list route (and of the requests behind them). */
export const CursorQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: text().max(200).optional(),
});
export type CursorQuery = z.infer<typeof CursorQuery>;

/** A page of items: `next_cursor` is null on the last page. */
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), next_cursor: text().nullable() });
