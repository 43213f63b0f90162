/** The README and the OpenAPI document stay true to the code. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'vitest';
import type { z } from 'zod';
import { ProvisionConfig } from '@switchyard/kit';
import { ROOT, SERVICE_NODE_FLAGS } from '@switchyard/kit/local';
import { Config as credentials } from '../services/credentials/src/config.ts';
import { Config as gateway } from '../services/gateway/src/config.ts';
import { Config as integrations } from '../services/integrations/src/config.ts';
import { Config as monitor } from '../services/monitor/src/config.ts';
import { Config as orchestrator } from '../services/orchestrator/src/config.ts';
import { Config as syncWorker } from '../services/sync-worker/src/config.ts';
import { Config as webhookDispatcher } from '../services/webhook-dispatcher/src/config.ts';

const schemas: z.ZodObject[] = [gateway, integrations, credentials, syncWorker, webhookDispatcher, monitor, orchestrator, ProvisionConfig];

test("the README's configuration table lists every variable the services read, and no other", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Tests'));
  const documented = new Set([...section.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));
  const read = new Set(schemas.flatMap((s) => Object.keys(s.shape)));
  assert.deepEqual([...read].filter((v) => !documented.has(v)).sort(), [], 'variables read but not documented');
  assert.deepEqual([...documented].filter((v) => !read.has(v)).sort(), [], 'variables documented but not read');
});

test('the Dockerfile installs every workspace of package.json (npm ci fails on a missing one)', () => {
  const workspaces = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
  const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
  for (const w of workspaces) assert.ok(dockerfile.includes(`COPY ${w}/package.json ${w}/`), `deploy/Dockerfile copies ${w}/package.json`);
});

test("the image runs each service with the supervisor's Node flags", () => {
  const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
  const cmd = dockerfile.split('\n').find((l) => l.startsWith('CMD '));
  assert.ok(cmd?.includes(`exec node ${SERVICE_NODE_FLAGS.join(' ')} `), cmd);
});
