import { ClientRequest, IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { withoutQuery } from '../../src/observability/tracing.ts';

function attributesOf(request: ClientRequest | IncomingMessage): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  withoutQuery({ setAttribute: (key, value) => { attributes[key] = value; return undefined as never; } }, request);
  return attributes;
}

function incoming(url: string): IncomingMessage {
  const message = new IncomingMessage(new Socket());
  message.url = url;
  return message;
}

describe('what a request span keeps of its address', () => {
  it('drops the query and a delivery receipt\'s secret in the path, and keeps any other path', () => {
    expect(attributesOf(incoming('/interaction/abc?login_hint=alice'))).toEqual({ 'url.query': 'redacted' });
    expect(attributesOf(incoming('/sms/receipts/acme/s3cr3t-path-secret'))).toEqual({ 'url.path': '/sms/receipts/acme/redacted' });
    expect(attributesOf(incoming('/sms/receipts/acme'))).toEqual({});
    expect(attributesOf(incoming('/token'))).toEqual({});
  });
});
