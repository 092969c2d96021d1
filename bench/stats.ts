export interface Summary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

/** Nearest-rank percentiles of durations in milliseconds. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { count: 0, p50: 0, p95: 0, p99: 0, mean: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    count: sorted.length,
    p50: round(at(50)),
    p95: round(at(95)),
    p99: round(at(99)),
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
    max: round(sorted.at(-1)!),
  };
}
