import Router from '@koa/router';

export interface ReadinessCheck {
  name: string;
  check(): Promise<{ ok: boolean; detail?: Record<string, unknown> }>;
}

/** /healthz says the process is up; /readyz says it can serve logins (database reachable, …). */
export function healthRoutes(checks: ReadinessCheck[]): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const results: Record<string, unknown> = {};
    let ready = true;
    for (const { name, check } of checks) {
      const result = await check().catch(() => ({ ok: false, detail: { error: 'check failed' } }));
      results[name] = { status: result.ok ? 'ok' : 'failing', ...result.detail };
      ready &&= result.ok;
    }
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ok' : 'unavailable', checks: results };
  });
  return router;
}
