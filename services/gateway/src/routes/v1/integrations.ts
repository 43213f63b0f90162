import {
  ChangeSetList,
  ChangeSetPage,
  ChangeSetQuery,
  ConnectionTest,
  CreatedIntegration,
  CreateIntegrationBody,
  CursorQuery,
  IdempotencyHeaders,
  Integration,
  IntegrationList,
  IntegrationParams,
  integrationRequests,
  ListIntegrationsQuery,
  PostgresCredential,
  Problem,
  SchemaPage,
  SchemaQuery,
  Sync,
  SyncList,
  SyncParams,
  syncRequests,
  UpdateIntegrationBody,
} from '@switchyard/contracts';
import type { RpcClient } from '@switchyard/kit';
import { requestIdempotent } from '../../idempotency.ts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 422: Problem, 503: Problem, 504: Problem };
const tags = ['Integrations'];

/** The create route, also mounted at the seed path `POST /integrations`. */
export const createIntegrationRoute = (rpc: RpcClient, url: string): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      url,
      {
        config: { access: 'editor', idempotent: true },
        schema: {
          tags,
          summary: 'Connect a system: validates the credential with a real connection, stores it encrypted, starts the first sync',
          description: 'Send an `Idempotency-Key` header to make retries safe: a repeat with the same key and body returns the first answer.',
          headers: IdempotencyHeaders,
          body: CreateIntegrationBody,
          response: { 201: CreatedIntegration, ...errors },
        },
      },
      async (req, reply) => {
        const created = await requestIdempotent(rpc, integrationRequests.create, { tenant_id: req.principal.tenantId, body: req.body }, req, reply);
        return reply.status(201).header('location', `/v1/integrations/${created.id}`).send(created);
      },
    );
  };

export const integrationRoutes =
  (rpc: RpcClient): FastifyPluginAsyncZod =>
  async (app) => {
    // Sync and schema data live in the sync-worker; the integration must be the caller's first (else 404).
    const ownIntegration = async (tenant_id: string, id: string) => {
      await rpc.request(integrationRequests.get, { tenant_id, id });
      return tenant_id;
    };

    await app.register(createIntegrationRoute(rpc, '/v1/integrations'));

    app.get(
      '/v1/integrations',
      { schema: { tags, summary: 'List integrations (filter by type and status; cursor pagination)', querystring: ListIntegrationsQuery, response: { 200: IntegrationList, ...errors } } },
      async (req) => rpc.request(integrationRequests.list, { tenant_id: req.principal.tenantId, query: req.query }),
    );

    app.get(
      '/v1/integrations/:id',
      { schema: { tags, summary: 'One integration', params: IntegrationParams, response: { 200: Integration, ...errors } } },
      async (req) => rpc.request(integrationRequests.get, { tenant_id: req.principal.tenantId, id: req.params.id }),
    );

    app.patch(
      '/v1/integrations/:id',
      {
        config: { access: 'editor' },
        schema: { tags, summary: 'Rename or reconfigure', params: IntegrationParams, body: UpdateIntegrationBody, response: { 200: Integration, ...errors } },
      },
      async (req) => rpc.request(integrationRequests.update, { tenant_id: req.principal.tenantId, id: req.params.id, ...req.body }),
    );

    app.delete(
      '/v1/integrations/:id',
      {
        config: { access: 'editor' },
        schema: { tags, summary: 'Delete, with its credential; an active sync is cancelled', params: IntegrationParams, response: { 204: z.null(), ...errors } },
      },
      async (req, reply) => {
        await rpc.request(integrationRequests.delete, { tenant_id: req.principal.tenantId, id: req.params.id });
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/v1/integrations/:id/test',
      {
        config: { access: 'editor' },
        schema: { tags, summary: 'Test the stored credential: latency and server version, or why it fails', params: IntegrationParams, response: { 200: ConnectionTest, ...errors } },
      },
      async (req) => rpc.request(integrationRequests.test, { tenant_id: req.principal.tenantId, id: req.params.id }),
    );

    for (const action of ['connect', 'disconnect'] as const)
      app.post(
        `/v1/integrations/:id/${action}`,
        {
          config: { access: 'editor' },
          schema: {
            tags,
            summary: action === 'connect' ? 'Reconnect: syncs may run again' : 'Disconnect: no sync runs; an active one is cancelled',
            params: IntegrationParams,
            response: { 200: Integration, ...errors },
          },
        },
        async (req) => rpc.request(integrationRequests[action], { tenant_id: req.principal.tenantId, id: req.params.id }),
      );

    app.put(
      '/v1/integrations/:id/credentials',
      {
        config: { access: 'editor' },
        schema: { tags, summary: 'Replace the credential (validated with a real connection first)', params: IntegrationParams, body: PostgresCredential, response: { 200: Integration, ...errors } },
      },
      async (req) =>
        rpc.request(integrationRequests.replaceCredential, { tenant_id: req.principal.tenantId, id: req.params.id, credential: req.body }),
    );

    app.post(
      '/v1/integrations/:id/syncs',
      {
        config: { access: 'editor', idempotent: true },
        schema: {
          tags: ['Syncs'],
          summary: 'Start a sync (409 naming the active one if a sync is running)',
          headers: IdempotencyHeaders,
          params: IntegrationParams,
          response: { 202: Sync, 409: Problem, ...errors },
        },
      },
      async (req, reply) => {
        const sync = await requestIdempotent(rpc, integrationRequests.startSync, { tenant_id: req.principal.tenantId, id: req.params.id }, req, reply);
        return reply.status(202).header('location', `/v1/syncs/${sync.id}`).send(sync);
      },
    );

    app.get(
      '/v1/integrations/:id/syncs',
      { schema: { tags: ['Syncs'], summary: "An integration's syncs, newest first", params: IntegrationParams, querystring: CursorQuery, response: { 200: SyncList, ...errors } } },
      async (req) => {
        const tenant_id = await ownIntegration(req.principal.tenantId, req.params.id);
        return rpc.request(syncRequests.list, { tenant_id, integration_id: req.params.id, ...req.query });
      },
    );

    app.get(
      '/v1/integrations/:id/schema',
      {
        schema: {
          tags: ['Schema'],
          summary: 'The latest discovered catalog, a page of relations at a time (filter by schema and table; follow next_cursor)',
          description:
            'A page holds at most `limit` relations, fewer when more would not fit in one response. A relation too large for any response is a 422 RESPONSE_TOO_LARGE whose detail gives the cursor past it.',
          params: IntegrationParams,
          querystring: SchemaQuery,
          response: { 200: SchemaPage, ...errors },
        },
      },
      async (req) => {
        const tenant_id = await ownIntegration(req.principal.tenantId, req.params.id);
        return rpc.request(syncRequests.schema, { tenant_id, integration_id: req.params.id, ...req.query });
      },
    );

    app.get(
      '/v1/integrations/:id/schema/changes',
      {
        schema: {
          tags: ['Schema'],
          summary: 'What changed between syncs, newest first: each set with its first changes, its total and the path of the whole set',
          params: IntegrationParams,
          querystring: CursorQuery,
          response: { 200: ChangeSetList, ...errors },
        },
      },
      async (req) => {
        const tenant_id = await ownIntegration(req.principal.tenantId, req.params.id);
        return rpc.request(syncRequests.changes, { tenant_id, integration_id: req.params.id, ...req.query });
      },
    );

    app.get(
      '/v1/integrations/:id/schema/changes/:syncId',
      {
        schema: {
          tags: ['Schema'],
          summary: 'One whole change set (what events.schema.changed refers to), a page of changes at a time (follow next_cursor)',
          params: IntegrationParams.extend(SyncParams.shape),
          querystring: ChangeSetQuery,
          response: { 200: ChangeSetPage, ...errors },
        },
      },
      async (req) => {
        const tenant_id = await ownIntegration(req.principal.tenantId, req.params.id);
        return rpc.request(syncRequests.changeSet, { tenant_id, integration_id: req.params.id, sync_id: req.params.syncId, ...req.query });
      },
    );
  };
