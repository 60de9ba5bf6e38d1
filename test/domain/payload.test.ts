import { PlatformError } from '../../src/domain/errors';
import { optionalDate, requiredAmount, requiredInteger, requiredString } from '../../src/domain/fields';
import { parsePayload } from '../../src/domain/payload';
import { SPEC_EXAMPLES } from '../fixtures/spec-examples';

function codeOf(work: () => unknown): number | undefined {
  try {
    work();
    return undefined;
  } catch (error) {
    return error instanceof PlatformError ? error.code : -1;
  }
}

describe('reading a payload (DECISIONS §4)', () => {
  it('reads every request example of the spec, quirks included', () => {
    for (const example of Object.values(SPEC_EXAMPLES)) {
      expect(() => parsePayload(example)).not.toThrow();
    }
  });

  it('finds keys case-insensitively and ignoring surrounding spaces', () => {
    const payload = parsePayload('{"price3":3.0, " ReturnCode ":"0"}');
    expect(requiredAmount(payload, 'Price3').toFixed(4)).toBe('3.0000');
    expect(requiredInteger(payload, 'ReturnCode')).toBe(0);
  });

  it('accepts unquoted keys, single quotes and trailing commas', () => {
    const payload = parsePayload("{Meters:[{UserID:'A',MeterID:'B',},],}");
    expect(payload.get('Meters')).toHaveLength(1);
  });

  it('keeps every digit of a number the way it was written', () => {
    const payload = parsePayload('{"a":999999999999.9999,"b":"0.0001","c":1.2,"d":"50000"}');
    expect(requiredAmount(payload, 'a').toFixed(4)).toBe('999999999999.9999');
    expect(requiredAmount(payload, 'b').toFixed(4)).toBe('0.0001');
    expect(requiredAmount(payload, 'c').toFixed(4)).toBe('1.2000');
    expect(requiredAmount(payload, 'd').toFixed(4)).toBe('50000.0000');
  });

  it('refuses a fifth decimal and a thirteenth integer digit with 80002002', () => {
    expect(codeOf(() => requiredAmount(parsePayload('{"a":1.00005}'), 'a'))).toBe(80002002);
    expect(codeOf(() => requiredAmount(parsePayload('{"a":"1000000000000"}'), 'a'))).toBe(80002002);
    expect(codeOf(() => requiredAmount(parsePayload('{"a":-5}'), 'a'))).toBe(80002002);
    expect(codeOf(() => requiredAmount(parsePayload('{"a":"12abc"}'), 'a'))).toBe(80002002);
    expect(codeOf(() => requiredAmount(parsePayload('{"a":true}'), 'a'))).toBe(80002002);
  });

  it('refuses what is not a JSON object with 80002001', () => {
    for (const text of ['', '   ', '[1,2]', '"x"', '{"a":1', '{"a":1}}', '{a:foo()}', '{"a":1}{}', '{...x}', '{"a":`t`}']) {
      expect(codeOf(() => parsePayload(text))).toBe(80002001);
    }
  });

  it('refuses the same key twice, whatever its case, rather than guess which one counts', () => {
    expect(codeOf(() => parsePayload('{"Price1":1,"price1":2}'))).toBe(80002001);
  });

  it('names a missing field and counts an over-long string as 80002003', () => {
    const payload = parsePayload('{"UserID":"", "Phone":"123456789012345678901"}');
    const missing = (() => {
      try {
        requiredString(payload, 'UserID', 50);
      } catch (error) {
        return error as PlatformError;
      }
    })();
    expect(missing?.code).toBe(80002003);
    expect(missing?.message).toContain('UserID');
    expect(codeOf(() => requiredString(payload, 'Phone', 20))).toBe(80002003);
    expect(codeOf(() => requiredString(parsePayload('{"Phone":"一二三四五六七八九十一二三四五六七八九十"}'), 'Phone', 20))).toBeUndefined();
  });

  it('reads dates in the tenant zone and refuses other formats with 80002002', () => {
    const payload = parsePayload('{"a":"2019-09-02 00:00:00","b":"2019-09-02","c":"2019/9/2 0:00:00","d":"2019-02-30 00:00:00"}');
    expect(optionalDate(payload, 'a', 'Asia/Shanghai')?.toISOString()).toBe('2019-09-01T16:00:00.000Z');
    expect(optionalDate(payload, 'b', 'Asia/Shanghai')?.toISOString()).toBe('2019-09-01T16:00:00.000Z');
    expect(codeOf(() => optionalDate(payload, 'c', 'Asia/Shanghai'))).toBe(80002002);
    expect(codeOf(() => optionalDate(payload, 'd', 'Asia/Shanghai'))).toBe(80002002);
  });
});
