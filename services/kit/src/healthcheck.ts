/**
 * The container image's HEALTHCHECK: exits 0 when this container's service
 * answers /healthz on its health port (HEALTH_PORT, or the service's default).
 * Liveness only: compose and Kubernetes probe /readyz themselves.
 */
import { HEALTH_PORTS, ServiceName } from '@switchyard/contracts';

const service = ServiceName.safeParse(process.env.SERVICE);
const port = process.env.HEALTH_PORT || (service.success ? HEALTH_PORTS[service.data] : undefined);
if (!port) {
  console.error('set SERVICE (or HEALTH_PORT)');
  process.exit(1);
}
fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(4_000) }).then(
  (r) => process.exit(r.ok ? 0 : 1),
  () => process.exit(1),
);
