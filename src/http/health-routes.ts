import Router from '@koa/router';

export interface ReadinessCheck {
  name: string;
  check(): Promise<{ ok: boolean; detail?: Record<string, unknown> }>;
}

type Result = { ok: boolean; detail?: Record<string, unknown> };

/** A check that has not answered within the limit has failed: a hung database must not hang /readyz. */
function within(timeoutMs: number, check: () => Promise<Result>): Promise<Result> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Result>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: { error: `no answer within ${timeoutMs} ms` } }), timeoutMs);
  });
  const answer = check().catch((): Result => ({ ok: false, detail: { error: 'check failed' } }));
  return Promise.race([answer, late]).finally(() => clearTimeout(timer));
}

/** /healthz says the process is up; /readyz says it can serve logins (database reachable, …). */
export function healthRoutes(checks: ReadinessCheck[], timeoutMs: number): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const outcomes = await Promise.all(checks.map(({ check }) => within(timeoutMs, check)));
    const results: Record<string, unknown> = {};
    checks.forEach(({ name }, i) => {
      const result = outcomes[i]!;
      results[name] = { status: result.ok ? 'ok' : 'failing', ...result.detail };
    });
    const ready = outcomes.every((r) => r.ok);
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ok' : 'unavailable', checks: results };
  });
  return router;
}
