import type PgModule from 'pg';
import { requireCjs } from '@switchyard/kit';

export type { Client, ClientConfig, QueryResult } from 'pg';

/** pg, loaded through require so OpenTelemetry's require hook can patch it (see the kit's cjs.ts). */
export const pg = (): typeof PgModule => requireCjs('pg') as typeof PgModule;
