import {
  AlertList,
  AlertRule,
  AlertRuleList,
  AlertRuleParams,
  AlertsQuery,
  CreateAlertRuleBody,
  integrationRequests,
  monitorApiRequests,
  PerformanceReport,
  Problem,
  UpdateAlertRuleBody,
  WindowQuery,
} from '@switchyard/contracts';
import type { RpcClient } from '@switchyard/kit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 503: Problem, 504: Problem };

/** Alert rules and alerts, and the tenant's performance report. The platform operator's keys also see system rules and alerts. */
export const alertRoutes =
  (rpc: RpcClient): FastifyPluginAsyncZod =>
  async (app) => {
    const caller = (p: { tenantId: string; operator: boolean }) => ({ tenant_id: p.tenantId, operator: p.operator });

    app.get(
      '/v1/alert-rules',
      { schema: { tags: ['Alerts'], summary: "Your alert rules (with the defaults); the platform operator also sees system rules", response: { 200: AlertRuleList, ...errors } } },
      async (req) => rpc.request(monitorApiRequests.listRules, caller(req.principal)),
    );

    app.post(
      '/v1/alert-rules',
      {
        config: { access: 'editor' },
        schema: {
          tags: ['Alerts'],
          summary: 'Create a rule: a metric, a comparator and threshold, a window, a "for" duration, a severity and a scope',
          description: 'Scope `integration` (one of yours), `tenant` (each of your integrations) or `system` (platform operator only, operational metrics).',
          body: CreateAlertRuleBody,
          response: { 201: AlertRule, ...errors },
        },
      },
      async (req, reply) => {
        const { body } = req;
        if (body.scope.type === 'integration') await rpc.request(integrationRequests.get, { tenant_id: req.principal.tenantId, id: body.scope.integration_id });
        const rule = await rpc.request(monitorApiRequests.createRule, { ...caller(req.principal), body });
        return reply.status(201).header('location', `/v1/alert-rules/${rule.id}`).send(rule);
      },
    );

    app.patch(
      '/v1/alert-rules/:id',
      {
        config: { access: 'editor' },
        schema: { tags: ['Alerts'], summary: 'Change a rule (name, comparator, threshold, window, for, severity, enabled)', params: AlertRuleParams, body: UpdateAlertRuleBody, response: { 200: AlertRule, ...errors } },
      },
      async (req) => rpc.request(monitorApiRequests.updateRule, { ...caller(req.principal), id: req.params.id, body: req.body }),
    );

    app.delete(
      '/v1/alert-rules/:id',
      {
        config: { access: 'editor' },
        schema: { tags: ['Alerts'], summary: 'Delete a rule; its firing alerts resolve', params: AlertRuleParams, response: { 204: z.null(), ...errors } },
      },
      async (req, reply) => {
        await rpc.request(monitorApiRequests.deleteRule, { ...caller(req.principal), id: req.params.id });
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/v1/alerts',
      {
        schema: {
          tags: ['Alerts'],
          summary: 'Alerts, newest first: firing or resolved (each fires once and resolves once, announced as events.alert.fired and events.alert.resolved)',
          querystring: AlertsQuery,
          response: { 200: AlertList, ...errors },
        },
      },
      async (req) => rpc.request(monitorApiRequests.listAlerts, { ...caller(req.principal), query: req.query }),
    );

    app.get(
      '/v1/reports/performance',
      {
        schema: {
          tags: ['Health and performance'],
          summary: 'Your integrations over a window: totals, health states, the slowest and the most failing',
          querystring: WindowQuery,
          response: { 200: PerformanceReport, ...errors },
        },
      },
      async (req) => rpc.request(monitorApiRequests.report, { tenant_id: req.principal.tenantId, window: req.query.window }),
    );
  };
