import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { escapeXml } from './faults';

const WSDL_FILE_NAME = 'WSI_MIDDataServices.wsdl';

/** Both `soap:address` and `soap12:address`, whatever the placeholder in the file. */
const ADDRESS_LOCATION = /(<[A-Za-z0-9_.-]+:address\s+location=")[^"]*(")/g;

/** The Host header is the caller's to choose, so the cache of rewritten texts is bounded. */
const MAX_CACHED_ADDRESSES = 64;

/**
 * The hand-written WSDL of wsdl/WSI_MIDDataServices.wsdl. Source runs from src/transport/soap,
 * the build from dist/src/transport/soap, hence two places to look. A missing or edited-away
 * address stops the platform at start-up rather than serving a WSDL that points nowhere.
 */
export function loadWsdlTemplate(wsdlPath?: string): string {
  const candidates = wsdlPath
    ? [wsdlPath]
    : [
        path.resolve(__dirname, '../../../wsdl', WSDL_FILE_NAME),
        path.resolve(__dirname, '../../../../wsdl', WSDL_FILE_NAME),
      ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) {
    throw new Error(`WSDL not found; looked for ${candidates.join(' and ')}`);
  }

  const text = readFileSync(found, 'utf8');
  if ((text.match(ADDRESS_LOCATION) ?? []).length !== 2) {
    throw new Error(`${found} must hold one soap:address and one soap12:address`);
  }
  return text;
}

/**
 * Serves the WSDL with every port address set to the URL the client should call
 * (DECISIONS §2.1). The rewritten text is built once per address and kept.
 */
export class WsdlPublisher {
  private readonly documents = new Map<string, Buffer>();

  constructor(private readonly template: string) {}

  documentFor(address: string): Buffer {
    const cached = this.documents.get(address);
    if (cached !== undefined) return cached;

    const location = escapeXml(address);
    const document = Buffer.from(
      this.template.replace(ADDRESS_LOCATION, (_match, start: string, end: string) => {
        return `${start}${location}${end}`;
      }),
      'utf8',
    );
    this.remember(address, document);
    return document;
  }

  private remember(address: string, document: Buffer): void {
    if (this.documents.size >= MAX_CACHED_ADDRESSES) {
      const oldest = this.documents.keys().next().value as string;
      this.documents.delete(oldest);
    }

    this.documents.set(address, document);
  }
}
