// `keystep serve` with tracing started first, as bin/keystep.js starts it, but with the spans kept
// in memory: the parent asks for them over the IPC channel (`fork`).
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startTracing } from '../../src/observability/tracing.ts';

const exporter = new InMemorySpanExporter();
await startTracing({ serviceName: 'keystep-test', spanProcessors: [new SimpleSpanProcessor({ exporter })] });

export interface SpanSummary {
  name: string;
  scope: string;
  traceId: string;
  attributes: Record<string, unknown>;
}

process.on('message', (message) => {
  if (message !== 'spans') return;
  const spans: SpanSummary[] = exporter.getFinishedSpans().map((span) => ({
    name: span.name, scope: span.instrumentationScope.name, traceId: span.spanContext().traceId, attributes: { ...span.attributes },
  }));
  process.send!(spans);
});

const { main } = await import('../../src/cli/main.ts');
await main(['node', 'keystep', 'serve'], process.env);
