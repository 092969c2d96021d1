import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

// Field names that may hold a secret are censored wherever they appear in a log object.
const secretFields = [
  'password', 'otp', 'token', 'secret', 'client_secret', 'authorization', 'cookie',
  'access_token', 'refresh_token', 'id_token', 'backupCode', 'phone', 'headers.authorization',
  'headers.cookie', 'req.headers.authorization', 'req.headers.cookie',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'keystep' },
    redact: { paths: [...secretFields, ...secretFields.map((f) => `*.${f}`)], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
