import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** A server around the request handler, sweeping expired rows every `sweepIntervalSeconds` while it listens. */
export function serverLifecycle(handler: (req: IncomingMessage, res: ServerResponse) => void, sweep: () => Promise<void>, sweepIntervalSeconds: number) {
  let server: Server | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  return {
    listen(port: number, host?: string): Promise<Server> {
      return new Promise((resolve, reject) => {
        const listening = createServer(handler);
        server = listening;
        listening.once('error', reject);
        listening.listen(port, host, () => {
          sweeper = setInterval(() => void sweep(), sweepIntervalSeconds * 1000);
          sweeper.unref();
          resolve(listening);
        });
      });
    },
    async close(): Promise<void> {
      if (sweeper) clearInterval(sweeper);
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
    },
  };
}
