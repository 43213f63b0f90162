import { createRequire } from 'node:module';

/**
 * pg and ioredis are CommonJS. Loading them through require (rather than an
 * ESM import) lets OpenTelemetry's require hooks patch them, whatever loader
 * runs the TypeScript.
 */
export const requireCjs = createRequire(import.meta.url);
