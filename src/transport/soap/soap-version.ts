import type { Transport } from '../message';

/**
 * The two envelope versions the service publishes a binding for (DECISIONS §2.1). Each request
 * is answered in its own version, with that version's content type.
 */
export type SoapVersion = '1.1' | '1.2';

export const TEMPURI_NAMESPACE = 'http://tempuri.org/';

const ENVELOPE_NAMESPACES: Record<SoapVersion, string> = {
  '1.1': 'http://schemas.xmlsoap.org/soap/envelope/',
  '1.2': 'http://www.w3.org/2003/05/soap-envelope',
};

const CONTENT_TYPES: Record<SoapVersion, string> = {
  '1.1': 'text/xml; charset=utf-8',
  '1.2': 'application/soap+xml; charset=utf-8',
};

export function envelopeNamespace(version: SoapVersion): string {
  return ENVELOPE_NAMESPACES[version];
}

export function versionForEnvelopeNamespace(namespace?: string): SoapVersion | undefined {
  if (namespace === ENVELOPE_NAMESPACES['1.1']) return '1.1';
  if (namespace === ENVELOPE_NAMESPACES['1.2']) return '1.2';
  return undefined;
}

export function responseContentType(version: SoapVersion): string {
  return CONTENT_TYPES[version];
}

export function transportFor(version: SoapVersion): Transport {
  return version === '1.1' ? 'soap11' : 'soap12';
}

/**
 * The version to fault in when the envelope itself cannot be read: SOAP 1.2 travels as
 * `application/soap+xml`, everything else is answered as SOAP 1.1.
 */
export function versionFromContentType(contentType: string | undefined): SoapVersion {
  return /^\s*application\/soap\+xml/i.test(contentType ?? '') ? '1.2' : '1.1';
}
