import iconv from 'iconv-lite';

import { SoapClientFault } from './faults';

/**
 * Turns the raw request body into text. DECISIONS §2.1: a request declared in another charset
 * (GB2312, GBK, GB18030) is decoded as declared. The declaration is looked for in the order of
 * RFC 7303 §3.2: a byte order mark, then the Content-Type charset, then the XML declaration's
 * `encoding`; UTF-8 when none says.
 */
export function decodeSoapBody(body: Buffer, contentType: string | undefined): string {
  const charset =
    charsetOfByteOrderMark(body) ??
    charsetOfContentType(contentType) ??
    charsetOfXmlDeclaration(body) ??
    'utf-8';
  if (!iconv.encodingExists(charset)) {
    throw new SoapClientFault(`Unsupported charset "${charset}"`);
  }

  // Notepad and .NET's `new UTF8Encoding(true)` write a BOM. iconv-lite drops the one it decodes;
  // the explicit strip keeps that true whatever the decoder's defaults become.
  return iconv.decode(body, charset).replace(/^\uFEFF/, '');
}

function charsetOfContentType(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return match?.[1];
}

function charsetOfByteOrderMark(body: Buffer): string | undefined {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return 'utf-8';
  if (body[0] === 0xff && body[1] === 0xfe) return 'utf-16le';
  if (body[0] === 0xfe && body[1] === 0xff) return 'utf-16be';
  return undefined;
}

/** The declaration is ASCII in every charset this service accepts, so read it as Latin-1. */
function charsetOfXmlDeclaration(body: Buffer): string | undefined {
  const head = body.subarray(0, 256).toString('latin1');
  const match = /^\s*<\?xml\s[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head);
  return match?.[1];
}
