/**
 * Compiles each service into one ES module with esbuild: `services/<name>/dist/main.js`
 * (and the gateway's admin CLI, `dist/cli.js`), with a source map beside it.
 * Switchyard's own workspaces (contracts, kit, connectors) are bundled in;
 * every npm package stays external and is loaded from node_modules, so
 * OpenTelemetry's require hooks still see pg and ioredis.
 *
 * A build is skipped when its output is newer than every input esbuild read
 * for it last time (recorded beside the output), so `npm start` builds only
 * what is missing or stale.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_NAMES, type ServiceName } from '@switchyard/contracts';
import { build, type Plugin } from 'esbuild';
import { ROOT } from './infra.ts';

interface Target {
  name: string;
  entry: string;
  outfile: string;
}

const distOf = (service: ServiceName) => join(ROOT, 'services', service, 'dist');

/** The compiled entry point of a service. */
export const compiledMain = (service: ServiceName) => join(distOf(service), 'main.js');
export const compiledCli = () => join(distOf('gateway'), 'cli.js');
/** The provisioning step (see services/kit/src/provision-main.ts). */
export const compiledProvision = () => join(ROOT, 'services', 'kit', 'dist', 'provision.js');
/** The container image's HEALTHCHECK (see services/kit/src/healthcheck.ts). */
export const compiledHealthcheck = () => join(ROOT, 'services', 'kit', 'dist', 'healthcheck.js');

const targets = (): Target[] => [
  ...SERVICE_NAMES.map((s) => ({ name: s, entry: join(ROOT, 'services', s, 'src', 'main.ts'), outfile: compiledMain(s) })),
  { name: 'gateway cli', entry: join(ROOT, 'services', 'gateway', 'src', 'cli.ts'), outfile: compiledCli() },
  { name: 'migrate worker', entry: join(ROOT, 'services', 'kit', 'src', 'migrate-worker.ts'), outfile: join(ROOT, 'services', 'kit', 'dist', 'migrate-worker.js') },
  { name: 'provision', entry: join(ROOT, 'services', 'kit', 'src', 'provision-main.ts'), outfile: compiledProvision() },
  { name: 'healthcheck', entry: join(ROOT, 'services', 'kit', 'src', 'healthcheck.ts'), outfile: compiledHealthcheck() },
];

/** Bare imports stay external, except our own workspaces, which are bundled from source. */
const externalPackages: Plugin = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@switchyard/') ? undefined : { path: args.path, external: true }));
  },
};

const inputsFile = (t: Target) => `${t.outfile}.inputs.json`;

function stale(t: Target): boolean {
  if (!existsSync(t.outfile) || !existsSync(inputsFile(t))) return true;
  const builtAt = statSync(t.outfile).mtimeMs;
  const inputs = JSON.parse(readFileSync(inputsFile(t), 'utf8')) as string[];
  return inputs.some((f) => {
    const p = join(ROOT, f);
    return !existsSync(p) || statSync(p).mtimeMs > builtAt;
  });
}

async function buildOne(t: Target) {
  mkdirSync(join(t.outfile, '..'), { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [t.entry],
    outfile: t.outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    // The oldest Node the project supports (package.json engines).
    target: 'node20.11',
    sourcemap: 'linked',
    // Source paths in the map are relative to the map; keep the TypeScript itself out of it.
    sourcesContent: false,
    metafile: true,
    logLevel: 'warning',
    plugins: [externalPackages],
  });
  // Paths relative to absWorkingDir, i.e. the repository root.
  const inputs = Object.keys(result.metafile.inputs);
  writeFileSync(inputsFile(t), JSON.stringify(inputs));
}

/** Builds what is missing or stale (or everything with `force`); returns the names built. */
export async function buildServices(opts: { force?: boolean } = {}): Promise<string[]> {
  const todo = targets().filter((t) => opts.force || stale(t));
  await Promise.all(todo.map(buildOne));
  return todo.map((t) => t.name);
}
