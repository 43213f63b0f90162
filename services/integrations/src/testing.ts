/**
 * Test support for the integrations service: the service built as serviceMain
 * builds it, on a private nats-server and a schema of its own, beside the real
 * credentials service (its Harness) and the sync-worker's real request
 * handlers; a caller that asks it as the gateway does; taps that record what
 * it sends to the other services; its outbox, and the EVENTS stream the relay
 * publishes to.
 */
import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { createDatabase, type TestDatabase } from '@switchyard/connectors/testing';
import { eventSchema, streams, syncRequests, type CloudEvent, type ErrorCode, type EventSubject, type RequestRoute } from '@switchyard/contracts';
import { AppError, connectNats, provisionAll, ProvisionSettings, RpcClient, Runtime } from '@switchyard/kit';
import { dropSchema, testConfig, testLogger, uniqueName } from '@switchyard/kit/testing';
import type { z } from 'zod';
import { Harness as CredentialsHarness, type Replica } from '../../credentials/src/testing.ts';
import { definition as syncWorker, handlers as syncWorkerHandlers } from '../../sync-worker/src/app.ts';
import { Config as SyncWorkerConfig } from '../../sync-worker/src/config.ts';
import { buildApp, definition } from './app.ts';
import { Config } from './config.ts';

const dec = new TextDecoder();

/** The requests a tap has seen on a route, as their receiver parsed them. */
export type Tapped<R extends RequestRoute> = z.output<R['request']>[];

export class Harness {
  /** Asks the integrations service through NATS, as the gateway does (its own connection: it outlives any service). */
  caller!: RpcClient;
  /** A throwaway database on the local PostgreSQL (trust auth: any password connects). */
  customer!: TestDatabase;
  integrations!: Runtime;
  credentials!: Replica;
  syncWorker?: Runtime;
  private nc!: NatsConnection;
  private readonly schemas: string[] = [];
  private readonly taps: Subscription[] = [];
  private readonly credentialsSchema: string;

  private constructor(private readonly creds: CredentialsHarness) {
    this.credentialsSchema = creds.schema();
  }

  static async start(): Promise<Harness> {
    const h = new Harness(await CredentialsHarness.start());
    try {
      await h.init();
    } catch (err) {
      await h.stop();
      throw err;
    }
    return h;
  }

  private async init() {
    this.nc = await connectNats({ servers: this.creds.natsUrl, name: uniqueName('integrations-test-caller'), log: testLogger('caller') });
    // The provisioning step (this private server has no users: the caller may provision).
    await provisionAll(this.nc, ProvisionSettings.parse({}));
    this.caller = new RpcClient(this.nc);
    this.customer = await createDatabase('integrations_customer');
    await this.startCredentials();
    await this.startSyncWorker();
    this.integrations = await this.runtime('integrations', definition.migrationsDir, async (rt) => {
      await buildApp(rt, testConfig({ NATS_URL: this.creds.natsUrl }, Config));
    });
  }

  /**
   * Starts a credentials replica on this harness's credentials schema (again, after stopCredentials).
   * Each start ends with a flush: a replica is ready once its subscriptions are sent, but the caller asks on
   * another connection, which could reach the server first and find no responders.
   */
  async startCredentials(): Promise<void> {
    this.credentials = await this.creds.replica(this.credentialsSchema);
    await this.credentials.rt.nc.flush();
  }

  /** Stops the credentials service: requests to it then find no responder. */
  async stopCredentials(): Promise<void> {
    await this.creds.stopReplica(this.credentials);
  }

  /**
   * The sync-worker's request handlers, as its buildApp serves them, without its
   * job runner and event consumers: a started sync stays STARTED, so a test
   * decides when it ends (syncRequests.cancel).
   */
  async startSyncWorker(): Promise<void> {
    this.syncWorker = await this.runtime('sync-worker', syncWorker.migrationsDir, async (rt) => {
      rt.serve(syncRequests, syncWorkerHandlers({ pool: rt.pool }));
    });
  }

  async stopSyncWorker(): Promise<void> {
    await this.syncWorker?.stop('test');
    this.syncWorker = undefined;
  }

  private async runtime(service: 'integrations' | 'sync-worker', migrationsDir: string, build: (rt: Runtime) => Promise<void>) {
    const schema = uniqueName(`${service.replace('-', '_')}_test`);
    this.schemas.push(schema);
    const config = testConfig({ NATS_URL: this.creds.natsUrl }, service === 'integrations' ? Config : SyncWorkerConfig);
    const rt = await Runtime.create({ service, version: 'test', instanceId: uniqueName(service), config, log: testLogger(service), schema, migrationsDir });
    try {
      await build(rt);
    } catch (err) {
      await rt.stop('build failed');
      throw err;
    }
    rt.markReady();
    await rt.nc.flush();
    return rt;
  }

  /**
   * Records every request sent on `route` until closeTaps(), as its receiver
   * parses it (a plain subscription beside the receiver's queue group; it never
   * answers). While a tap is open its subject has a subscriber, so a request
   * to a stopped receiver times out instead of finding no responders: do not
   * tap a service a test stops.
   */
  async tap<R extends RequestRoute>(route: R): Promise<Tapped<R>> {
    const seen: Tapped<R> = [];
    const record = (data: Uint8Array) => seen.push(route.request.parse(JSON.parse(dec.decode(data))) as Tapped<R>[number]);
    this.taps.push(this.nc.subscribe(route.subject, { callback: (_err, msg) => void record(msg.data) }));
    await this.nc.flush();
    return seen;
  }

  closeTaps(): void {
    for (const t of this.taps.splice(0)) t.unsubscribe();
  }

  /** The events the service wrote about an integration, in commit order, each checked against its contract. */
  async events(about: string): Promise<CloudEvent[]> {
    const { rows } = await this.integrations.pool.query<{ subject: EventSubject; event: unknown }>(
      `SELECT subject, event FROM outbox WHERE event->>'subject' = $1 ORDER BY created_at, id`,
      [about],
    );
    return rows.map((r) => eventSchema(r.subject).parse(r.event) as CloudEvent);
  }

  /**
   * Makes PostgreSQL refuse the tenant's inserts into a table of the
   * integrations schema (a real failure inside the service's transaction) until lift().
   */
  async refuseInserts(table: 'integrations' | 'outbox', tenantId: string): Promise<{ lift(): Promise<void> }> {
    const pool = this.integrations.pool;
    const column = table === 'integrations' ? 'NEW.tenant_id' : "NEW.event->>'tenantid'";
    await pool.query(`
      CREATE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
      CREATE TRIGGER refuse_insert BEFORE INSERT ON ${table} FOR EACH ROW WHEN (${column} = '${tenantId}') EXECUTE FUNCTION refuse_insert();`);
    return { lift: async () => void (await pool.query(`DROP TRIGGER refuse_insert ON ${table}; DROP FUNCTION refuse_insert()`)) };
  }

  /** The latest event on `subject` in the EVENTS stream, as the services consuming it receive it. */
  async lastPublished(subject: EventSubject): Promise<{ msgId: string | undefined; event: CloudEvent } | undefined> {
    const jsm = await jetstreamManager(this.nc);
    const m = await jsm.streams.getMessage(streams.events.name, { last_by_subj: subject });
    return m ? { msgId: m.header.get('Nats-Msg-Id'), event: eventSchema(subject).parse(m.json()) as CloudEvent } : undefined;
  }

  /** Stops what started (all of it, or what a failed start left running) and drops the schemas and the database. */
  async stop(): Promise<void> {
    await Promise.allSettled([this.integrations?.stop('test'), this.syncWorker?.stop('test')]);
    await this.nc?.close();
    await this.creds.stop();
    const databaseUrl = testConfig().DATABASE_URL;
    for (const s of this.schemas) await dropSchema(databaseUrl, s);
    await this.customer?.drop();
  }
}

/** Waits for `p` to fail with `code` and returns the error, for the test to look closer; `what` names the call. */
export async function rejection(p: Promise<unknown>, code: ErrorCode, what = 'the request'): Promise<AppError> {
  const err = await p.then(
    () => assert.fail(`${what}: expected ${code}, got an answer`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AppError, `${what}: expected an AppError, got ${String(err)}`);
  assert.equal(err.code, code, `${what}: ${err.message}`);
  return err;
}
