import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from 'express';

import { silentLogger, type Logger } from '../../logger';
import type { MessageHandler } from '../message';
import { decodeSoapBody } from './body-decoding';
import { inspectEnvelope } from './envelope';
import { renderFault, SoapClientFault, type FaultKind } from './faults';
import { requestIdFor } from '../request-id';
import { createSoapEndpoint, type SoapEndpoint } from './soap-endpoint';
import { responseContentType, versionFromContentType, type SoapVersion } from './soap-version';
import { loadWsdlTemplate, WsdlPublisher } from './wsdl-document';

/** DECISIONS §2.1; a tenant's own endpoint is the same path under `/{tenantCode}` (§3.6). */
export const SOAP_ENDPOINT_PATH = '/WSI_MIDDataServices.asmx';

export interface SoapRouterOptions {
  /**
   * The base URL clients reach the platform at (e.g. `https://gas.example.com`), when a reverse
   * proxy stands in front. It replaces the scheme and host of the request in the published WSDL;
   * the request's path is kept. Unset: the address is the URL the client used, which honours
   * `X-Forwarded-Proto`/`X-Forwarded-Host` only if the express app sets `trust proxy`.
   */
  publicUrl?: string;
  /** The largest request body read; a larger one gets a client fault. */
  bodyLimitBytes: number;
  logger?: Logger;
  /** The WSDL file; wsdl/WSI_MIDDataServices.wsdl by default. */
  wsdlPath?: string;
  /**
   * Whether `/{tenantCode}/...` names a gas company the platform serves; its WSDL is refused
   * (404) otherwise, so that a CIS team sees a wrong address when it adds the Web Reference, not
   * at its first call. Unset: every tenant path is served.
   */
  servesTenant?: (tenantCode: string) => Promise<boolean>;
}

/** `ready` settles when node-soap has parsed the WSDL, so that start-up can fail fast on it. */
export type SoapRouter = Router & { ready: Promise<void> };

/**
 * The SOAP transport (DECISIONS §2.1), to be mounted at `/`. It answers at
 * `/WSI_MIDDataServices.asmx` and `/{tenantCode}/WSI_MIDDataServices.asmx`: GET `?wsdl` serves
 * the WSDL, POST reads, decodes and checks the envelope and hands it to node-soap, whose service
 * methods call `handler`. Requests node-soap could not read well are refused before it sees them.
 */
export function createSoapRouter(handler: MessageHandler, options: SoapRouterOptions): SoapRouter {
  const logger = options.logger ?? silentLogger;
  const template = loadWsdlTemplate(options.wsdlPath);
  const endpoint = createSoapEndpoint(handler, template, logger);
  endpoint.ready.catch((error: unknown) => {
    logger.error({ err: error }, 'node-soap cannot read the WSDL; every SOAP call will fault');
  });

  const router = express.Router();
  router
    .route([SOAP_ENDPOINT_PATH, `/:tenantCode${SOAP_ENDPOINT_PATH}`])
    .all(assignRequestId)
    .get(serveWsdl(new WsdlPublisher(template), options))
    .post(readBody(options.bodyLimitBytes), callOperation(endpoint), answerFault(logger))
    .all(refuseMethod);

  return Object.assign(router, { ready: endpoint.ready });
}

function assignRequestId(request: Request, response: Response, next: NextFunction): void {
  response.locals.requestId = requestIdFor(request);
  response.set('X-Request-Id', response.locals.requestId);
  next();
}

function serveWsdl(publisher: WsdlPublisher, options: SoapRouterOptions): RequestHandler {
  return async (request, response, next) => {
    const tenantCode = tenantCodeOf(request);
    try {
      if (tenantCode !== undefined && options.servesTenant && !(await options.servesTenant(tenantCode))) {
        response.status(404).type('text/plain; charset=utf-8');
        response.send(`No gas company with code ${tenantCode} is served here\n`);
        return;
      }
    } catch (error) {
      next(error);
      return;
    }
    if (!asksForWsdl(request)) {
      response.type('text/plain; charset=utf-8');
      response.send('WSI_MIDDataServices: the service description is at ?wsdl\n');
      return;
    }

    response.set('Content-Type', responseContentType('1.1'));
    response.send(publisher.documentFor(endpointAddress(request, options.publicUrl)));
  };
}

/** `?wsdl` in any case (`?WSDL`, `?Wsdl`), whatever query parser the app configured. */
function asksForWsdl(request: Request): boolean {
  const [, query = ''] = request.originalUrl.split('?', 2);
  return [...new URLSearchParams(query).keys()].some((name) => name.toLowerCase() === 'wsdl');
}

function endpointAddress(request: Request, publicUrl: string | undefined): string {
  const [path] = request.originalUrl.split('?', 1);
  if (publicUrl !== undefined) {
    return `${publicUrl.replace(/\/+$/, '')}${path}`;
  }

  const host = request.host || `${request.socket.localAddress}:${request.socket.localPort}`;
  return `${request.protocol}://${host}${path}`;
}

/**
 * The body is read here, not by node-soap, so that its size is limited and its charset honoured.
 * Every content type is accepted: SOAP 1.1 is `text/xml`, SOAP 1.2 `application/soap+xml`, and
 * hand-made clients send anything.
 */
function readBody(limit: number): RequestHandler {
  return express.raw({ limit, type: () => true });
}

function callOperation(endpoint: SoapEndpoint): RequestHandler {
  return async (request, response, next) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const text = decodeSoapBody(body, request.get('Content-Type'));
    const envelope = inspectEnvelope(text);

    await endpoint.dispatch(
      request,
      response,
      {
        ...envelope,
        text,
        requestId: response.locals.requestId as string,
        tenantCode: tenantCodeOf(request),
        remoteAddress: request.ip ?? request.socket.remoteAddress,
      },
      next,
    );
  };
}

function tenantCodeOf(request: Request): string | undefined {
  const tenantCode: unknown = request.params.tenantCode;
  return typeof tenantCode === 'string' ? tenantCode : undefined;
}

/**
 * The one place a POST turns into a fault. A request that cannot be read is the caller's
 * mistake (logged at info, STYLE §2); anything else is ours (logged at error, with its stack in
 * the log and never in the answer).
 */
function answerFault(logger: Logger) {
  return (error: unknown, request: Request, response: Response, next: NextFunction): void => {
    if (response.headersSent) return next(error);

    const requestId = response.locals.requestId as string;
    const fallbackVersion = versionFromContentType(request.get('Content-Type'));
    const clientReason = clientFaultReason(error);
    if (clientReason !== undefined) {
      const version = error instanceof SoapClientFault ? error.version : undefined;
      const tenantCode = tenantCodeOf(request);
      logger.info({ requestId, tenantCode, reason: clientReason }, 'SOAP request refused');
      sendFault(response, version ?? fallbackVersion, 'client', clientReason, requestId);
      return;
    }

    logger.error({ err: error, requestId }, 'SOAP request failed unexpectedly');
    sendFault(response, fallbackVersion, 'server', 'The service failed unexpectedly', requestId);
  };
}

/**
 * A reason to tell the caller, for the caller's mistakes: ours, and body-parser's (a body over
 * the limit, a broken compressed body, a length that does not match).
 */
function clientFaultReason(error: unknown): string | undefined {
  if (error instanceof SoapClientFault) return error.message;
  if (!isHttpError(error) || error.status >= 500) return undefined;
  if (error.type === 'entity.too.large') {
    return `The request body exceeds the limit of ${String(error.limit)} bytes`;
  }
  return error.message;
}

interface HttpError {
  status: number;
  message: string;
  type?: string;
  limit?: number;
}

function isHttpError(error: unknown): error is HttpError {
  return error instanceof Error && typeof (error as Partial<HttpError>).status === 'number';
}

/**
 * HTTP 500 for every fault, the oversized body included (not 413): DECISIONS §2.1 says so, as
 * ASMX does and SOAP 1.1 §6.2 requires, and .NET's SoapHttpClientProtocol reads the fault only
 * from a 500; on any other status it throws a bare WebException and the reason is lost.
 */
function sendFault(
  response: Response,
  version: SoapVersion,
  kind: FaultKind,
  reason: string,
  requestId: string,
): void {
  response.status(500);
  response.set('Content-Type', responseContentType(version));
  response.send(Buffer.from(renderFault(version, kind, reason, requestId), 'utf8'));
}

function refuseMethod(_request: Request, response: Response): void {
  response.set('Allow', 'GET, HEAD, POST');
  response.status(405).type('text/plain; charset=utf-8').send('Method Not Allowed\n');
}
