import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import iconv from 'iconv-lite';
import { writeJson } from '../../domain/json-output';
import { operationForRestPath } from '../../domain/operations';
import { ReturnCode, defaultMessage } from '../../domain/return-codes';
import type { MessageHandler } from '../message';
import { requestIdFor } from '../request-id';

export interface RestOptions {
  bodyLimitBytes: number;
  /** DECISIONS §2.2: `text/html` (the spec's unified header) or `application/json`. */
  contentType: 'text/html' | 'application/json';
}

/**
 * REST transport (spec §4.1, §5.3; DECISIONS §2.2): `POST /rest/Standard/<path>` or
 * `/{tenantCode}/rest/Standard/<path>`. The body is the payload (plaintext JSON or EncryptData);
 * DisperseKey and MacValue travel as headers, in both directions. Business outcomes are HTTP 200.
 */
export function createRestRouter(handler: MessageHandler, options: RestOptions): Router {
  const router = express.Router();
  const readBody = express.raw({ type: () => true, limit: options.bodyLimitBytes });
  const answer = (request: Request, response: Response) =>
    handleRestCall(handler, options, request, response);

  router.post(['/rest/Standard/*path', '/:tenantCode/rest/Standard/*path'], readBody, answer);
  router.all(['/rest/Standard/*path', '/:tenantCode/rest/Standard/*path'], (request, response) =>
    sendCode(response, options, 405, ReturnCode.ParseFailed, '请使用 POST 方法调用接口'),
  );
  router.use(restErrorHandler(options));
  return router;
}

async function handleRestCall(
  handler: MessageHandler,
  options: RestOptions,
  request: Request,
  response: Response,
): Promise<void> {
  const requestId = requestIdFor(request);
  response.setHeader('X-Request-Id', requestId);

  const suffix = request.path.replace(/^(\/[^/]+)?\/rest\/Standard/i, '');
  const operation = operationForRestPath(suffix);
  if (!operation) {
    sendCode(response, options, 404, ReturnCode.MissingOrInvalidField, `没有这个接口：${suffix}`);
    return;
  }

  const body = decodeBody(request);
  if (body === undefined) {
    sendCode(response, options, 200, ReturnCode.ParseFailed, '传入参数解析失败：不支持的字符集');
    return;
  }

  const result = await handler({
    transport: 'rest',
    operation,
    tenantCode: request.params.tenantCode as string | undefined,
    encryptData: body,
    disperseKey: request.get('DisperseKey') ?? '',
    macValue: request.get('MacValue') ?? '',
    requestId,
    remoteAddress: request.ip,
  });
  response.setHeader('DisperseKey', result.disperseKey);
  response.setHeader('MacValue', result.macValue);
  send(response, options, 200, result.encryptData);
}

/** UTF-8 unless the Content-Type names another charset (DECISIONS §2.2). */
function decodeBody(request: Request): string | undefined {
  const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const charset = /charset\s*=\s*"?([\w.:-]+)"?/i.exec(request.get('content-type') ?? '')?.[1];
  const encoding = charset ?? 'utf-8';
  if (!iconv.encodingExists(encoding)) return undefined;
  return iconv.decode(raw, encoding);
}

function sendCode(response: Response, options: RestOptions, status: number, code: number, message?: string): void {
  send(response, options, status, writeJson({ ReturnCode: code, ReturnMessage: message ?? defaultMessage(code) }));
}

function send(response: Response, options: RestOptions, status: number, body: string): void {
  response.status(status);
  response.setHeader('Content-Type', `${options.contentType};charset=utf-8`);
  response.send(Buffer.from(body, 'utf8'));
}

/**
 * Body-reading failures still get a JSON answer, never an HTML page. A body over the limit is
 * HTTP 413; one that cannot be decoded (a Content-Encoding it does not have, an unknown encoding)
 * is an unreadable payload like malformed JSON: HTTP 200 with 80002001 (DECISIONS §2.2, §4), so
 * that a CIS client that reads only 200 answers still sees why.
 */
function restErrorHandler(options: RestOptions) {
  return (error: unknown, _request: Request, response: Response, next: NextFunction) => {
    if (response.headersSent) return next(error);
    const status = (error as { status?: number }).status ?? 500;
    if (status === 413) {
      sendCode(response, options, 413, ReturnCode.ParseFailed, '传入参数解析失败：请求内容过大');
    } else if (status >= 400 && status < 500) {
      sendCode(response, options, 200, ReturnCode.ParseFailed, '传入参数解析失败：请求内容无法解码（请检查 Content-Encoding）');
    } else {
      sendCode(response, options, 500, ReturnCode.ParseFailed, '传入参数解析失败');
    }
  };
}
