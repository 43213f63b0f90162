import { AppError } from '@switchyard/kit';

/**
 * The answer when even one item does not fit in a response (RESPONSE_TOO_LARGE,
 * 422 at the gateway): names the item, its size and what the caller can do.
 */
export const tooLarge = (what: string, bytes: number, room: number, remedy: string): AppError =>
  new AppError('RESPONSE_TOO_LARGE', `${what} is ${bytes} bytes as JSON, more than one response may carry (${room}): ${remedy}`, {
    details: { bytes, max_bytes: room },
  });
