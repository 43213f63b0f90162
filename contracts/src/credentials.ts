import { z } from 'zod';
import { text } from './text.ts';
import { defineRequest } from './requests.ts';

/** A secret as the credentials service stores it: any JSON object, encrypted at rest. */
export const Secret = z.record(text(), z.unknown());
export type Secret = z.infer<typeof Secret>;

const Owner = { tenant_id: text().min(1), integration_id: z.uuid() };

export const StoreCredentialRequest = z.object({ ...Owner, secret: Secret });
export type StoreCredentialRequest = z.infer<typeof StoreCredentialRequest>;
export const StoredCredential = z.object({ integration_id: z.uuid(), master_key_id: text(), version: z.number().int() });
export type StoredCredential = z.infer<typeof StoredCredential>;

export const CredentialRef = z.object(Owner);
export type CredentialRef = z.infer<typeof CredentialRef>;
export const RevealedCredential = z.object({ integration_id: z.uuid(), secret: Secret, version: z.number().int() });
export type RevealedCredential = z.infer<typeof RevealedCredential>;

export const DeletedCredential = z.object({ deleted: z.boolean() });
export type DeletedCredential = z.infer<typeof DeletedCredential>;

export const RotateMasterKeyRequest = z.object({}).strict();
export const MasterKeyRotation = z.object({
  active_key_id: text(),
  previous_key_ids: z.array(text()),
  /** Records still wrapped by an older key when the answer was sent (re-wrapping goes on in the background). */
  pending_rewrap: z.number().int(),
});
export type MasterKeyRotation = z.infer<typeof MasterKeyRotation>;

export const KeyRingStatusRequest = z.object({}).strict();
export const KeyRingStatus = z.object({
  active_key_id: text(),
  keys: z.array(z.object({ id: text(), created_at: z.iso.datetime(), records: z.number().int(), retired: z.boolean() })),
});
export type KeyRingStatus = z.infer<typeof KeyRingStatus>;

/**
 * `credentials.reveal` is the only path to plaintext. Which services may send
 * it is enforced by NATS subject permissions (deploy/nats), not by this file.
 */
export const credentialRequests = {
  store: defineRequest('credentials', 'store', StoreCredentialRequest, StoredCredential),
  reveal: defineRequest('credentials', 'reveal', CredentialRef, RevealedCredential),
  delete: defineRequest('credentials', 'delete', CredentialRef, DeletedCredential),
  rotateMasterKey: defineRequest('credentials', 'master_key.rotate', RotateMasterKeyRequest, MasterKeyRotation, 30_000),
  keyRing: defineRequest('credentials', 'master_key.status', KeyRingStatusRequest, KeyRingStatus),
} as const;
