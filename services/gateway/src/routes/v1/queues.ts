import {
  DeadLetterList,
  DeadLetterParams,
  DeadLetterRecord,
  DeadLettersQuery,
  FailedSyncsReport,
  monitorApiRequests,
  Problem,
  QueueList,
  WindowQuery,
} from '@switchyard/contracts';
import type { RpcClient } from '@switchyard/kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 503: Problem, 504: Problem };
const tags = ['System'];

/** Queues, dead letters and failed syncs across tenants: the platform operator's only. */
export const queueRoutes =
  (rpc: RpcClient): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/system/queues',
      {
        config: { access: 'operator' },
        schema: {
          tags,
          summary: 'Every stream and durable consumer: pending, ack pending, redelivered, oldest unacknowledged age (platform operator only)',
          response: { 200: QueueList, ...errors },
        },
      },
      async () => rpc.request(monitorApiRequests.queues, {}),
    );

    app.get(
      '/v1/system/dead-letters',
      {
        config: { access: 'operator' },
        schema: { tags, summary: 'Dead-lettered jobs and events with their error, newest first (platform operator only)', querystring: DeadLettersQuery, response: { 200: DeadLetterList, ...errors } },
      },
      async (req) => rpc.request(monitorApiRequests.deadLetters, { query: req.query }),
    );

    app.post(
      '/v1/system/dead-letters/:id/replay',
      {
        config: { access: 'operator' },
        schema: {
          tags,
          summary: 'Replay a dead letter through the service that gave it up (platform operator only)',
          description: 'A job is queued again by its service (a sync job starts a new sync of its integration); an event is handled again by its consumer.',
          params: DeadLetterParams,
          response: { 200: DeadLetterRecord, 409: Problem, 422: Problem, ...errors },
        },
      },
      async (req) => rpc.request(monitorApiRequests.replay, { id: req.params.id }),
    );

    app.get(
      '/v1/system/failed-syncs',
      {
        config: { access: 'operator' },
        schema: { tags, summary: 'Failed syncs per tenant over a window (platform operator only)', querystring: WindowQuery, response: { 200: FailedSyncsReport, ...errors } },
      },
      async (req) => rpc.request(monitorApiRequests.failedSyncs, { window: req.query.window }),
    );
  };
