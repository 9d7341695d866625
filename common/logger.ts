import type { FastifyServerOptions } from 'fastify';
import type { LogLevel } from './config';

/** pino options shared by the three services: JSON lines, service name on each, the shared token never written. */
export function loggerOptions(service: string, level: LogLevel): FastifyServerOptions['logger'] {
  return {
    level,
    base: { service },
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'token', '*.token'],
      censor: '[redacted]',
    },
  };
}
