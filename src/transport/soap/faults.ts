import { envelopeNamespace, TEMPURI_NAMESPACE, type SoapVersion } from './soap-version';

/**
 * SOAP faults. DECISIONS §2.1: a fault (HTTP 500) only for an envelope that cannot be read or
 * names no known operation (the caller's mistake, a `Client`/`Sender` fault), or for an
 * unexpected failure of ours (`Server`/`Receiver`). Business outcomes are never faults.
 *
 * The detail carries the request's correlation id, so that whoever reads the fault can find the
 * log lines about it; it never carries a stack trace.
 */
export type FaultKind = 'client' | 'server';

/** Thrown while reading a request that cannot be served; `version` once the envelope told it. */
export class SoapClientFault extends Error {
  override name = 'SoapClientFault';

  constructor(
    message: string,
    readonly version?: SoapVersion,
  ) {
    super(message);
  }
}

const FAULT_CODES: Record<SoapVersion, Record<FaultKind, string>> = {
  '1.1': { client: 'soap:Client', server: 'soap:Server' },
  '1.2': { client: 'soap:Sender', server: 'soap:Receiver' },
};

/** A complete fault envelope, for the faults the adapter answers itself. */
export function renderFault(
  version: SoapVersion,
  kind: FaultKind,
  reason: string,
  requestId: string,
): string {
  const envelope =
    `<soap:Envelope xmlns:soap="${envelopeNamespace(version)}" ` +
    `xmlns:tns="${TEMPURI_NAMESPACE}">`;
  const fault =
    version === '1.1' ? fault11(kind, reason, requestId) : fault12(kind, reason, requestId);

  return (
    `<?xml version="1.0" encoding="utf-8"?>${envelope}` +
    `<soap:Body>${fault}</soap:Body></soap:Envelope>`
  );
}

function fault11(kind: FaultKind, reason: string, requestId: string): string {
  return (
    '<soap:Fault>' +
    `<faultcode>${FAULT_CODES['1.1'][kind]}</faultcode>` +
    `<faultstring>${escapeXml(reason)}</faultstring>` +
    `<detail><tns:RequestId>${escapeXml(requestId)}</tns:RequestId></detail>` +
    '</soap:Fault>'
  );
}

function fault12(kind: FaultKind, reason: string, requestId: string): string {
  return (
    '<soap:Fault>' +
    `<soap:Code><soap:Value>${FAULT_CODES['1.2'][kind]}</soap:Value></soap:Code>` +
    `<soap:Reason><soap:Text xml:lang="en">${escapeXml(reason)}</soap:Text></soap:Reason>` +
    `<soap:Detail><tns:RequestId>${escapeXml(requestId)}</tns:RequestId></soap:Detail>` +
    '</soap:Fault>'
  );
}

/**
 * The same Server/Receiver fault as `renderFault`, in the shape node-soap serialises when a
 * service method throws `{ Fault }`. Needed because node-soap's own answer to an exception is a
 * SOAP-1.2-shaped fault with an undeclared `SOAP-ENV:` prefix, even inside a 1.1 envelope
 * (node_modules/soap/lib/server.js, `_executeMethod` → `handleResult`). node-soap declares
 * `tns` on its envelope (from the WSDL's namespaces) and mutates the object, so build a new one
 * per fault.
 */
export function nodeSoapServerFault(version: SoapVersion, reason: string, requestId: string) {
  const detail = { 'tns:RequestId': requestId };
  if (version === '1.1') {
    return { faultcode: FAULT_CODES['1.1'].server, faultstring: reason, detail, statusCode: 500 };
  }

  return {
    Code: { Value: FAULT_CODES['1.2'].server },
    Reason: { Text: { attributes: { 'xml:lang': 'en' }, $value: reason } },
    Detail: detail,
    statusCode: 500,
  };
}

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
