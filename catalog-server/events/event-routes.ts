import { Type } from '@sinclair/typebox';
import type { App } from '../../common/base-app';
import { requireToken } from '../../common/auth';
import { errors } from '../../common/errors';
import { BODY_ERRORS, errorReplies, textReply } from '../../common/api-docs';
import { EventAck } from '../../common/schemas';
import type { ChangeFeed } from './change-feed';

/** The change stream frontends subscribe to, and the acknowledgement they send back for each event applied. */
export function registerEventRoutes(app: App, feed: ChangeFeed, token: string | undefined): void {
  const checkToken = requireToken(token);

  const events = {
    operationId: 'streamChanges',
    summary: 'Server-sent events: one per change to a book, for frontends to keep their caches fresh',
    description: 'Each event must be acknowledged (acknowledgeChange) in time, or the subscriber is cut off.',
    response: { 200: textReply('text/event-stream', 'The change stream; it stays open'), ...errorReplies(401) },
  };
  app.get('/events', { onRequest: checkToken, schema: events }, async (request, reply) => {
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
        operationId: 'acknowledgeChange',
        summary: 'A subscriber says it applied every change up to `seq`',
        body: Type.Object(
          { subscriber: Type.String({ minLength: 1, maxLength: 64 }), seq: Type.Integer({ minimum: 0 }) },
          { additionalProperties: false },
        ),
        response: { 200: EventAck, ...errorReplies(...BODY_ERRORS, 401, 404) },
      },
    },
    async (request) => {
      // 404 tells a frontend it was cut off, so it flushes and subscribes again.
      if (!feed.ack(request.body.subscriber, request.body.seq)) throw errors.subscriberNotFound(request.body.subscriber);
      return { seq: feed.lastSeq };
    },
  );
}
