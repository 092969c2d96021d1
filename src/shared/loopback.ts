/** Whether a URL names this machine: where Keystep allows plain http (development, tests). */
export const isLoopback = (url: URL): boolean => ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);

/** An upstream issuer Keystep may use: https, or http on this machine; else why not. */
export function upstreamIssuerProblem(issuer: string): string | undefined {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return `${issuer} is not an absolute URL`;
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url))) return undefined;
  return `${issuer} must use https (http only on localhost)`;
}
