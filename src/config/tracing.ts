type Env = Record<string, string | undefined>;

const set = (value: string | undefined) => (value ?? '').trim() !== '';

/**
 * Whether to trace, by the OpenTelemetry convention: an OTLP endpoint is set. Read apart from the
 * other settings because tracing starts before the rest of Keystep is imported (see
 * `src/observability/tracing.ts`). The SDK reads the other `OTEL_*` variables itself (protocol,
 * headers, sampler).
 */
export function tracingSettings(env: Env): { serviceName: string } | undefined {
  if (!set(env.OTEL_EXPORTER_OTLP_ENDPOINT) && !set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)) return undefined;
  return { serviceName: set(env.OTEL_SERVICE_NAME) ? env.OTEL_SERVICE_NAME!.trim() : 'keystep' };
}
