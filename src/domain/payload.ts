import { parse as parseLosslessJson } from 'lossless-json';
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
 * The common case, read fast: strict JSON, which is what CIS serializers send. lossless-json
 * hands every number over as its source text, so money keeps every digit (DECISIONS §4); a
 * BatchChangePrice of 100,000 meters (some 6 MB) reads in a fraction of acorn's time and memory.
 * Anything that is not strict JSON (the spec examples' bare keys, single quotes, trailing commas)
 * or any error makes it answer undefined, and acorn reads the text instead: what is accepted, and
 * how it is refused, stays acorn's call.
 */
function readPlainJson(source: string): PayloadValue | undefined {
  let parsed: unknown;
  try {
    parsed = parseLosslessJson(source, null, keepNumberText);
  } catch {
    return undefined;
  }
  try {
    return fromLosslessValue(parsed);
  } catch {
    return undefined;
  }
}

/** Marks a number's text so that it stays apart from a string of the same characters. */
function keepNumberText(text: string): NumberText {
  return new NumberText(text);
}

function fromLosslessValue(value: unknown): PayloadValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof NumberText) return value;
  if (Array.isArray(value)) return value.map(fromLosslessValue);
  if (typeof value === 'object') {
    const object = new PayloadObject();
    for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
      object.set(key, fromLosslessValue(member));
    }
    return object;
  }
  throw new Error('not a JSON value');
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
