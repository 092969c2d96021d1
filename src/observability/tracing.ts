import { ClientRequest, type IncomingMessage } from 'node:http';
import { register } from 'node:module';
import type { Span } from '@opentelemetry/api';
import type { NodeSDKConfiguration } from '@opentelemetry/sdk-node';

export interface TracingOptions {
  serviceName: string;
  /** Where spans go instead of the OTLP exporter the SDK builds from `OTEL_EXPORTER_OTLP_*` (tests pass an in-memory one). */
  spanProcessors?: NodeSDKConfiguration['spanProcessors'];
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
    instrumentations: [new HttpInstrumentation({ requestHook: withoutQuery }), new KoaInstrumentation(), new PgInstrumentation()],
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}),
  });
  sdk.start();
  // Spans still batched go out before the process ends.
  process.once('beforeExit', () => void sdk.shutdown().catch(() => undefined));
  return { shutdown: () => sdk.shutdown() };
}

/**
 * Query strings stay out of spans: a gateway's GET template carries the number and the code, and
 * requests to Keystep carry `login_hint` and `id_token_hint`. The path is kept, but for a delivery
 * receipt's secret in its last segment (`/sms/receipts/<gateway>/<secret>`).
 */
export function withoutQuery(span: Pick<Span, 'setAttribute'>, request: ClientRequest | IncomingMessage): void {
  if (request instanceof ClientRequest) {
    const path = request.path.split('?')[0];
    const host = request.getHeader('host') ?? request.host;
    span.setAttribute('url.full', `${request.protocol}//${String(host)}${path}`);
    return;
  }
  const [path = '', query] = (request.url ?? '').split('?');
  if (query !== undefined) span.setAttribute('url.query', 'redacted');
  const receipt = /^(\/sms\/receipts\/[^/]+)\/[^/]+/.exec(path);
  if (receipt) span.setAttribute('url.path', `${receipt[1]}/redacted`);
}
