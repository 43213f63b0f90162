import { changeSetPath, type SchemaChange, type SchemaChanged } from '@switchyard/contracts';
import { fitting, jsonBytes, maxMessageBytes } from '@switchyard/kit';

// The CloudEvents envelope around the data (id, source, type, time, subject, tenantid) takes well under this.
const ENVELOPE_ROOM = 1_024;

/**
 * The data of events.schema.changed: the first changes of the set, as many as
 * fit in one event (OUTBOX_MAX_MESSAGE_BYTES), its total, and where the API
 * serves the whole set. Events are small; change sets need not be.
 */
export function schemaChanged(
  s: { integrationId: string; tenantId: string; syncId: string; previousSyncId: string },
  changes: SchemaChange[],
): SchemaChanged {
  const data: SchemaChanged = {
    integration_id: s.integrationId,
    tenant_id: s.tenantId,
    sync_id: s.syncId,
    previous_sync_id: s.previousSyncId,
    changes: [],
    total: changes.length,
    truncated: true,
    changes_url: changeSetPath(s.integrationId, s.syncId),
  };
  const n = fitting(changes, maxMessageBytes() - jsonBytes(data) - ENVELOPE_ROOM);
  return { ...data, changes: changes.slice(0, n), truncated: n < changes.length };
}
