import { fileURLToPath } from 'node:url';
import path from 'node:path';
import pug from 'pug';
import type { Context } from 'koa';

export const viewsDir = fileURLToPath(new URL('../../views', import.meta.url));

export interface Views {
  render(name: string, model: Record<string, unknown>): string;
}

export function createViews(serviceName: string, dir = viewsDir): Views {
  const compiled = new Map<string, pug.compileTemplate>();
  return {
    render(name, model) {
      let template = compiled.get(name);
      if (!template) {
        template = pug.compileFile(path.join(dir, `${name}.pug`));
        compiled.set(name, template);
      }
      return template({ serviceName, ...model });
    },
  };
}

export function sendPage(ctx: Context, views: Views, name: string, model: Record<string, unknown>, status = 200): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = views.render(name, model);
}

export function redirect303(ctx: Context, location: string): void {
  ctx.status = 303;
  ctx.redirect(location);
}
