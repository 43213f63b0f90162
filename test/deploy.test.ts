/**
 * docker-compose.yml and deploy/k8s stay true to the code: the provisioning
 * step runs before the services, from a file the build compiles; NATS
 * credentials are never optional; every variable a container is given is one
 * its process reads; and the generated Compose secrets are ones the services
 * and nats-server accept. (No Docker engine or cluster is needed: the files
 * are parsed, their environments loaded through the same schemas the
 * processes use.)
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { connect } from '@nats-io/transport-node';
import { inboxPrefix, natsUsers, PROVISIONER, SERVICE_NAMES, type ServiceName } from '@switchyard/contracts';
import { ConfigError, loadConfig, ProvisionConfig } from '@switchyard/kit';
import {
  compiledCli,
  compiledHealthcheck,
  compiledMain,
  compiledProvision,
  NATS_AUTH_CONFIG_PATH,
  passwordVar,
  ROOT,
} from '@switchyard/kit/local';
import { startNatsServer, type NatsServer } from '@switchyard/kit/testing';
import { Config as credentials } from '../services/credentials/src/config.ts';
import { Config as gateway } from '../services/gateway/src/config.ts';
import { Config as integrations } from '../services/integrations/src/config.ts';
import { Config as monitor } from '../services/monitor/src/config.ts';
import { Config as orchestrator } from '../services/orchestrator/src/config.ts';
import { Config as syncWorker } from '../services/sync-worker/src/config.ts';
import { Config as webhookDispatcher } from '../services/webhook-dispatcher/src/config.ts';
import { composeEnv } from '../scripts/compose-env.ts';

// The schemas are zod objects (credentials' with a refinement on top); `.shape` names what each reads.
type Schema = z.ZodType & { shape?: Record<string, unknown>; def?: { in?: { shape?: Record<string, unknown> } } };
const schemas: Record<ServiceName, Schema> = {
  gateway,
  integrations,
  credentials,
  'sync-worker': syncWorker,
  'webhook-dispatcher': webhookDispatcher,
  monitor,
  orchestrator,
};
const readsOf = (s: Schema): Set<string> => new Set(Object.keys(s.shape ?? s.def?.in?.shape ?? {}));
/** Read by the image itself (deploy/Dockerfile's CMD, services/kit/src/healthcheck.ts), not by a schema. */
const IMAGE_VARS = new Set(['SERVICE']);

/** What `npm run build` compiles, relative to the repository root. */
const compiledEntryPoints = [...SERVICE_NAMES.map(compiledMain), compiledCli(), compiledProvision(), compiledHealthcheck()].map((p) => relative(ROOT, p));

// ---- docker-compose.yml -------------------------------------------------------

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  volumes?: string[];
}
const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as { services: Record<string, ComposeService> };

/** Compose's interpolation of `${VAR}`, `${VAR:-default}` and `${VAR:?message}`, with `env` as the shell's environment. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    if (env[name]) return env[name];
    if (op === '?') throw new Error(`compose would refuse to start: ${name} is not set (${arg})`);
    return op === '-' ? (arg ?? '') : '';
  });
}
const environmentOf = (name: string, env: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(compose.services[name]?.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), env)]));

describe('docker-compose.yml', () => {
  test('every Switchyard service waits for the provision service to complete', () => {
    for (const name of SERVICE_NAMES) {
      assert.equal(compose.services[name]?.depends_on?.provision?.condition, 'service_completed_successfully', name);
    }
    const provision = compose.services.provision;
    assert.ok(provision, 'a provision service');
    assert.equal(provision.restart, 'no');
    assert.equal(provision.depends_on?.nats?.condition, 'service_healthy');
    assert.equal(provision.environment?.NATS_USER, PROVISIONER);
  });

  test("the provision command runs one of the build's compiled entry points", () => {
    const file = compose.services.provision?.command?.find((a) => a.endsWith('.js'));
    assert.equal(file, relative(ROOT, compiledProvision()));
    assert.ok(compiledEntryPoints.includes(file), `${file} is one of ${compiledEntryPoints.join(', ')}`);
  });

  test('nats runs deploy/nats/nats-server.conf with auth.conf beside it, and gets every NATS user’s password', () => {
    const nats = compose.services.nats!;
    const mount = nats.volumes?.find((v) => v.startsWith('./deploy/nats:'));
    assert.ok(mount, 'deploy/nats/ is mounted as a directory');
    const [hostDir, containerDir] = mount.split(':') as [string, string];
    const configFile = nats.command?.[nats.command.indexOf('-c') + 1] ?? '';
    assert.ok(configFile.startsWith(`${containerDir}/`), configFile);
    const onHost = join(ROOT, hostDir, configFile.slice(containerDir.length + 1));
    assert.equal(relative(ROOT, onHost), 'deploy/nats/nats-server.conf');
    const includes = [...readFileSync(onHost, 'utf8').matchAll(/^include "([^"]+)"/gm)].map((m) => m[1]!);
    assert.deepEqual(includes, ['auth.conf']);
    for (const f of includes) assert.ok(existsSync(join(onHost, '..', f)), f);
    assert.deepEqual(Object.keys(nats.environment ?? {}).sort(), Object.keys(natsUsers()).map(passwordVar).sort());
  });

  test('no password has a default: each is required from the environment (and the root key too)', () => {
    const secretVar = /PASSWORD|^NATS_PW_|^CREDENTIALS_ROOT_KEY$/;
    for (const [, name, op, arg] of composeText.matchAll(/\$\{(\w+)(?::([-?])([^}]*))?\}/g)) {
      if (!secretVar.test(name!)) continue;
      assert.equal(op, '?', `\${${name}} must use :? (no default): found ${op ?? 'none'} ${arg ?? ''}`);
    }
    // Without .env, Compose refuses.
    assert.throws(() => environmentOf('sync-worker', {}), /compose would refuse to start/);
  });

  test('every variable a Switchyard service is given is one it reads', () => {
    for (const name of SERVICE_NAMES) {
      const reads = readsOf(schemas[name]);
      const unread = Object.keys(compose.services[name]?.environment ?? {}).filter((v) => !reads.has(v) && !IMAGE_VARS.has(v));
      assert.deepEqual(unread, [], `${name} is given variables it does not read`);
    }
  });

  test('with the secrets of npm run compose-env, every service accepts its production environment', () => {
    const env = composeEnv();
    for (const name of SERVICE_NAMES) assert.doesNotThrow(() => loadConfig(schemas[name], environmentOf(name, env)), name);
  });

  test('the provision service reads every variable it is given and, with those secrets, accepts its production environment', () => {
    const reads = readsOf(ProvisionConfig);
    assert.deepEqual(Object.keys(compose.services.provision?.environment ?? {}).filter((v) => !reads.has(v)), []);
    assert.doesNotThrow(() => loadConfig(ProvisionConfig, environmentOf('provision', composeEnv())));
  });
});

// ---- npm run compose-env ------------------------------------------------------

describe('npm run compose-env', () => {
  let nats: NatsServer | undefined;
  afterAll(async () => nats?.dispose());

  test('prints every variable docker-compose.yml requires, and nothing else', () => {
    const required = new Set([...composeText.matchAll(/\$\{(\w+):\?/g)].map((m) => m[1]!));
    assert.deepEqual(Object.keys(composeEnv()).sort(), [...required].sort());
  });

  test('fresh values each time; the root key is 32 bytes of base64', () => {
    const [a, b] = [composeEnv(), composeEnv()];
    for (const k of Object.keys(a)) assert.notEqual(a[k], b[k], k);
    assert.equal(Buffer.from(a.CREDENTIALS_ROOT_KEY!, 'base64').length, 32);
  });

  test("nats-server reads the generated passwords from its environment, and each user logs in with its own", async () => {
    const env = composeEnv();
    // auth.conf alone: the local nats-server may be older than 2.10, which nats-server.conf needs.
    nats = await startNatsServer({ configFile: NATS_AUTH_CONFIG_PATH, env });
    for (const user of Object.keys(natsUsers())) {
      const nc = await connect({ servers: nats.url, user, pass: env[passwordVar(user)], inboxPrefix: inboxPrefix(user) });
      await nc.flush();
      await nc.close();
    }
  });

  test('.env is git-ignored and outside the build context', () => {
    for (const f of ['.gitignore', '.dockerignore']) {
      assert.ok(readFileSync(join(ROOT, f), 'utf8').split('\n').includes('.env'), `${f} lists .env`);
    }
  });
});

// ---- deploy/k8s ---------------------------------------------------------------

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
interface Container {
  name: string;
  command?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: { template?: { spec: { containers: Container[] } } };
}
const k8sDir = join(ROOT, 'deploy', 'k8s');
const kustomization = parse(readFileSync(join(k8sDir, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
const manifests: Manifest[] = readdirSync(k8sDir)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .flatMap((f) => parseAllDocuments(readFileSync(join(k8sDir, f), 'utf8')).map((d) => d.toJS() as Manifest));
const find = (kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name);
const containerOf = (m: Manifest | undefined) => m?.spec?.template?.spec.containers[0];
const configMap = (name: string) => find('ConfigMap', name)?.data ?? {};
const secret = (name: string) => find('Secret', name)?.stringData ?? {};

/** A container's environment as the kubelet would give it, with secrets resolved from secret.yaml. */
function k8sEnv(c: Container, secrets: (name: string) => Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, configMap(from.configMapRef.name));
    if (from.secretRef) Object.assign(env, secrets(from.secretRef.name));
  }
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    const v = ref ? secrets(ref.name)[ref.key] : e.value;
    if (v !== undefined) env[e.name] = v;
  }
  return env;
}

describe('deploy/k8s', () => {
  test('every manifest file is in kustomization.yaml', () => {
    const files = readdirSync(k8sDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    assert.deepEqual([...kustomization.resources].sort(), files.sort());
  });

  test('NATS credentials are never optional: each Deployment and the Job read their own user from a required Secret', () => {
    const pods: [Container | undefined, string][] = [
      ...SERVICE_NAMES.map((s): [Container | undefined, string] => [containerOf(find('Deployment', s)), s]),
      [containerOf(find('Job', 'provision')), PROVISIONER],
    ];
    for (const [c, user] of pods) {
      assert.ok(c, user);
      for (const [name, key] of [['NATS_USER', 'user'], ['NATS_PASSWORD', 'password']] as const) {
        const ref: NonNullable<EnvVar['valueFrom']>['secretKeyRef'] = c.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
        assert.deepEqual(ref, { name: `switchyard-nats-${user}`, key }, `${user}: ${name}`);
      }
      assert.equal(secret(`switchyard-nats-${user}`).user, user, `secret.yaml: switchyard-nats-${user}`);
    }
  });

  test("the provision Job runs one of the build's compiled entry points", () => {
    const file = containerOf(find('Job', 'provision'))?.command?.find((a) => a.endsWith('.js'));
    assert.equal(file, relative(ROOT, compiledProvision()));
    assert.ok(compiledEntryPoints.includes(file), file);
  });

  test('every variable a container is given is one its process reads', () => {
    const shared = Object.keys(configMap('switchyard-config'));
    for (const name of SERVICE_NAMES) {
      const c = containerOf(find('Deployment', name))!;
      const given = [...shared, ...Object.keys(secret('switchyard-secrets')), ...(c.env ?? []).map((e) => e.name)];
      const reads = readsOf(schemas[name]);
      assert.deepEqual(given.filter((v) => !reads.has(v) && !IMAGE_VARS.has(v)), [], name);
    }
    const job = containerOf(find('Job', 'provision'))!;
    const reads = readsOf(ProvisionConfig);
    // The Job also gets the shared ConfigMap for NODE_ENV and LOG_LEVEL; what is its own must all be read.
    const own = [...Object.keys(configMap('switchyard-provision')), ...(job.env ?? []).map((e) => e.name)];
    assert.deepEqual(own.filter((v) => !reads.has(v)), [], 'provision');
    assert.ok(reads.has('NODE_ENV') && reads.has('LOG_LEVEL'));
  });

  test("the example Secrets' TLS URLs are accepted, and their CHANGE_ME placeholders are refused", () => {
    // A development password, or (the root key's placeholder) not base64: either way the process exits 2 naming it.
    const refused = /development password|CREDENTIALS_ROOT_KEY: must be base64/;
    const replaced = (name: string) =>
      Object.fromEntries(Object.entries(secret(name)).map(([k, v]) => [k, v.replace('CHANGE_ME_BASE64_32_BYTES', composeEnv().CREDENTIALS_ROOT_KEY!).replace('CHANGE_ME', 'Xk3vQp9LmZ2w')]));
    const pods: [Container, Schema, string][] = [
      ...SERVICE_NAMES.map((s): [Container, Schema, string] => [containerOf(find('Deployment', s))!, schemas[s], s]),
      [containerOf(find('Job', 'provision'))!, ProvisionConfig, 'provision'],
    ];
    for (const [c, schema, name] of pods) {
      assert.doesNotThrow(() => loadConfig(schema, k8sEnv(c, replaced)), name);
      assert.throws(
        () => loadConfig(schema, k8sEnv(c, secret)),
        (err: unknown) => err instanceof ConfigError && err.problems.some((p) => refused.test(p)),
        `${name} refuses the unedited Secret`,
      );
    }
  });
});
