/**
 * Responses are strict JSON (DECISIONS §4) but money must appear as a number token with exactly
 * four decimals (`3.2000`), which JSON.stringify cannot write. Values wrapped in `JsonNumber` are
 * written verbatim; everything else as JSON.stringify would.
 */
export class JsonNumber {
  constructor(readonly text: string) {
    if (!/^-?\d+(\.\d+)?$/.test(text)) throw new Error(`not a JSON number: ${text}`);
  }
}

export type JsonOutput =
  | string
  | number
  | boolean
  | null
  | JsonNumber
  | JsonOutput[]
  | { [key: string]: JsonOutput | undefined };

export function writeJson(value: JsonOutput): string {
  if (value instanceof JsonNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(writeJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .map(([key, member]) => `${JSON.stringify(key)}:${writeJson(member as JsonOutput)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}
