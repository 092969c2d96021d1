import { request } from 'node:http';

export interface RawRequest {
  method: string;
  /** Path and query, already encoded as they go on the wire. */
  path: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * One request exactly as given: any method, repeated headers, bytes that are not UTF-8 (fetch
 * refuses TRACE and rewrites bodies; this does neither). Fails after `timeoutMs` rather than hang.
 */
export function sendRaw(origin: string, raw: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  const url = new URL(origin);
  // Node frames a body of GET, DELETE, OPTIONS or TRACE neither by length nor in chunks: say its length.
  const headers = raw.body ? { 'content-length': String(raw.body.length), ...raw.headers } : raw.headers;
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname, port: url.port, method: raw.method, path: raw.path, headers,
      timeout: timeoutMs, setDefaultHeaders: true,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${raw.method} ${raw.path.slice(0, 200)} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(raw.body);
  });
}

/** A short, printable account of a request, for failure messages. */
export function describeRequest(raw: RawRequest): string {
  const body = raw.body ? ` body(${raw.body.length} bytes)=${JSON.stringify(raw.body.subarray(0, 300).toString('latin1'))}` : '';
  const headers = Object.entries(raw.headers ?? {}).filter(([k]) => k !== 'cookie').map(([k, v]) => `${k}: ${JSON.stringify(v).slice(0, 200)}`).join('; ');
  return `${raw.method} ${raw.path.slice(0, 500)}${raw.path.length > 500 ? '…' : ''} [${headers}]${body}`;
}
