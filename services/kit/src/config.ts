import { z } from 'zod';
import { DEFAULT_MAX_MESSAGE_BYTES } from './bounds.ts';

/**
 * Strict booleans: only "true"/"1"/"false"/"0". z.coerce.boolean() would turn
 * the string "false" into true.
 */
export const envBool = z
  .enum(['true', 'false', '1', '0'], { message: 'must be one of true, false, 1, 0' })
  .transform((v) => v === 'true' || v === '1');

const port = z.coerce.number().int().min(0).max(65_535);
const ms = z.coerce.number().int().positive();

/**
 * Where PostgreSQL, Redis and NATS are when nothing says otherwise: the local
 * servers `npm start` uses (or starts). The services' defaults and the start
 * and test scripts read them from here.
 */
export const LOCAL_INFRA = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/switchyard',
  REDIS_URL: 'redis://127.0.0.1:6379',
  NATS_URL: 'nats://127.0.0.1:4222',
} as const;

/** Variables every service reads. `healthPort` differs per service so one machine can run all seven. */
export const baseConfig = (defaults: { healthPort: number }) =>
  z.object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // Local defaults match `npm start`'s own PostgreSQL/Redis/NATS, so nothing is needed on one machine.
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default(LOCAL_INFRA.DATABASE_URL),
    DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).default(LOCAL_INFRA.REDIS_URL),
    NATS_URL: z
      .string()
      .default(LOCAL_INFRA.NATS_URL)
      .refine((v) => v.split(',').every((u) => /^(nats|tls|wss?):\/\/[^\s]+$/.test(u.trim())), {
        message: 'must be a comma-separated list of nats:// (or tls://, ws://) URLs',
      }),
    NATS_USER: z.string().optional(),
    NATS_PASSWORD: z.string().optional(),
    // Production refuses plaintext to PostgreSQL, Redis or NATS on another host unless named here
    // (e.g. "postgres,redis,nats" on a single private Docker network). See productionProblems.
    ALLOW_INSECURE_TRANSPORT: z
      .string()
      .optional()
      .transform((v) => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean))
      .pipe(z.array(z.enum(['postgres', 'redis', 'nats'], { message: 'must list postgres, redis and/or nats' }))),
    HEALTH_HOST: z.string().default('0.0.0.0'),
    HEALTH_PORT: port.default(defaults.healthPort),
    INSTANCE_ID: z.string().min(1).optional(),
    // Kubernetes sends SIGKILL 30 s after SIGTERM by default; finishing in 10 s leaves headroom.
    SHUTDOWN_TIMEOUT_MS: ms.default(10_000),
    HEARTBEAT_INTERVAL_MS: ms.default(5_000),
    // The bound on one outbox message (event or job); see DEFAULT_MAX_MESSAGE_BYTES for why 128 KiB.
    // It must stay below the NATS server's max_payload (1 MiB by default), less room for headers.
    OUTBOX_MAX_MESSAGE_BYTES: z.coerce.number().int().min(4_096).max(64 * 1024 * 1024).default(DEFAULT_MAX_MESSAGE_BYTES),
    // Failed publishes of one outbox row, for a reason that cannot pass (too large, refused by
    // permissions, invalid), before it is parked so the rows after it can flow. More than one
    // rides out a permissions reload; each attempt waits out the relay's backoff (1, 2, 4 s …).
    OUTBOX_PARK_AFTER_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(3),
    // How long an Idempotency-Key and its answer are kept by the service that did the work; a day covers any client's retry schedule.
    IDEMPOTENCY_TTL_SECONDS: z.coerce.number().int().min(60).max(604_800).default(86_400),
    // Read by the OpenTelemetry SDK itself; checked here so a typo stops the process with the rest.
    OTEL_SDK_DISABLED: envBool.optional(),
    OTEL_SERVICE_NAME: z.string().min(1).optional(),
    OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
    OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/protobuf', 'http/json', 'grpc']).optional(),
    OTEL_TRACES_SAMPLER: z
      .enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'])
      .optional(),
  });
export type BaseConfig = z.infer<ReturnType<typeof baseConfig>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '']);
const hostOf = (url: string) => {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
};
/** Passwords that come with Switchyard's examples (compose, the Kubernetes Secret, the docs), or that anyone tries first. */
const DEVELOPMENT_PASSWORDS = /^(switchyard|postgres|password|secret|changeme|change_me|admin|.*-dev-password)$/i;
const passwordOf = (url: string) => {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return '';
  }
};

/**
 * What production refuses, as `VARIABLE: reason` lines: development defaults
 * (a known password, NATS without a user) and plaintext to PostgreSQL, Redis or
 * NATS on another host, unless ALLOW_INSECURE_TRANSPORT names it. Only the
 * variables a schema has are checked.
 */
export function productionProblems(c: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const allowed = new Set((c.ALLOW_INSECURE_TRANSPORT as string[] | undefined) ?? []);
  const plain = (name: string, dep: string, hint: string) =>
    problems.push(`${name}: connects to another host without TLS; ${hint}, or set ALLOW_INSECURE_TRANSPORT=${dep} to accept it`);
  if (typeof c.DATABASE_URL === 'string') {
    const url = new URL(c.DATABASE_URL);
    const sslmode = url.searchParams.get('sslmode');
    if (!LOCAL_HOSTS.has(url.hostname) && !['require', 'verify-ca', 'verify-full'].includes(sslmode ?? '') && !allowed.has('postgres'))
      plain('DATABASE_URL', 'postgres', 'add ?sslmode=verify-full');
    if (DEVELOPMENT_PASSWORDS.test(passwordOf(c.DATABASE_URL))) problems.push('DATABASE_URL: uses a development password');
  }
  if (typeof c.REDIS_URL === 'string') {
    if (c.REDIS_URL.startsWith('redis://') && !LOCAL_HOSTS.has(hostOf(c.REDIS_URL)) && !allowed.has('redis'))
      plain('REDIS_URL', 'redis', 'use rediss://');
    if (DEVELOPMENT_PASSWORDS.test(passwordOf(c.REDIS_URL))) problems.push('REDIS_URL: uses a development password');
  }
  if (typeof c.NATS_URL === 'string') {
    const remotePlain = c.NATS_URL.split(',').some((u) => /^(nats|ws):\/\//.test(u.trim()) && !LOCAL_HOSTS.has(hostOf(u.trim())));
    if (remotePlain && !allowed.has('nats')) plain('NATS_URL', 'nats', 'use tls:// (or wss://)');
    if (!c.NATS_USER) problems.push('NATS_USER: is required in production (each service has its own NATS user and permissions)');
    if (typeof c.NATS_PASSWORD === 'string' && DEVELOPMENT_PASSWORDS.test(c.NATS_PASSWORD)) problems.push('NATS_PASSWORD: is a development password');
  }
  return problems;
}

/** Parses the environment once; every bad or missing variable is named in one error. */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  // An empty variable means "not set" (compose files and shells often export VAR=).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (parsed.success) {
    const data = parsed.data as Record<string, unknown>;
    const problems = data.NODE_ENV === 'production' ? productionProblems(data) : [];
    if (problems.length) throw new ConfigError(problems);
    return parsed.data;
  }
  const problems = parsed.error.issues.map((i) => {
    const name = i.path.join('.') || '(environment)';
    const value = cleaned[String(i.path[0])];
    const missing = value === undefined;
    return missing ? `${name}: is required but not set` : `${name}: ${i.message}`;
  });
  throw new ConfigError(problems);
}

/** A connection URL (or comma-separated list) fit to print: any password becomes ***. */
export const redactUrl = (url: string): string => url.replace(/\/\/([^:@/,]+):[^@/,]+@/g, '//$1:***@');
