import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isConnectionLost } from './connection-lost';
import { AppError, errorBody, errors, type ErrorCode } from './errors';

/** Renders a browser-facing error page, or returns undefined to answer with JSON. */
export type ErrorPageRenderer = (request: FastifyRequest, error: AppError) => string | undefined;

/** Fastify's other client errors, by status: the code that says what it means (the status follows from it). */
const GENERIC_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'validation_failed',
  404: 'not_found',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
};

/** Maps Fastify's own client errors (bad JSON, unknown media type, schema failures) to our coded errors. */
function toAppError(error: FastifyError, request: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  // The database restarting or failing over is no bug: the caller may try again, and the service goes on by itself.
  if (isConnectionLost(error)) return errors.databaseUnavailable();
  if (error.validation) {
    const first = error.validation[0];
    if (error.validationContext === 'params' && first?.instancePath === '/n') {
      return errors.invalidItemNumber(String((request.params as { n?: unknown }).n ?? ''));
    }
    return errors.validationFailed(describeValidation(error));
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return errors.validationFailed('the request body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'send the request body as application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'the request body is too large');
    case 'FST_ERR_BAD_URL':
      return errors.validationFailed('the URL is malformed');
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return new AppError(GENERIC_CODES[status] ?? 'bad_request', error.message);
  return errors.internal();
}

function describeValidation(error: FastifyError): string {
  const first = error.validation?.[0];
  if (!first) return error.message;
  const where = `${error.validationContext ?? 'request'}${first.instancePath.replace(/\//g, '.')}`;
  if (first.keyword === 'minProperties') return `${where} must name at least one field`;
  if (first.keyword === 'additionalProperties') {
    return `${where} has an unknown field '${String(first.params.additionalProperty)}'`;
  }
  return `${where} ${first.message ?? 'is invalid'}`;
}

export type ErrorHandler = (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => FastifyReply;

/** Answers every failure with a coded error: logged with detail when it is ours to fix, answered without it. */
export function makeErrorHandler(renderPage?: ErrorPageRenderer): ErrorHandler {
  return function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    const appError = toAppError(error, request);
    if (appError.code === 'internal_error' && !(error instanceof AppError)) {
      // Only here do we see the detail; the client gets the generic internal_error.
      request.log.error({ err: error }, 'unhandled error');
    } else if (appError.statusCode >= 500) {
      request.log.warn({ code: appError.code, ...(error === appError ? {} : { reason: error.message }) }, appError.message);
    }
    reply.code(appError.statusCode).headers(appError.headers);
    const page = renderPage?.(request, appError);
    if (page !== undefined) return reply.type('text/html; charset=utf-8').send(page);
    return reply.type('application/json; charset=utf-8').send(errorBody(appError.code, appError.message));
  };
}

/** Errors thrown anywhere, and URLs no route matches (a coded 404 like any other), go through `handleError`. */
export function registerErrorHandling(app: FastifyInstance, handleError: ErrorHandler): void {
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(async (request) => {
    throw errors.routeNotFound(request.method, request.url);
  });
}
