export { ConnectionFailure } from './errors.ts';
export { connectOptions, type ConnectPlan } from './connect-plan.ts';
export { testConnection } from './connect.ts';
export { discover, type DiscoverOptions } from './discover.ts';
export { diffCatalogs } from './diff.ts';
// The target policy lives in the kit (the webhook dispatcher shares it). These two stay
// for the sync-worker's app and job, which pass the policy through to discover().
export { targetPolicyFrom, type TargetPolicy } from '@switchyard/kit';
