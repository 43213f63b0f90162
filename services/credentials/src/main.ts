import { serviceMain } from '@switchyard/kit';
import pkg from '../package.json' with { type: 'json' };
import { buildApp, definition } from './app.ts';

await serviceMain({
  ...definition,
  version: pkg.version,
  build: async (rt, config) => {
    await buildApp(rt, config);
  },
});
