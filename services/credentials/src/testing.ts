/**
 * Test support for the credentials service: a private nats-server (so this
 * service's queue group meets no other) and replicas built the way
 * serviceMain builds them, on a schema of the test's choosing.
 */
import { fileURLToPath } from 'node:url';
import { createLogger, Runtime, type Logger } from '@switchyard/kit';
import { dropSchema, startNatsServer, testConfig, testLogger, uniqueName, type NatsServer } from '@switchyard/kit/testing';
import { buildApp, type CredentialsApp } from './app.ts';
import { Config } from './config.ts';

const MIGRATIONS = fileURLToPath(new URL('../migrations', import.meta.url));

export interface Replica {
  rt: Runtime;
  app: CredentialsApp;
  config: Config;
}

export class Harness {
  private readonly replicas = new Set<Replica>();
  private readonly schemas = new Set<string>();

  private constructor(
    readonly natsUrl: string,
    private readonly nats: NatsServer,
  ) {}

  static async start(): Promise<Harness> {
    const nats = await startNatsServer();
    return new Harness(nats.url, nats);
  }

  schema(): string {
    const s = uniqueName('credentials_test');
    this.schemas.add(s);
    return s;
  }

  /**
   * Starts a replica on `schema`. CREDENTIALS_ROOT_KEY* are unset unless given,
   * whatever the environment running the tests says.
   */
  async replica(schema: string, env: Record<string, string> = {}, log: Logger = testLogger('credentials')): Promise<Replica> {
    const config = testConfig(
      { NATS_URL: this.natsUrl, CREDENTIALS_ROOT_KEY: '', CREDENTIALS_ROOT_KEY_PREVIOUS: '', ...env },
      Config,
    );
    const rt = await Runtime.create({
      service: 'credentials',
      version: 'test',
      instanceId: uniqueName('credentials'),
      config,
      log,
      schema,
      migrationsDir: MIGRATIONS,
    });
    let app: CredentialsApp;
    try {
      app = await buildApp(rt, config);
    } catch (err) {
      await rt.stop('build failed');
      throw err;
    }
    await rt.markReady();
    const replica = { rt, app, config };
    this.replicas.add(replica);
    return replica;
  }

  async stopReplica(r: Replica): Promise<void> {
    this.replicas.delete(r);
    await r.rt.stop('test');
  }

  /** Stops every replica: they share one queue group, so a test's replicas must not answer the next test. */
  async stopReplicas(): Promise<void> {
    await Promise.all([...this.replicas].map((r) => this.stopReplica(r)));
  }

  async stop(): Promise<void> {
    await this.stopReplicas();
    await this.nats.dispose();
    const databaseUrl = testConfig().DATABASE_URL;
    for (const s of this.schemas) await dropSchema(databaseUrl, s);
  }
}

/** A logger that keeps every line it writes, to check what reached the logs. */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({
    service: 'credentials',
    instanceId: 'credentials-test',
    level: 'debug',
    destination: { write: (line: string) => void lines.push(line) },
  });
  return { log, lines };
}

/** The base64 form of a 32-byte root key, as CREDENTIALS_ROOT_KEY takes it. */
export const rootKeyEnv = (key: Buffer) => key.toString('base64');
