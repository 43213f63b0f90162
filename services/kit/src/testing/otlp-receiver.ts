import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  service: string;
  /** Every resource attribute of the span's resource, as strings. */
  resource: Record<string, string>;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
}

/** OTLP ids arrive as hex (OTLP/JSON) or base64 (some encoders); normalise to hex. */
const hex = (id: unknown): string => {
  if (typeof id !== 'string' || !id) return '';
  return /^[0-9a-f]+$/i.test(id) && (id.length === 32 || id.length === 16) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
};

/**
 * An in-process OTLP/HTTP trace receiver: services export to it and a test
 * waits until the spans it expects have arrived. It decodes OTLP/JSON; any
 * request (JSON or protobuf) is recorded with its path and content type.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly requests: { path: string; contentType: string; bytes: number }[] = [];
  private server?: Server;
  private waiters: (() => void)[] = [];

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', bytes: Buffer.concat(chunks).length });
        try {
          this.ingest(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          // protobuf or junk: ignored (the services export JSON)
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private ingest(body: { resourceSpans?: unknown[] }) {
    for (const rs of (body.resourceSpans ?? []) as {
      resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
      scopeSpans?: { spans?: Record<string, unknown>[] }[];
    }[]) {
      const resource = Object.fromEntries((rs.resource?.attributes ?? []).map((a) => [a.key, String(a.value.stringValue ?? '')]));
      const service = resource['service.name'] ?? '';
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? [])
          this.spans.push({
            service,
            resource,
            traceId: hex(s.traceId),
            spanId: hex(s.spanId),
            parentSpanId: hex(s.parentSpanId),
            name: String(s.name),
            kind: Number(s.kind),
          });
    }
    this.waiters.splice(0).forEach((w) => w());
  }

  /** Resolves when `match` holds over the received spans; rejects after `timeoutMs`. */
  async waitFor(what: string, match: (spans: ReceivedSpan[]) => boolean, timeoutMs = 15_000): Promise<ReceivedSpan[]> {
    const deadline = Date.now() + timeoutMs;
    while (!match(this.spans)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for spans: ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.spans;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
