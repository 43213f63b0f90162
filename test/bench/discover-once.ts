/**
 * One discovery in a process of its own, so its peak RSS is discovery's
 * alone. Usage: discover-once.ts '<PostgresCredential JSON>'. Prints one JSON
 * line: { ms, maxRssMiB, relations }.
 */
import { discover } from '@switchyard/connectors';
import { PostgresCredential } from '@switchyard/contracts';

const cred = PostgresCredential.parse(JSON.parse(process.argv[2] ?? '{}'));
const began = performance.now();
const catalog = await discover(cred, { timeoutMs: 10_000, queryTimeoutMs: 600_000 });
const ms = performance.now() - began;
// maxRSS is in KiB.
const maxRssMiB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ ms: Math.round(ms), maxRssMiB: Math.round(maxRssMiB * 10) / 10, relations: catalog.relations.length }));
