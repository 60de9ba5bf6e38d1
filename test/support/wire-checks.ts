/**
 * What every answer of the platform must look like on the wire (DECISIONS §2.1, §2.2), checked
 * on the raw bytes a recording proxy kept or a raw request received: the status, an explicit
 * UTF-8 charset, a Content-Length and no chunking, well-formed XML (xmllint), the Body's element
 * valid against the WSDL's own schema (xmllint --schema), its children in the sequence's order,
 * OpResult equal to the payload's ReturnCode. Each check returns the problems it found, in
 * words, so that a failing interop cell says what was wrong.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { XMLParser } from 'fast-xml-parser';

export type SoapVersion = '1.1' | '1.2';

export const TEMPURI = 'http://tempuri.org/';
export const ENVELOPE_NAMESPACES: Record<SoapVersion, string> = {
  '1.1': 'http://schemas.xmlsoap.org/soap/envelope/',
  '1.2': 'http://www.w3.org/2003/05/soap-envelope',
};
const CONTENT_TYPES: Record<SoapVersion, RegExp> = {
  '1.1': /^text\/xml;\s*charset=utf-8$/i,
  '1.2': /^application\/soap\+xml;\s*charset=utf-8$/i,
};
/** spec §4.1's unified header, the platform's default (DECISIONS §2.2). */
const REST_CONTENT_TYPE = /^text\/html;\s*charset=utf-8$/i;

/** An answer as it travelled: status, header lines and body bytes. */
export interface WireAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** The four values of an `OpResponse`, read from the raw XML. */
export interface SoapWireValues {
  result: number;
  encryptData: string;
  disperseKey: string;
  macValue: string;
}

export interface RestWireValues {
  body: string;
  disperseKey: string;
  macValue: string;
}

export interface Checked<T> {
  problems: string[];
  values?: T;
}

type OrderedNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
});

/**
 * Holds the WSDL's schema in a file for xmllint. `wsdlText` is the WSDL as the platform serves
 * it, so the answers are checked against what the clients were generated from.
 */
export class WireChecker {
  private readonly directory: string;
  private readonly schemaFile: string;

  constructor(wsdlText: string) {
    this.directory = mkdtempSync(path.join(tmpdir(), 'cnmcsp-wire-'));
    this.schemaFile = path.join(this.directory, 'tempuri.xsd');
    writeFileSync(this.schemaFile, schemaOfWsdl(wsdlText));
  }

  close(): void {
    rmSync(this.directory, { recursive: true, force: true });
  }

  /** A SOAP answer to `operation` in `version`: business outcomes are never faults (§2.1). */
  checkSoap(answer: WireAnswer, operation: string, version: SoapVersion): Checked<SoapWireValues> {
    const problems = [
      ...statusProblems(answer, 200),
      ...contentTypeProblems(answer, CONTENT_TYPES[version]),
      ...lengthProblems(answer),
    ];
    const text = strictUtf8(answer.body, problems);
    if (text === undefined) return { problems };

    const wellFormed = xmllint(['--noout', '-'], text);
    if (wellFormed.status !== 0) {
      return { problems: [...problems, `not well-formed XML: ${wellFormed.output}`] };
    }

    const read = readSoapAnswer(text, operation, version, problems);
    if (read.bodyElementXml !== undefined) {
      const validation = xmllint(['--noout', '--schema', this.schemaFile, '-'], read.bodyElementXml);
      if (validation.status !== 0) {
        problems.push(`the Body's element is not valid against the WSDL schema: ${validation.output}`);
      }
    }
    return { problems, values: read.values };
  }

  /** A REST answer (spec §4.1; DECISIONS §2.2): HTTP 200, the unified header, both credentials. */
  checkRest(answer: WireAnswer): Checked<RestWireValues> {
    const problems = [
      ...statusProblems(answer, 200),
      ...contentTypeProblems(answer, REST_CONTENT_TYPE),
      ...lengthProblems(answer),
    ];
    for (const name of ['DisperseKey', 'MacValue']) {
      if (answer.headers[name.toLowerCase()] === undefined) problems.push(`no ${name} header`);
    }
    const body = strictUtf8(answer.body, problems);
    if (body === undefined) return { problems };

    return {
      problems,
      values: { body, disperseKey: header(answer, 'dispersekey'), macValue: header(answer, 'macvalue') },
    };
  }
}

/** The WSDL's `<s:schema>`, standing alone: it needs the `s` prefix the WSDL declares above it. */
export function schemaOfWsdl(wsdl: string): string {
  const match = /<s:schema[\s\S]*<\/s:schema>/.exec(wsdl);
  if (match === null) throw new Error('no <s:schema> in the WSDL');
  return match[0].replace('<s:schema', '<s:schema xmlns:s="http://www.w3.org/2001/XMLSchema"');
}

export function header(answer: WireAnswer, name: string): string {
  const value = answer.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

function statusProblems(answer: WireAnswer, expected: number): string[] {
  return answer.status === expected ? [] : [`HTTP status ${answer.status}, expected ${expected}`];
}

function contentTypeProblems(answer: WireAnswer, expected: RegExp): string[] {
  const contentType = header(answer, 'content-type');
  return expected.test(contentType) ? [] : [`Content-Type "${contentType}" does not match ${expected}`];
}

/** DECISIONS §2.1: Content-Length, no chunked encoding. */
function lengthProblems(answer: WireAnswer): string[] {
  const problems: string[] = [];
  const length = header(answer, 'content-length');
  if (length === '') problems.push('no Content-Length');
  else if (Number(length) !== answer.body.length) {
    problems.push(`Content-Length ${length} but the body has ${answer.body.length} bytes`);
  }
  const transferEncoding = header(answer, 'transfer-encoding');
  if (transferEncoding !== '') problems.push(`Transfer-Encoding ${transferEncoding}`);
  return problems;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function strictUtf8(body: Buffer, problems: string[]): string | undefined {
  try {
    return utf8.decode(body);
  } catch {
    problems.push('the body is not valid UTF-8');
    return undefined;
  }
}

function xmllint(args: string[], input: string): { status: number | null; output: string } {
  const run = spawnSync('xmllint', args, { input, encoding: 'utf8' });
  if (run.error) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim().replace(/\s+/g, ' ') };
}

interface ReadSoapAnswer {
  values?: SoapWireValues;
  /** The Body's element as a document of its own, with the namespaces in scope declared on it. */
  bodyElementXml?: string;
}

/**
 * Envelope and Body of the request's version, exactly one `OpResponse` in tempuri, whose children
 * are OpResult, EncryptData, DisperseKey and MacValue in this order (the WSDL's sequence; the
 * platform always writes all four), OpResult an s:int.
 */
function readSoapAnswer(
  text: string,
  operation: string,
  version: SoapVersion,
  problems: string[],
): ReadSoapAnswer {
  const envelope = elementsOf(parser.parse(text) as OrderedNode[])[0];
  if (envelope === undefined) return fail(problems, 'no root element');
  const envelopeName = resolve(envelope, new Map());
  if (envelopeName.localName !== 'Envelope' || envelopeName.namespace !== ENVELOPE_NAMESPACES[version]) {
    return fail(problems, `the root is ${describe(envelopeName)}, not a SOAP ${version} Envelope`);
  }

  const body = elementsOf(envelope.children)
    .map((child) => ({ child, name: resolve(child, envelopeName.scope) }))
    .find(({ name }) => name.localName === 'Body' && name.namespace === ENVELOPE_NAMESPACES[version]);
  if (body === undefined) return fail(problems, 'no Body');

  const [wrapper, ...others] = elementsOf(body.child.children);
  if (wrapper === undefined || others.length > 0) {
    return fail(problems, 'the Body does not hold exactly one element');
  }
  const bodyElementXml = standalone(text, envelope, body.child);
  const wrapperName = resolve(wrapper, body.name.scope);
  if (wrapperName.localName !== `${operation}Response` || wrapperName.namespace !== TEMPURI) {
    const problem = `the Body holds ${describe(wrapperName)}, not ${operation}Response`;
    return { bodyElementXml, ...fail(problems, problem) };
  }

  const children = elementsOf(wrapper.children).map((child) => ({
    child,
    name: resolve(child, wrapperName.scope),
  }));
  const order = children.map(({ name }) => (name.namespace === TEMPURI ? name.localName : describe(name)));
  const expectedOrder = [`${operation}Result`, 'EncryptData', 'DisperseKey', 'MacValue'];
  const expected = expectedOrder.join(', ');
  if (order.join(', ') !== expected) {
    const problem = `${operation}Response children are [${order.join(', ')}], expected [${expected}]`;
    return { bodyElementXml, ...fail(problems, problem) };
  }

  const [result, encryptData, disperseKey, macValue] = children.map(({ child }) => textOf(child));
  if (!/^-?\d+$/.test(result as string)) {
    return { bodyElementXml, ...fail(problems, `${operation}Result "${result}" is not an s:int`) };
  }

  return {
    values: {
      result: Number(result),
      encryptData: encryptData as string,
      disperseKey: disperseKey as string,
      macValue: macValue as string,
    },
    bodyElementXml,
  };
}

function fail(problems: string[], problem: string): ReadSoapAnswer {
  problems.push(problem);
  return {};
}

interface XmlElement {
  qualifiedName: string;
  children: OrderedNode[];
  attributes: Record<string, string>;
}

function elementsOf(nodes: OrderedNode[]): XmlElement[] {
  const elements: XmlElement[] = [];
  for (const node of nodes) {
    const qualifiedName = Object.keys(node).find((key) => key !== ':@');
    if (qualifiedName === undefined || /^[#?]/.test(qualifiedName)) continue;
    const children = node[qualifiedName];
    elements.push({
      qualifiedName,
      children: Array.isArray(children) ? (children as OrderedNode[]) : [],
      attributes: (node[':@'] ?? {}) as Record<string, string>,
    });
  }
  return elements;
}

function resolve(element: XmlElement, parentScope: ReadonlyMap<string, string>) {
  const scope = new Map(parentScope);
  for (const [name, value] of Object.entries(element.attributes)) {
    if (name === 'xmlns') scope.set('', value);
    else if (name.startsWith('xmlns:')) scope.set(name.slice(6), value);
  }
  const colon = element.qualifiedName.indexOf(':');
  const prefix = colon < 0 ? '' : element.qualifiedName.slice(0, colon);
  return { namespace: scope.get(prefix), localName: element.qualifiedName.slice(colon + 1), scope };
}

function describe(name: { namespace?: string; localName: string }): string {
  return `{${name.namespace ?? ''}}${name.localName}`;
}

function textOf(element: XmlElement): string {
  return element.children
    .map((node) => (typeof node['#text'] === 'string' ? node['#text'] : ''))
    .join('');
}

/**
 * The Body's content cut from the text, its first start tag given the namespace declarations of
 * Envelope and Body that it does not make itself, so that it stands alone for xmllint.
 */
function standalone(text: string, envelope: XmlElement, body: XmlElement): string {
  const open = new RegExp(`<${escapeRegExp(body.qualifiedName)}(\\s[^>]*)?>`).exec(text);
  const close = text.lastIndexOf(`</${body.qualifiedName}>`);
  if (open === null || close < 0) return '';
  const content = text.slice(open.index + open[0].length, close).trim();

  const declared = { ...envelope.attributes, ...body.attributes };
  const declarations = Object.entries(declared)
    .filter(([name]) => name === 'xmlns' || name.startsWith('xmlns:'))
    .filter(([name]) => !new RegExp(`^<[^>]*\\s${escapeRegExp(name)}\\s*=`).test(content))
    .map(([name, value]) => ` ${name}="${value}"`)
    .join('');
  return content.replace(/^<([^\s/>]+)/, `<$1${declarations}`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
