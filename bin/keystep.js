#!/usr/bin/env node
import { tracingSettings } from '../src/config/tracing.ts';

// Traces need their instrumentations hooked before Keystep's modules are imported (ES modules are
// bound at import), so the rest is imported only after tracing started; without an OTLP endpoint
// no OpenTelemetry code is loaded at all.
const tracing = tracingSettings(process.env);
if (tracing) await (await import('../src/observability/tracing.ts')).startTracing(tracing);
const { main } = await import('../src/cli/main.ts');

await main(process.argv, process.env);
