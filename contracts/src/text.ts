import { z } from 'zod';

/**
 * The rule every string of the contracts carries: no NUL and no unpaired
 * surrogate. PostgreSQL's text cannot hold NUL, and its jsonb refuses both
 * (`\u0000`, a lone `\ud800`), so such a string used to travel as far as a
 * service's INSERT and come back as a 500. One check object, shared, so a test
 * can find it on every string schema (contracts/src/text.test.ts).
 */
export const wellFormed = z.refine<string>((s) => !s.includes('\0') && s.isWellFormed(), {
  message: 'must not contain NUL (U+0000) or unpaired surrogate characters',
});

/** A string of the contracts: write `text()` wherever `z.string()` would go. */
export const text = (): z.ZodString => z.string().check(wellFormed);
