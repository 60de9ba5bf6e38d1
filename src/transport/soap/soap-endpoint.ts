import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { Server, WSDL, type IServices, type ISoapServiceMethod } from 'soap';

import { OPERATION_NAMES, type OperationName } from '../../domain/operations';
import type { Logger } from '../../logger';
import type { InboundMessage, MessageHandler, OutboundMessage } from '../message';
import { nodeSoapServerFault, SoapClientFault } from './faults';
import { responseContentType, transportFor, type SoapVersion } from './soap-version';

/**
 * The node-soap half of the adapter: one node-soap server per SOAP version, because node-soap
 * answers in the envelope version of its WSDL options (`forceSoap12Headers`), not in the version
 * of the request. Each server listens on a private express Router that is never mounted; the
 * public router (soap-router.ts) hands it only requests it has already read and checked.
 */
export interface SoapEndpoint {
  /** Settles when node-soap has parsed the WSDL; rejects with its error. */
  ready: Promise<void>;
  /**
   * Hands a checked request to node-soap, which answers on `response` by itself. `next` gets
   * whatever node-soap did not take (its route is not there until the WSDL is parsed).
   */
  dispatch(request: Request, response: Response, call: SoapCall, next: NextFunction): Promise<void>;
}

/** A request the public router has read, decoded and checked. */
export interface SoapCall {
  version: SoapVersion;
  operation: OperationName;
  text: string;
  requestId: string;
  tenantCode?: string;
  remoteAddress?: string;
}

/** node-soap hands each service method the request it was given; the call rides along on it. */
const calls = new WeakMap<object, SoapCall>();

const RESULT_MIN = -2147483648;
const RESULT_MAX = 2147483647;

export function createSoapEndpoint(
  handler: MessageHandler,
  wsdlText: string,
  logger: Logger,
): SoapEndpoint {
  const servers = {
    '1.1': listenNodeSoap('1.1', handler, wsdlText, logger),
    '1.2': listenNodeSoap('1.2', handler, wsdlText, logger),
  };
  const checker = parseChecker(wsdlText);
  const ready = Promise.all([servers['1.1'].ready, servers['1.2'].ready, checker.ready]).then(
    () => undefined,
  );

  async function dispatch(
    request: Request,
    response: Response,
    call: SoapCall,
    next: NextFunction,
  ): Promise<void> {
    await ready;
    checker.assertParsable(call.text, call.version);

    calls.set(request, call);
    prepareForNodeSoap(request, call);
    servers[call.version].router(request, response, (error?: unknown) => {
      next(error ?? new Error('node-soap did not take the request'));
    });
  }

  return { ready, dispatch };
}

interface NodeSoapServer {
  router: Router;
  ready: Promise<void>;
}

function listenNodeSoap(
  version: SoapVersion,
  handler: MessageHandler,
  wsdlText: string,
  logger: Logger,
): NodeSoapServer {
  const router = express.Router();
  const wsdl = nodeSoapWsdl(wsdlText, version);
  const services = servicesFor(version, handler, logger);
  // The private router sees only what the public one passed on, so any path is ours.
  const path = /.*/;
  const ready = new Promise<void>((resolve, reject) => {
    // What soap.listen does inside, with a WSDL object of our own (see nodeSoapWsdl).
    const server = new Server(router, path, services, wsdl, {
      path,
      services,
      // DECISIONS §2.1: Content-Length, no chunked encoding (node-soap's default is chunked).
      enableChunkedEncoding: false,
      suppressStack: true,
      callback: (error: unknown) => (error ? reject(error) : resolve()),
    });
    server.log = (type, data) => {
      if (type === 'error') logger.error({ err: data, soapVersion: version }, 'node-soap error');
    };
  });

  return { router, ready };
}

/**
 * node-soap's WSDL for one envelope version: `forceSoap12Headers` makes it write SOAP 1.2
 * envelopes. `preserveWhitespace` keeps the parameters exactly as sent (node-soap trims string
 * values otherwise); the WSDL constructor drops that option (only node-soap's client sets it,
 * afterwards, in client.js), so it is set the same way here.
 */
function nodeSoapWsdl(wsdlText: string, version: SoapVersion): WSDL {
  const wsdl = new WSDL(wsdlText, '', { forceSoap12Headers: version === '1.2' });
  wsdl.options.preserveWhitespace = true;
  return wsdl;
}

function servicesFor(version: SoapVersion, handler: MessageHandler, logger: Logger): IServices {
  const port: Record<string, ISoapServiceMethod> = {};
  for (const operation of OPERATION_NAMES) {
    port[operation] = serviceMethod(operation, version, handler, logger);
  }

  // Both ports of the WSDL, with the same methods: node-soap picks a port by path, and the
  // envelope version is this server's, whichever port it picks.
  return {
    WSI_MIDDataServices: { WSI_MIDDataServicesSoap: port, WSI_MIDDataServicesSoap12: port },
  };
}

function serviceMethod(
  operation: OperationName,
  version: SoapVersion,
  handler: MessageHandler,
  logger: Logger,
): ISoapServiceMethod {
  return async (args: unknown, _callback: unknown, _headers: unknown, request: object) => {
    const call = calls.get(request);
    try {
      if (call === undefined) throw new Error('SOAP request reached node-soap without its call');
      const outbound = await handler(inboundMessage(operation, args, call));
      return operationResponse(operation, outbound);
    } catch (error) {
      const requestId = call?.requestId ?? '';
      logger.error({ err: error, requestId, operation }, 'SOAP operation failed unexpectedly');
      throw { Fault: nodeSoapServerFault(version, 'The service failed unexpectedly', requestId) };
    }
  };
}

function inboundMessage(operation: OperationName, args: unknown, call: SoapCall): InboundMessage {
  return {
    transport: transportFor(call.version),
    operation,
    tenantCode: call.tenantCode,
    encryptData: parameter(args, 'EncryptData'),
    disperseKey: parameter(args, 'DisperseKey'),
    macValue: parameter(args, 'MacValue'),
    requestId: call.requestId,
    remoteAddress: call.remoteAddress,
  };
}

/**
 * A parameter as node-soap parsed it. Omitted, `xsi:nil="true"` (node-soap drops the element)
 * and empty all read as ''; an element with attributes arrives as `{ attributes, $value }`;
 * a repeated one (the schema allows one) as an array, of which the first counts.
 */
function parameter(args: unknown, name: string): string {
  return isRecord(args) ? textOf(args[name]) : '';
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return textOf(value[0]);
  if (isRecord(value)) return textOf(value.$value);
  return '';
}

/**
 * `OpResult` first, then the three strings: node-soap writes keys in object order, not schema
 * order, and writes null as an element with an undeclared `xsi:` prefix, so every value is set.
 */
function operationResponse(operation: OperationName, outbound: OutboundMessage) {
  const result = outbound.returnCode;
  if (!Number.isInteger(result) || result < RESULT_MIN || result > RESULT_MAX) {
    throw new Error(`returnCode ${String(result)} is not an s:int`);
  }

  return {
    [`${operation}Result`]: result,
    EncryptData: outbound.encryptData ?? '',
    DisperseKey: outbound.disperseKey ?? '',
    MacValue: outbound.macValue ?? '',
  };
}

/**
 * node-soap parses with sax in strict mode, which refuses some documents fast-xml-parser's
 * validator lets through (an undefined entity, `--` inside a comment). node-soap would answer
 * those with a fault of its own making (faultcode "500", SOAP 1.1 shape in either envelope), so
 * the same parser is run first and its refusal becomes our client fault.
 */
function parseChecker(wsdlText: string) {
  const wsdl = nodeSoapWsdl(wsdlText, '1.1');
  const ready = new Promise<void>((resolve, reject) => {
    wsdl.onReady((error) => (error ? reject(error) : resolve()));
  });

  function assertParsable(text: string, version: SoapVersion): void {
    try {
      wsdl.xmlToObject(text);
    } catch (error) {
      throw new SoapClientFault(`Malformed XML: ${parserMessage(error)}`, version);
    }
  }

  return { ready, assertParsable };
}

function parserMessage(error: unknown): string {
  const fault = isRecord(error) && isRecord(error.Fault) ? error.Fault : undefined;
  const message = fault ? String(fault.detail) : error instanceof Error ? error.message : '';
  return message.replace(/\s*\n\s*/g, ', ') || 'the envelope cannot be parsed';
}

/**
 * node-soap copies the request's Content-Type onto the response, and prefers the SOAPAction
 * header over the Body when it picks the method. So: the content type becomes the one this
 * version answers with (DECISIONS §2.1; a SOAP 1.2 `action=` parameter goes with it), and the
 * operation the adapter read from the Body is the only one node-soap can find.
 */
function prepareForNodeSoap(request: Request, call: SoapCall): void {
  request.headers['content-type'] = responseContentType(call.version);
  delete request.headers.soapaction;
  request.body = call.text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
