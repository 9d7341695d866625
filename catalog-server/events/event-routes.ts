import { Type } from '@sinclair/typebox';
import type { App } from '../../common/base-app';
import { requireToken } from '../../common/auth';
import { errors } from '../../common/errors';
import { ErrorBody, EventAck } from '../../common/schemas';
import type { ChangeFeed } from './change-feed';

/** The change stream frontends subscribe to, and the acknowledgement they send back for each event applied. */
export function registerEventRoutes(app: App, feed: ChangeFeed, token: string | undefined): void {
  const checkToken = requireToken(token);

  app.get('/events', { onRequest: checkToken, schema: { response: { 401: ErrorBody } } }, async (request, reply) => {
    reply.hijack();
    feed.subscribe(reply.raw);
    request.log.debug('change stream opened');
  });

  app.post(
    '/events/ack',
    {
      onRequest: checkToken,
      logLevel: 'warn',
      schema: {
        body: Type.Object(
          { subscriber: Type.String({ minLength: 1, maxLength: 64 }), seq: Type.Integer({ minimum: 0 }) },
          { additionalProperties: false },
        ),
        response: { 200: EventAck, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      // 404 tells a frontend it was cut off, so it flushes and subscribes again.
      if (!feed.ack(request.body.subscriber, request.body.seq)) throw errors.subscriberNotFound(request.body.subscriber);
      return { seq: feed.lastSeq };
    },
  );
}
