import type { EventSubject } from './events.ts';
import type { ServiceName } from './services.ts';

/**
 * JetStream streams and durable consumers, declared once. A provisioning
 * identity creates and updates them (a step of `npm start`, a Kubernetes Job,
 * a Compose one-shot service); the services' own NATS users may only use the
 * consumers they own and publish what they own. Only features of
 * nats-server 2.9 are used.
 */
export interface StreamDef {
  name: string;
  subjects: string[];
  retention: 'limits' | 'workqueue';
  maxAgeMs: number;
  /** Size bound of the stream's store. */
  maxBytes: number;
  /**
   * What happens at a limit. `old` drops the oldest messages (publishers never
   * block; consumer lag is watched instead); `new` refuses the publish, so the
   * publisher gets an error it reports and retries (no job is ever dropped).
   */
  discard: 'old' | 'new';
  /** Window in which a repeated Nats-Msg-Id is dropped. */
  duplicateWindowMs: number;
  description: string;
}

export interface ConsumerDef {
  stream: string;
  durable: string;
  /** The service whose replicas share this consumer: only its NATS user may read from it. */
  service: ServiceName;
  filterSubject: string;
  /** For a consumer of the EVENTS stream: the events it acts on (others under its filter are acknowledged and skipped). */
  events?: readonly EventSubject[];
  ackWaitMs: number;
  maxDeliver: number;
  maxAckPending: number;
  description: string;
}

const DAY = 86_400_000;
const GiB = 1024 ** 3;

export const streams = {
  events: {
    name: 'EVENTS',
    subjects: ['events.>'],
    retention: 'limits',
    maxAgeMs: 7 * DAY,
    maxBytes: 10 * GiB,
    discard: 'old',
    duplicateWindowMs: 2 * 60_000,
    description: 'Domain events (CloudEvents) announced through service outboxes',
  },
  syncJobs: {
    name: 'JOBS_SYNC',
    subjects: ['jobs.sync.>'],
    retention: 'workqueue',
    maxAgeMs: 7 * DAY,
    maxBytes: 1 * GiB,
    discard: 'new',
    duplicateWindowMs: 2 * 60_000,
    description: 'Sync work queue, one subject per integration',
  },
  deadLetter: {
    name: 'DEADLETTER',
    subjects: ['deadletter.>'],
    retention: 'limits',
    maxAgeMs: 30 * DAY,
    maxBytes: 1 * GiB,
    discard: 'old',
    duplicateWindowMs: 2 * 60_000,
    description: 'Jobs that failed for good, with their last error',
  },
} as const satisfies Record<string, StreamDef>;

export const consumers = {
  syncWorker: {
    stream: streams.syncJobs.name,
    durable: 'sync-worker',
    service: 'sync-worker',
    filterSubject: 'jobs.sync.>',
    // Long discoveries call working() well inside this window.
    ackWaitMs: 30_000,
    maxDeliver: 5,
    maxAckPending: 1_000,
    description: 'Sync jobs, shared by every sync-worker replica',
  },
  syncWorkerIntegrationEvents: {
    stream: streams.events.name,
    durable: 'sync-worker-integration-events',
    service: 'sync-worker',
    filterSubject: 'events.integration.>',
    events: ['events.integration.created', 'events.integration.deleted', 'events.integration.disconnected'],
    ackWaitMs: 30_000,
    maxDeliver: 10,
    maxAckPending: 1_000,
    description: 'Integration lifecycle events: start the first sync, cancel on delete/disconnect',
  },
  monitorIntegrationEvents: {
    stream: streams.events.name,
    durable: 'monitor-integration-events',
    service: 'monitor',
    filterSubject: 'events.integration.>',
    events: [
      'events.integration.created',
      'events.integration.updated',
      'events.integration.deleted',
      'events.integration.connected',
      'events.integration.disconnected',
      'events.integration.connection_tested',
    ],
    ackWaitMs: 30_000,
    maxDeliver: 10,
    maxAckPending: 1_000,
    description: 'Which integrations to check, and every connection test, for health and metrics',
  },
  monitorSyncEvents: {
    stream: streams.events.name,
    durable: 'monitor-sync-events',
    service: 'monitor',
    filterSubject: 'events.sync.>',
    events: ['events.sync.started', 'events.sync.completed', 'events.sync.failed', 'events.sync.cancelled'],
    ackWaitMs: 30_000,
    maxDeliver: 10,
    maxAckPending: 1_000,
    description: 'Sync outcomes, recorded into the metrics rollups and the health of their integration',
  },
  monitorDeadLetters: {
    stream: streams.deadLetter.name,
    durable: 'monitor-dead-letters',
    service: 'monitor',
    filterSubject: 'deadletter.>',
    ackWaitMs: 30_000,
    maxDeliver: 10,
    maxAckPending: 1_000,
    description: 'Every dead letter, recorded by the monitor so the operator can list and replay it',
  },
} as const satisfies Record<string, ConsumerDef>;
