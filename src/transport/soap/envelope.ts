import { XMLParser, XMLValidator } from 'fast-xml-parser';

import { isOperationName, type OperationName } from '../../domain/operations';
import { SoapClientFault } from './faults';
import {
  envelopeNamespace,
  TEMPURI_NAMESPACE,
  versionForEnvelopeNamespace,
  type SoapVersion,
} from './soap-version';

/**
 * What the adapter must know about a request before node-soap sees it: the envelope version
 * (from the Envelope's namespace) and the operation (the local name of the Body's first
 * element, whatever its prefix: SoapUI writes `tem:MeterAdd`, .NET writes
 * `<MeterAdd xmlns="http://tempuri.org/">`).
 * Anything that cannot be read this far is a client fault (DECISIONS §2.1).
 */
export interface EnvelopeSummary {
  version: SoapVersion;
  operation: OperationName;
}

/** fast-xml-parser's `preserveOrder` shape: `{ [tagName]: children, ':@'?: attributes }`. */
type OrderedNode = Record<string, unknown>;

interface XmlElement {
  qualifiedName: string;
  children: OrderedNode[];
  attributes: Record<string, string>;
}

type NamespaceScope = ReadonlyMap<string, string>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: false,
});

export function inspectEnvelope(text: string): EnvelopeSummary {
  assertWellFormed(text);

  const envelope = singleRoot(parseDocument(text));
  const envelopeScope = extendScope(new Map(), envelope);
  const version = envelopeVersion(envelope, envelopeScope);
  const body = envelopeBody(envelope, envelopeScope, version);
  const operation = bodyOperation(body.element, body.scope, version);

  return { version, operation };
}

function assertWellFormed(text: string): void {
  if (text.trim() === '') {
    throw new SoapClientFault('The request body is empty; a SOAP envelope was expected');
  }

  const result = XMLValidator.validate(text);
  if (result !== true) {
    const { msg, line, col } = result.err;
    throw new SoapClientFault(`Malformed XML: ${msg} (line ${line}, column ${col ?? '?'})`);
  }

  // SOAP 1.1 §3 and SOAP 1.2 part 1 §5 forbid a DTD; refusing it also keeps entity expansion out.
  if (/^(?:\s|<\?[\s\S]*?\?>|<!--[\s\S]*?-->)*<!DOCTYPE/i.test(text)) {
    throw new SoapClientFault('A SOAP message must not contain a document type declaration');
  }
}

/**
 * The validator has passed the text, but the parser still refuses what it will not build, such as
 * elements nested deeper than its limit (100): a SOAP call nests four or five. Either way the
 * envelope cannot be read, which is the caller's fault.
 */
function parseDocument(text: string): OrderedNode[] {
  try {
    return parser.parse(text) as OrderedNode[];
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SoapClientFault(`Malformed XML: ${reason}`);
  }
}

function singleRoot(document: OrderedNode[]): XmlElement {
  const roots = elementsOf(document);
  if (roots.length !== 1) {
    throw new SoapClientFault(`Malformed XML: expected one root element, found ${roots.length}`);
  }

  return roots[0];
}

function envelopeVersion(envelope: XmlElement, scope: NamespaceScope): SoapVersion {
  const name = resolveName(envelope.qualifiedName, scope);
  const version = versionForEnvelopeNamespace(name.namespace);
  if (name.localName !== 'Envelope' || version === undefined) {
    throw new SoapClientFault(
      `Not a SOAP envelope: the root element is ${describe(name)}; expected Envelope in ` +
        'http://schemas.xmlsoap.org/soap/envelope/ (SOAP 1.1) or ' +
        'http://www.w3.org/2003/05/soap-envelope (SOAP 1.2)',
    );
  }

  return version;
}

function envelopeBody(envelope: XmlElement, envelopeScope: NamespaceScope, version: SoapVersion) {
  for (const child of elementsOf(envelope.children)) {
    const scope = extendScope(envelopeScope, child);
    const name = resolveName(child.qualifiedName, scope);
    if (name.localName === 'Body' && name.namespace === envelopeNamespace(version)) {
      return { element: child, scope };
    }
  }

  throw new SoapClientFault('The SOAP envelope has no Body', version);
}

function bodyOperation(body: XmlElement, bodyScope: NamespaceScope, version: SoapVersion) {
  const first = elementsOf(body.children)[0];
  if (first === undefined) {
    throw new SoapClientFault('The SOAP Body is empty; expected an operation element', version);
  }

  const name = resolveName(first.qualifiedName, extendScope(bodyScope, first));
  if (name.namespace !== TEMPURI_NAMESPACE) {
    throw new SoapClientFault(
      `${describe(name)} is not an operation of WSI_MIDDataServices; ` +
        `its operations are in the namespace ${TEMPURI_NAMESPACE}`,
      version,
    );
  }
  if (!isOperationName(name.localName)) {
    throw new SoapClientFault(`Unknown operation "${name.localName}"`, version);
  }

  return name.localName;
}

function elementsOf(nodes: OrderedNode[]): XmlElement[] {
  const elements: XmlElement[] = [];
  for (const node of nodes) {
    const qualifiedName = Object.keys(node).find((key) => key !== ':@');
    if (qualifiedName === undefined || qualifiedName.startsWith('#')) continue;
    if (qualifiedName.startsWith('?')) continue;

    const children = node[qualifiedName];
    const attributes = (node[':@'] ?? {}) as Record<string, string>;
    elements.push({ qualifiedName, children: Array.isArray(children) ? children : [], attributes });
  }

  return elements;
}

function extendScope(scope: NamespaceScope, element: XmlElement): NamespaceScope {
  const declarations = Object.entries(element.attributes).filter(
    ([name]) => name === 'xmlns' || name.startsWith('xmlns:'),
  );
  if (declarations.length === 0) return scope;

  const extended = new Map(scope);
  for (const [name, uri] of declarations) {
    extended.set(name === 'xmlns' ? '' : name.slice('xmlns:'.length), uri);
  }
  return extended;
}

interface ExpandedName {
  namespace: string | undefined;
  localName: string;
}

function resolveName(qualifiedName: string, scope: NamespaceScope): ExpandedName {
  const colon = qualifiedName.indexOf(':');
  const prefix = colon < 0 ? '' : qualifiedName.slice(0, colon);
  const namespace = scope.get(prefix) || undefined;

  return { namespace, localName: qualifiedName.slice(colon + 1) };
}

function describe(name: ExpandedName): string {
  if (name.namespace === undefined) return `${name.localName} (no namespace)`;
  return `{${name.namespace}}${name.localName}`;
}
