import type { EventSubject } from './events.ts';

/**
 * JetStream streams and durable consumers, declared once; services provision
 * them at start (idempotently). Only features of nats-server 2.9 are used.
 */
export interface StreamDef {
  name: string;
  subjects: string[];
  retention: 'limits' | 'workqueue';
  maxAgeMs: number;
  /** Window in which a repeated Nats-Msg-Id is dropped. */
  duplicateWindowMs: number;
  description: string;
}

export interface ConsumerDef {
  stream: string;
  durable: string;
  filterSubject: string;
  /** For a consumer of the EVENTS stream: the events it acts on (others under its filter are acknowledged and skipped). */
  events?: readonly EventSubject[];
  ackWaitMs: number;
  maxDeliver: number;
  maxAckPending: number;
  description: string;
}

const DAY = 86_400_000;

export const streams = {
  events: {
    name: 'EVENTS',
    subjects: ['events.>'],
    retention: 'limits',
    maxAgeMs: 7 * DAY,
    duplicateWindowMs: 2 * 60_000,
    description: 'Domain events (CloudEvents) announced through service outboxes',
  },
  syncJobs: {
    name: 'JOBS_SYNC',
    subjects: ['jobs.sync.>'],
    retention: 'workqueue',
    maxAgeMs: 7 * DAY,
    duplicateWindowMs: 2 * 60_000,
    description: 'Sync work queue, one subject per integration',
  },
  deadLetter: {
    name: 'DEADLETTER',
    subjects: ['deadletter.>'],
    retention: 'limits',
    maxAgeMs: 30 * DAY,
    duplicateWindowMs: 2 * 60_000,
    description: 'Jobs that failed for good, with their last error',
  },
} as const satisfies Record<string, StreamDef>;

export const consumers = {
  syncWorker: {
    stream: streams.syncJobs.name,
    durable: 'sync-worker',
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
    filterSubject: 'events.integration.>',
    events: ['events.integration.created', 'events.integration.deleted', 'events.integration.disconnected'],
    ackWaitMs: 30_000,
    maxDeliver: 10,
    maxAckPending: 1_000,
    description: 'Integration lifecycle events: start the first sync, cancel on delete/disconnect',
  },
} as const satisfies Record<string, ConsumerDef>;
