import type { FastifyInstance } from 'fastify';

/**
 * Deeper than any body of this API (a catalog filter or a credential is a few
 * levels): JSON nested past it is refused with a 400 before anything walks it
 * recursively. JSON.parse copes with 100,000 levels; JSON.stringify of the
 * result (the Idempotency-Key fingerprint, a log line) overflows the stack.
 */
export const MAX_JSON_DEPTH = 64;

/** How deep the arrays and objects of a JSON text nest, brackets inside strings not counted; stops counting past `limit`. */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** Fastify's own JSON parser (prototype poisoning refused), behind the depth check. */
export function registerJsonBody(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (jsonDepth(body as string) > MAX_JSON_DEPTH)
      return done(Object.assign(new Error(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`), { statusCode: 400 }), undefined);
    parse(req, body as string, done);
  });
}
