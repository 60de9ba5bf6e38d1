/**
 * What a CIS does over the wire, for tests: REST calls and raw SOAP envelopes over real HTTP.
 */
export interface RestAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

export async function restCall(
  baseUrl: string,
  path: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<RestAnswer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/html;charset=utf-8', ...headers },
    body,
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Left empty: the caller asserts on `text` when it expects no JSON.
  }
  return { status: response.status, headers: response.headers, text, json };
}

export function soap11Envelope(operation: string, encryptData: string, disperseKey = '', macValue = ''): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
    `<soap:Body><${operation} xmlns="http://tempuri.org/">` +
    `<EncryptData>${escapeXml(encryptData)}</EncryptData>` +
    `<DisperseKey>${escapeXml(disperseKey)}</DisperseKey>` +
    `<MacValue>${escapeXml(macValue)}</MacValue>` +
    `</${operation}></soap:Body></soap:Envelope>`
  );
}

export interface SoapAnswer {
  status: number;
  headers: Headers;
  text: string;
  result: number;
  encryptData: string;
  disperseKey: string;
  macValue: string;
}

/** A SOAP 1.1 call as .NET sends it, answered fields read back from the response. */
export async function soapCall(
  baseUrl: string,
  operation: string,
  encryptData: string,
  disperseKey = '',
  macValue = '',
  path = '/WSI_MIDDataServices.asmx',
): Promise<SoapAnswer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'text/xml; charset=utf-8',
      SOAPAction: `"http://tempuri.org/${operation}"`,
    },
    body: soap11Envelope(operation, encryptData, disperseKey, macValue),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    result: Number(elementText(text, `${operation}Result`)),
    encryptData: elementText(text, 'EncryptData'),
    disperseKey: elementText(text, 'DisperseKey'),
    macValue: elementText(text, 'MacValue'),
  };
}

function elementText(xml: string, localName: string): string {
  const match = new RegExp(`<(?:\\w+:)?${localName}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:\\w+:)?${localName}>`).exec(xml);
  return match ? unescapeXml(match[1] as string) : '';
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCodePoint(parseInt(code, 16)))
    .replace(/&amp;/g, '&');
}
