/**
 * Runs a service's migrations in a worker thread (see migrateInWorker): the
 * migration runner's code then never stays in the service's own heap.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { migrate } from './db.ts';
import { createLogger } from './logger.ts';

const o = workerData as { url: string; schema: string; dir: string | string[]; service: string; instanceId: string; level: string };
const log = createLogger({ service: o.service, instanceId: o.instanceId, level: o.level });
migrate({ url: o.url, schema: o.schema, dir: o.dir, log }).then(
  (names) => parentPort!.postMessage({ ok: true, names }),
  (err: Error & { code?: string }) => parentPort!.postMessage({ ok: false, error: { message: err.message, code: err.code, name: err.name } }),
);
