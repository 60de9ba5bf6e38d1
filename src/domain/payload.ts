import { parseExpressionAt, type Expression, type Node } from 'acorn';
import { PlatformError } from './errors';
import { ReturnCode } from './return-codes';

/**
 * Reading a request payload (DECISIONS §4).
 *
 * The spec's own examples are not strict JSON (`{Meters:[...]}`), and money must keep every digit
 * of its source text, so the payload is parsed as a JavaScript object literal by acorn (a
 * well-kept parser that keeps each number's source text), then narrowed to plain data: objects,
 * arrays, strings, numbers (as their text), booleans and null. Nothing is evaluated.
 */

/** A JSON number kept as the exact text the caller sent. */
export class NumberText {
  constructor(readonly text: string) {}
}

export type PayloadValue = string | NumberText | boolean | null | PayloadValue[] | PayloadObject;

/** An object whose keys are found case-insensitively and ignoring surrounding spaces. */
export class PayloadObject {
  private readonly fields = new Map<string, { key: string; value: PayloadValue }>();

  static normalise(key: string): string {
    return key.trim().toLowerCase();
  }

  set(key: string, value: PayloadValue): void {
    const normalised = PayloadObject.normalise(key);
    if (this.fields.has(normalised)) {
      throw new PlatformError(ReturnCode.ParseFailed, `传入参数解析失败：字段 ${key.trim()} 重复`);
    }
    this.fields.set(normalised, { key, value });
  }

  get(key: string): PayloadValue | undefined {
    return this.fields.get(PayloadObject.normalise(key))?.value;
  }

  has(key: string): boolean {
    return this.fields.has(PayloadObject.normalise(key));
  }
}

export function parsePayload(text: string): PayloadObject {
  const source = text.replace(/^\uFEFF/, '').trim();
  if (source === '') throw parseError('请求内容为空');

  const value = readPlainJson(source) ?? readWithAcorn(source);
  if (!(value instanceof PayloadObject)) throw parseError('请求内容必须是 JSON 对象');
  return value;
}

function readWithAcorn(source: string): PayloadValue {
  let expression: Expression;
  try {
    expression = parseExpressionAt(source, 0, { ecmaVersion: 2022 });
  } catch {
    throw parseError('不是合法的 JSON');
  }
  if (expression.end !== source.length) throw parseError('JSON 之后还有多余内容');

  return toPayloadValue(expression);
}

/** Both readers, for the test that holds them to the same results. */
export const payloadReaders = { plainJson: readPlainJson, acorn: readWithAcorn };

/**
 * The common case, read fast: JSON as CIS systems send it, with the spec examples' quirks
 * (unquoted ASCII keys, single quotes, trailing commas). A BatchChangePrice of 100,000 meters is
 * some 6 MB; acorn's syntax tree of it takes seconds and hundreds of MB, this reader a fraction
 * of either (issue 3's benchmark). Whatever lies outside this subset (comments, other escapes or
 * white space, unusual numbers, non-ASCII bare keys) and any error make it answer undefined, and
 * acorn reads the text instead: what is accepted, and how it is refused, stays acorn's call.
 */
function readPlainJson(source: string): PayloadValue | undefined {
  const reader = new PlainJsonReader(source);
  try {
    const value = reader.value();
    return reader.atEnd() ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Thrown inside PlainJsonReader when the text needs acorn; never escapes readPlainJson. */
class NotPlainJson extends Error {}

class PlainJsonReader {
  private index = 0;

  constructor(private readonly source: string) {}

  atEnd(): boolean {
    this.skipSpace();
    return this.index === this.source.length;
  }

  value(): PayloadValue {
    this.skipSpace();
    const char = this.source[this.index];
    if (char === '{') return this.object();
    if (char === '[') return this.array();
    if (char === '"' || char === "'") return this.string();
    if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) return this.number();
    if (this.word('true')) return true;
    if (this.word('false')) return false;
    if (this.word('null')) return null;
    throw new NotPlainJson();
  }

  private object(): PayloadObject {
    const object = new PayloadObject();
    this.index += 1;
    for (;;) {
      this.skipSpace();
      if (this.take('}')) return object;
      const char = this.source[this.index];
      const key = char === '"' || char === "'" ? this.string() : this.identifier();
      this.skipSpace();
      if (!this.take(':')) throw new NotPlainJson();
      object.set(key, this.value());
      this.skipSpace();
      if (this.take('}')) return object;
      if (!this.take(',')) throw new NotPlainJson();
    }
  }

  private array(): PayloadValue[] {
    const items: PayloadValue[] = [];
    this.index += 1;
    for (;;) {
      this.skipSpace();
      if (this.take(']')) return items;
      items.push(this.value());
      this.skipSpace();
      if (this.take(']')) return items;
      if (!this.take(',')) throw new NotPlainJson();
    }
  }

  private string(): string {
    const quote = this.source.charCodeAt(this.index);
    this.index += 1;
    let text = '';
    let start = this.index;
    for (;;) {
      const code = this.source.charCodeAt(this.index);
      if (code === quote) break;
      if (Number.isNaN(code) || code < 0x20) throw new NotPlainJson();
      if (code !== 0x5c) {
        this.index += 1;
        continue;
      }
      text += this.source.slice(start, this.index) + this.escape();
      start = this.index;
    }
    text += this.source.slice(start, this.index);
    this.index += 1;
    return text;
  }

  /** The escapes JSON has; a JavaScript-only one (\x41, \u{...}, \0) goes to acorn. */
  private escape(): string {
    const char = this.source[this.index + 1] ?? '';
    this.index += 2;
    const simple = SIMPLE_ESCAPES.get(char);
    if (simple !== undefined) return simple;
    const hex = this.source.slice(this.index, this.index + 4);
    if (char !== 'u' || !/^[0-9a-fA-F]{4}$/.test(hex)) throw new NotPlainJson();
    this.index += 4;
    return String.fromCharCode(parseInt(hex, 16));
  }

  /** A JSON number, kept as its text; `01`, `.5`, `5.`, `0x1F` and the like go to acorn. */
  private number(): NumberText {
    const match = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    match.lastIndex = this.index;
    const found = match.exec(this.source);
    if (!found) throw new NotPlainJson();
    this.index += found[0].length;
    if (continuesToken(this.source.charCodeAt(this.index))) throw new NotPlainJson();
    return new NumberText(found[0]);
  }

  private identifier(): string {
    const start = this.index;
    while (isAsciiIdentifierPart(this.source.charCodeAt(this.index))) this.index += 1;
    const name = this.source.slice(start, this.index);
    if (name === '' || /^\d/.test(name)) throw new NotPlainJson();
    if (continuesToken(this.source.charCodeAt(this.index))) throw new NotPlainJson();
    return name;
  }

  private word(word: string): boolean {
    if (!this.source.startsWith(word, this.index)) return false;
    if (continuesToken(this.source.charCodeAt(this.index + word.length))) return false;
    this.index += word.length;
    return true;
  }

  private take(char: string): boolean {
    if (this.source[this.index] !== char) return false;
    this.index += 1;
    return true;
  }

  private skipSpace(): void {
    for (;;) {
      const code = this.source.charCodeAt(this.index);
      if (code !== 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) return;
      this.index += 1;
    }
  }
}

const SIMPLE_ESCAPES = new Map([
  ['"', '"'],
  ["'", "'"],
  ['\\', '\\'],
  ['/', '/'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
]);

function isAsciiIdentifierPart(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x5f ||
    code === 0x24
  );
}

/** A character that could carry a token on in JavaScript: beyond ASCII, acorn decides. */
function continuesToken(code: number): boolean {
  return isAsciiIdentifierPart(code) || code >= 0x80 || code === 0x5c;
}

function toPayloadValue(node: Node): PayloadValue {
  switch (node.type) {
    case 'ObjectExpression':
      return toPayloadObject(node as unknown as ObjectNode);
    case 'ArrayExpression':
      return (node as unknown as ArrayNode).elements.map((element) => {
        if (element === null || element.type === 'SpreadElement') throw parseError('数组格式错误');
        return toPayloadValue(element);
      });
    case 'Literal':
      return literalValue(node as unknown as LiteralNode);
    case 'UnaryExpression':
      return signedNumber(node as unknown as UnaryNode);
    default:
      throw parseError('不是合法的 JSON');
  }
}

function toPayloadObject(node: ObjectNode): PayloadObject {
  const object = new PayloadObject();
  for (const property of node.properties) {
    if (property.type !== 'Property' || property.kind !== 'init' || property.computed) {
      throw parseError('对象格式错误');
    }
    if (property.method || property.shorthand) throw parseError('对象格式错误');
    object.set(propertyName(property.key), toPayloadValue(property.value));
  }
  return object;
}

function propertyName(key: Node): string {
  if (key.type === 'Identifier') return (key as unknown as { name: string }).name;
  const literal = key as unknown as LiteralNode;
  if (key.type === 'Literal' && typeof literal.value === 'string') return literal.value;
  throw parseError('字段名格式错误');
}

function literalValue(node: LiteralNode): PayloadValue {
  if (typeof node.value === 'string' || typeof node.value === 'boolean' || node.value === null) {
    if (node.value === null && node.raw !== 'null') throw parseError('不是合法的 JSON');
    return node.value;
  }
  if (typeof node.value === 'number' && node.raw !== undefined) return new NumberText(node.raw);
  throw parseError('不是合法的 JSON');
}

function signedNumber(node: UnaryNode): NumberText {
  if ((node.operator === '-' || node.operator === '+') && node.argument.type === 'Literal') {
    const inner = literalValue(node.argument as unknown as LiteralNode);
    if (inner instanceof NumberText) return new NumberText(`${node.operator}${inner.text}`);
  }
  throw parseError('不是合法的 JSON');
}

function parseError(detail: string): PlatformError {
  return new PlatformError(ReturnCode.ParseFailed, `传入参数解析失败：${detail}`);
}

interface ObjectNode {
  properties: Array<{
    type: string;
    kind: string;
    computed: boolean;
    method: boolean;
    shorthand: boolean;
    key: Node;
    value: Node;
  }>;
}
interface ArrayNode {
  elements: Array<Node | null>;
}
interface LiteralNode {
  value: unknown;
  raw?: string;
}
interface UnaryNode {
  operator: string;
  argument: Node;
}
