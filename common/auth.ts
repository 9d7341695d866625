import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { errors } from './errors';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * A hook that admits only requests carrying `Authorization: Bearer <token>`. Both sides are hashed first so
 * the comparison is constant-time whatever the lengths. With no token configured (allowed only on loopback, see
 * config.ts) every request is admitted.
 */
export function requireToken(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token);
  return async function checkToken(request: FastifyRequest): Promise<void> {
    if (expected === undefined) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer (\S+)$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]), expected)) throw errors.unauthorized();
  };
}

export function authHeaders(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}
