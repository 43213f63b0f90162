/**
 * Running Switchyard on one machine: local infrastructure, the build, the
 * process supervisor and the NATS configuration. Used by `npm start`,
 * `npm test`, the benchmarks and the end-to-end test helpers; never by a
 * service itself.
 */
export * from './build.ts';
export * from './infra.ts';
export * from './nats-config.ts';
export * from './supervisor.ts';
export * from './provision.ts';
