import { NumberText, PayloadObject, payloadReaders, type PayloadValue } from '../../src/domain/payload';
import { SPEC_EXAMPLES } from '../fixtures/spec-examples';

/**
 * The payload has two readers (DECISIONS §4): lossless-json for strict JSON, and acorn for
 * everything else. The fast one must either read a text exactly as acorn does or
 * step aside; it must never accept what acorn refuses.
 */
type Plain = string | boolean | null | { number: string } | Plain[] | { [key: string]: Plain };

function toPlain(value: PayloadValue): Plain {
  if (value instanceof NumberText) return { number: value.text };
  if (Array.isArray(value)) return value.map(toPlain);
  if (value instanceof PayloadObject) {
    const fields = (value as unknown as { fields: Map<string, { key: string; value: PayloadValue }> }).fields;
    return Object.fromEntries([...fields.values()].map((field) => [`key:${field.key}`, toPlain(field.value)]));
  }
  return value;
}

function acornReading(text: string): { value?: Plain; failed: boolean } {
  try {
    return { value: toPlain(payloadReaders.acorn(text)), failed: false };
  } catch {
    return { failed: true };
  }
}

const TRICKY = [
  '{"a":1}',
  '{"a":-0.5e-3,"b":1E+2,"c":0,"d":-0}',
  '{"a":01}',
  '{"a":.5}',
  '{"a":5.}',
  '{"a":0x1F}',
  '{"a":1_000}',
  '{"a":5n}',
  '{"a":- 5}',
  '{"a":+5}',
  '{"a":"x\\u0041\\n\\t\\"\\\\\\/"}',
  '{"a":"\\x41"}',
  '{"a":"\\u{41}"}',
  '{"a":"\\0"}',
  "{'a':'b\\'c'}",
  '{"a":"tab\there"}',
  '{"a":"line\nbreak"}',
  '{a:1,b_$:2,$c:3}',
  '{用户:1}',
  '{用户，:1}',
  '{ab用:1}',
  '{1:2}',
  '{"a":1,}',
  '{"a":[1,2,],}',
  '{"a":[1,,2]}',
  '{,}',
  '{"a":1 /* c */}',
  '{"a":1}// c',
  '{"a":\u00a01}',
  '{"a":true,"b":false,"c":null}',
  '{"a":truex}',
  '{"a":undefined}',
  '{"a":NaN}',
  '{"a":Infinity}',
  '({"a":1})',
  '{"a":1}}',
  '{"a":1',
  '{"__proto__":1}',
  '{"a":1,"A":2}',
  '{"a":"\u2028"}',
  '{"a":[{"b":{"c":[]}}]}',
  '[1,2]',
  '"x"',
];

describe('the fast payload reader', () => {
  it.each(TRICKY)('reads %j as acorn does, or leaves it to acorn', (text) => {
    const plain = payloadReaders.plainJson(text);
    if (plain === undefined) return;

    const acorn = acornReading(text);
    expect(acorn.failed).toBe(false);
    expect(toPlain(plain)).toEqual(acorn.value);
  });

  it('reads the strict-JSON examples of the spec itself and leaves the bare-key ones to acorn', () => {
    const bareKeys = ['ReadCurrentData', 'BatchChangePrice'];
    for (const [operation, example] of Object.entries(SPEC_EXAMPLES)) {
      const plain = payloadReaders.plainJson(example.trim());
      if (bareKeys.includes(operation)) {
        expect(plain).toBeUndefined();
        expect(acornReading(example.trim()).failed).toBe(false);
      } else {
        expect(toPlain(plain as PayloadValue)).toEqual(acornReading(example.trim()).value);
      }
    }
  });

  it('reads a BatchChangePrice of 100,000 meters itself', () => {
    const meters = Array.from({ length: 100_000 }, (_, index) => `{"UserID":"U${index}","MeterID":"M${index}"}`);
    const text = `{"Meters":[${meters.join(',')}],"Price1":1.20,"DataFrom":"苍南仪表集团"}`;

    const plain = payloadReaders.plainJson(text) as PayloadObject;
    expect(plain).toBeInstanceOf(PayloadObject);
    expect(plain.get('meters')).toHaveLength(100_000);
    expect(plain.get('Price1')).toEqual(new NumberText('1.20'));
  });
});
