export * from './errors.ts';
export * from './services.ts';
export * from './requests.ts';
export * from './events.ts';
export * from './jobs.ts';
export * from './streams.ts';
export * from './api/api-keys.ts';
export * from './api/system.ts';
