/**
 * `npm run -s compose-env > .env`: the secrets docker-compose.yml requires,
 * as `VAR=value` lines with fresh random values. Compose reads `.env` beside
 * docker-compose.yml by itself; it is git-ignored and kept out of the image.
 *
 * - POSTGRES_PASSWORD
 * - NATS_PW_<USER> for every NATS user of contracts/src/permissions.ts (the
 *   seven services, the operator, the provisioner), named as
 *   deploy/nats/auth.conf reads them
 * - CREDENTIALS_ROOT_KEY: base64 of 32 random bytes
 *
 * Generate it once and keep it: PostgreSQL sets its password only when its
 * volume is created, and data wrapped by one root key cannot be read with
 * another.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { natsUsers } from '@switchyard/contracts';
import { passwordVar } from '@switchyard/kit/local';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ALPHANUMERIC = `${LETTERS}0123456789`;

/**
 * 32 letters and digits (about 190 bits), starting with a letter. Letters and
 * digits only, because the value goes into a URL (DATABASE_URL) and into
 * nats-server's configuration, which parses an environment variable as a
 * value of its own syntax: an unquoted word that starts with a letter is a
 * string, where `12k…` could become a number and `#` would start a comment.
 */
export function password(length = 32): string {
  let out = LETTERS[randomInt(LETTERS.length)]!;
  while (out.length < length) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]!;
  return out;
}

/** The variables, in the order they are printed. */
export function composeEnv(): Record<string, string> {
  return {
    POSTGRES_PASSWORD: password(),
    ...Object.fromEntries(Object.keys(natsUsers()).map((user) => [passwordVar(user), password()])),
    CREDENTIALS_ROOT_KEY: randomBytes(32).toString('base64'),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const lines = Object.entries(composeEnv()).map(([name, value]) => `${name}=${value}`);
  console.log(
    [
      `# Secrets for docker-compose.yml, made by \`npm run -s compose-env\` on ${new Date().toISOString()}.`,
      '# Keep this file private and keep it: a new root key cannot read what the old one wrapped,',
      "# and PostgreSQL keeps the password it was first started with. Never commit it.",
      ...lines,
    ].join('\n'),
  );
}
