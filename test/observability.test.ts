/**
 * deploy/prometheus and deploy/grafana stay true to the code: promtool
 * accepts the scrape configurations and the alert rules (when it is
 * installed: Debian's `prometheus` package), and every Switchyard metric the
 * rules and the dashboard query is one a service declares.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '@switchyard/kit/local';

const dir = join(ROOT, 'deploy', 'prometheus');
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
const promtool = (...args: string[]) => spawnSync('promtool', args, { encoding: 'utf8' });

const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'switchyard.json'), 'utf8')) as {
  panels: { id: number; type: string; targets?: { expr: string }[] }[];
};
const rules = parse(readFileSync(join(dir, 'alerts.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };

/** The TypeScript sources of the services (where metric names are declared). */
function sources(d = join(ROOT, 'services')): string[] {
  return readdirSync(d).flatMap((f) => {
    const p = join(d, f);
    if (f === 'node_modules' || f === 'dist') return [];
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}
const code = sources().map((f) => readFileSync(f, 'utf8')).join('\n');
/** A series name as Prometheus serves it → the instrument name declared in code (counters gain `_total`, histograms `_bucket`, `_sum`, `_count`). */
const declared = (series: string) => {
  const base = series.replace(/_(total|bucket|sum|count)$/, '');
  return code.includes(`'${base}'`) || code.includes(`'${series}'`);
};
const switchyardSeries = (expr: string) => [...expr.matchAll(/\b(switchyard_[a-z_]+|process_[a-z_]+)\b/g)].map((m) => m[1]!);

describe('deploy/prometheus and deploy/grafana', () => {
  test('every Switchyard metric the alert rules and the dashboard query is declared by a service', () => {
    const exprs = [...rules.groups.flatMap((g) => g.rules.map((r) => r.expr)), ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr))];
    const names = [...new Set(exprs.flatMap(switchyardSeries))];
    assert.ok(names.length >= 15, `found ${names.length}`);
    assert.deepEqual(names.filter((n) => !declared(n)), []);
  });

  test('the dashboard: unique panel ids, every graph with a query', () => {
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) assert.ok(p.targets?.length && p.targets.every((t) => t.expr), `panel ${p.id}`);
  });

  test('promtool check rules accepts the alert rules', (ctx) => {
    if (!hasPromtool) return ctx.skip('promtool is not installed (Debian: apt-get install prometheus)');
    const r = promtool('check', 'rules', join(dir, 'alerts.yml'));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: 10 rules found/);
  });

  test('promtool check config accepts the Compose scrape configuration', (ctx) => {
    if (!hasPromtool) return ctx.skip('promtool is not installed (Debian: apt-get install prometheus)');
    const r = promtool('check', 'config', join(dir, 'prometheus.compose.yml'));
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  test('promtool check config accepts the Kubernetes scrape configuration', (ctx) => {
    if (!hasPromtool) return ctx.skip('promtool is not installed (Debian: apt-get install prometheus)');
    const file = join(dir, 'prometheus.k8s.yml');
    let r = promtool('check', 'config', file);
    if (r.status !== 0 && /field kubernetes_sd_configs not found/.test(r.stdout + r.stderr)) {
      // Debian builds Prometheus without Kubernetes discovery: check everything else (relabelling, rule files)
      // with the discovery swapped for a static target.
      const copy = mkdtempSync(join(tmpdir(), 'promtool-'));
      writeFileSync(
        join(copy, 'prometheus.yml'),
        readFileSync(file, 'utf8').replace(/kubernetes_sd_configs:\n(?: {6}.*\n)+/, "static_configs:\n      - targets: ['monitor:9205']\n"),
      );
      copyFileSync(join(dir, 'alerts.yml'), join(copy, 'alerts.yml'));
      r = promtool('check', 'config', join(copy, 'prometheus.yml'));
    }
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});
