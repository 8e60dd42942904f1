// OpenTelemetry tracing (opt-in: OTEL_ENABLED=true). Exporter and endpoint follow the standard
// OTEL_* environment variables (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT, ...).
import { NodeSDK } from '@opentelemetry/sdk-node';

let sdk: NodeSDK | null = null;

export async function startTracing(serviceName: string): Promise<void> {
  if (sdk) return;
  process.env.OTEL_SERVICE_NAME ??= serviceName;
  sdk = new NodeSDK({ serviceName });
  sdk.start();
  process.once('beforeExit', () => void sdk?.shutdown());
}
