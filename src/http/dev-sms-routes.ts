import Router from '@koa/router';
import { sendPage, type Views } from './views.ts';

/** `/dev/sms`: the messages the development console sender "sent", newest first. */
export function devSmsRoutes(inbox: () => readonly { at: Date; to: string; text: string }[], views: Views): Router {
  const router = new Router();
  router.get('/dev/sms', (ctx) => {
    sendPage(ctx, views, 'dev-sms', { title: 'title.dev-sms', messages: inbox() });
  });
  return router;
}
