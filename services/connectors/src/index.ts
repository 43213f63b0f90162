export { ConnectionFailure } from './errors.ts';
export { connectOptions, testConnection, type ConnectPlan } from './connect.ts';
export { discover, type DiscoverOptions } from './discover.ts';
export { diffCatalogs } from './diff.ts';
export { resolveTarget, targetPolicyConfig, targetPolicyFrom, type TargetPolicy } from './target-policy.ts';
