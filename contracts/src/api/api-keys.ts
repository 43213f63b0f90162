import { z } from 'zod';
import { text } from '../text.ts';
import { pageOf } from './pagination.ts';

export const Role = z.enum(['admin', 'editor', 'viewer']);
export type Role = z.infer<typeof Role>;

export const CreateApiKeyBody = z
  .object({
    name: text().trim().min(1).max(100).describe('A label to recognise the key by'),
    role: Role.default('viewer'),
  })
  .strict();
export type CreateApiKeyBody = z.infer<typeof CreateApiKeyBody>;

export const ApiKey = z.object({
  id: z.uuid(),
  name: text(),
  role: Role,
  tenant_id: text(),
  prefix: text().describe('The first characters of the key, to tell keys apart'),
  created_at: z.iso.datetime(),
  last_used_at: z.iso.datetime().nullable(),
});
export type ApiKey = z.infer<typeof ApiKey>;

export const CreatedApiKey = ApiKey.extend({
  key: text().describe('The secret. Shown once; only its hash is stored.'),
});
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

export const ApiKeyList = pageOf(ApiKey);
export type ApiKeyList = z.infer<typeof ApiKeyList>;

export const ApiKeyParams = z.object({ id: z.uuid() });
export type ApiKeyParams = z.infer<typeof ApiKeyParams>;

