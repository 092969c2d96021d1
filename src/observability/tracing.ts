import { register } from 'node:module';

export interface TracingOptions {
  serviceName: string;
  /** Where spans go instead of the OTLP exporter the SDK builds from `OTEL_EXPORTER_OTLP_*` (tests pass an in-memory one). */
  spanProcessors?: unknown[];
}

export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry with the http, koa and pg instrumentations. Keystep is ES modules: a module
 * imported before its instrumentation hooked it is never traced, so this runs first and the
 * caller imports the rest of Keystep afterwards. The loader hook (import-in-the-middle, through
 * the instrumentation package) wraps the modules imported after it is registered.
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const [{ NodeSDK }, { HttpInstrumentation }, { KoaInstrumentation }, { PgInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-koa'),
    import('@opentelemetry/instrumentation-pg'),
  ]);
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    instrumentations: [new HttpInstrumentation(), new KoaInstrumentation(), new PgInstrumentation()],
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors as never } : {}),
  });
  sdk.start();
  // Spans still batched go out before the process ends.
  process.once('beforeExit', () => void sdk.shutdown().catch(() => undefined));
  return { shutdown: () => sdk.shutdown() };
}
