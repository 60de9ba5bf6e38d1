import { parse as parseLosslessJson } from 'lossless-json';
import { DateTime } from 'luxon';

/**
 * The device API's messages (docs/device-api.md), read from the request text and checked before
 * anything touches the database.
 *
 * The body is strict JSON with the exact key names of the documentation (unlike the CIS
 * interface, whose examples need a lenient reader). Numbers keep their source text (DECISIONS §4:
 * readings and money never pass through a binary float): lossless-json hands every number token
 * over as its text, so a reading of 158.2200 arrives as the text "158.2200".
 *
 * Every problem in a request is collected, not only the first, so that a gateway's developer sees
 * at once everything to fix; a request with any problem is refused whole.
 */

/** One meter's report, as a gateway sends it on the meter's wake-up. */
export interface MeterReport {
  meterNo: string;
  readAt: Date;
  /** numeric(16,4) text */
  reading: string;
  /** spec §8: 01 open, 00 closed, 10 moving, 11 fault */
  valveState: string;
  temperature: string | null;
  pressure: string | null;
  remainMoney: string | null;
  totalBuyMoney: string | null;
  totalUsedGas: string | null;
  totalUsedMoney: string | null;
  price: string | null;
  batteryPercent: number | null;
  alarms: ReportedAlarm[];
}

export interface ReportedAlarm {
  type: string;
  /** The meter's own words; the platform's default message for the type when it sent none. */
  message: string | null;
  at: Date;
}

/** A meter's answer to one command. */
export interface CommandAnswer {
  meterNo: string;
  sequence: string;
  /** applied: done now; duplicate: done before, at an earlier send; rejected: refused. */
  result: 'applied' | 'duplicate' | 'rejected';
  message: string | null;
}

export interface Problem {
  /** Position in `reports` / `acks`; absent for a problem with the whole request. */
  index?: number;
  meterNo?: string;
  message: string;
}

export class DeviceRequestError extends Error {
  constructor(
    readonly status: number,
    readonly problems: Problem[],
  ) {
    super(problems.map(describeProblem).join('; '));
    this.name = 'DeviceRequestError';
  }
}

export function describeProblem(problem: Problem): string {
  const where = problem.index === undefined ? '' : `item ${problem.index}${problem.meterNo ? ` (meter ${problem.meterNo})` : ''}: `;
  return `${where}${problem.message}`;
}

/** At most this many meters per call: a gateway batches, but one call stays one short transaction. */
export const MAX_ITEMS_PER_CALL = 1000;

const VALVE_STATES = new Set(['00', '01', '10', '11']);
const ALARM_TYPE = /^[A-Z][A-Z0-9_]{0,29}$/;

/**
 * The window a report's or an alarm's time must fall in (2000-01-01 UTC to 10 minutes ahead of
 * the platform's clock); outside it the meter's clock is wrong, e.g. reset to 0001-01-01 by a
 * battery change. Refused rather than stored: a reading dated in the future would stay the
 * meter's snapshot until its clock caught up, and the database refuses some far-off dates.
 */
const EARLIEST_TIME = new Date('2000-01-01T00:00:00Z');
const MAX_CLOCK_AHEAD_MS = 10 * 60 * 1000;

/**
 * Text PostgreSQL cannot store: U+0000 (its text type has no NUL), and a UTF-16 surrogate without
 * its pair (not a character; UTF-8 has no encoding for it). JSON can escape both ("\u0000",
 * "\ud800").
 */
const NUL = /\u0000/;
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

type JsonValue = string | boolean | null | JsonValue[] | { [key: string]: JsonValue };
type JsonObject = { [key: string]: JsonValue };

export function readUplink(text: string, timeZone: string, now = new Date()): MeterReport[] {
  const items = readItems(text, 'reports');
  const problems: Problem[] = [];
  const reports: MeterReport[] = [];
  items.forEach((item, index) => {
    const reader = FieldReader.forItem(item, index, problems);
    const report = readReport(reader, timeZone, now);
    if (report) reports.push(report);
  });
  if (problems.length > 0) throw new DeviceRequestError(400, problems);
  return reports;
}

export function readAcknowledgements(text: string): CommandAnswer[] {
  const items = readItems(text, 'acks');
  const problems: Problem[] = [];
  const answers: CommandAnswer[] = [];
  items.forEach((item, index) => {
    const reader = FieldReader.forItem(item, index, problems);
    const meterNo = reader.text('meterNo', 50, true);
    const sequence = reader.integerText('sequence');
    const result = reader.text('result', 20, true);
    const message = reader.text('message', 150, false);
    if (result !== null && result !== 'applied' && result !== 'duplicate' && result !== 'rejected') {
      reader.problem('result must be applied, duplicate or rejected');
    }
    if (meterNo === null || sequence === null || reader.failed) return;
    answers.push({ meterNo, sequence, result: result as CommandAnswer['result'], message });
  });
  if (problems.length > 0) throw new DeviceRequestError(400, problems);
  return answers;
}

function readItems(text: string, key: 'reports' | 'acks'): JsonObject[] {
  let body: JsonValue;
  try {
    body = parseLosslessJson(text, null, keepNumberText) as JsonValue;
  } catch (error) {
    throw new DeviceRequestError(400, [{ message: `the body is not JSON (${(error as Error).message})` }]);
  }
  if (!isObject(body)) throw new DeviceRequestError(400, [{ message: 'the body must be a JSON object' }]);
  const items = body[key];
  if (!Array.isArray(items) || items.length === 0) {
    throw new DeviceRequestError(400, [{ message: `"${key}" must be a non-empty array` }]);
  }
  if (items.length > MAX_ITEMS_PER_CALL) {
    throw new DeviceRequestError(413, [
      { message: `at most ${MAX_ITEMS_PER_CALL} items per call, got ${items.length}: split the batch` },
    ]);
  }
  const problems: Problem[] = [];
  const objects = items.map((item, index) => {
    if (!isObject(item)) problems.push({ index, message: 'must be a JSON object' });
    return item as JsonObject;
  });
  if (problems.length > 0) throw new DeviceRequestError(400, problems);
  return objects;
}

function readReport(reader: FieldReader, timeZone: string, now: Date): MeterReport | undefined {
  const meterNo = reader.text('meterNo', 50, true);
  const readAt = reader.instant('readAt', timeZone, true, now);
  const valveState = reader.text('valveState', 2, true);
  if (valveState !== null && !VALVE_STATES.has(valveState)) {
    reader.problem('valveState must be 00 (closed), 01 (open), 10 (moving) or 11 (fault)');
  }
  const report = {
    meterNo: meterNo as string,
    readAt: readAt as Date,
    reading: reader.decimal('reading', { required: true, negative: false }) as string,
    valveState: valveState as string,
    temperature: reader.decimal('temperature', { required: false, negative: true }),
    pressure: reader.decimal('pressure', { required: false, negative: false }),
    remainMoney: reader.decimal('remainMoney', { required: false, negative: true }),
    totalBuyMoney: reader.decimal('totalBuyMoney', { required: false, negative: true }),
    totalUsedGas: reader.decimal('totalUsedGas', { required: false, negative: false }),
    totalUsedMoney: reader.decimal('totalUsedMoney', { required: false, negative: false }),
    price: reader.decimal('price', { required: false, negative: false }),
    batteryPercent: reader.percent('batteryPercent'),
    alarms: readAlarms(reader, readAt, timeZone, now),
  };
  return reader.failed ? undefined : report;
}

function readAlarms(reader: FieldReader, readAt: Date | null, timeZone: string, now: Date): ReportedAlarm[] {
  const value = reader.raw('alarms');
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    reader.problem('alarms must be an array');
    return [];
  }
  const alarms: ReportedAlarm[] = [];
  value.forEach((item, position) => {
    const field = `alarms[${position}]`;
    if (!isObject(item)) {
      reader.problem(`${field} must be an object {type, message?, at?}`);
      return;
    }
    const alarm = reader.nested(item, `${field}.`);
    const type = alarm.text('type', 30, true);
    if (type !== null && !ALARM_TYPE.test(type)) {
      alarm.problem(`${field}.type must be upper-case letters, digits and _ (e.g. LOW_BALANCE)`);
    }
    const message = alarm.text('message', 200, false);
    const at = alarm.instant('at', timeZone, false, now) ?? readAt;
    if (type !== null && at !== null && !alarm.failed) alarms.push({ type, message, at });
  });
  return alarms;
}

/**
 * Typed reads of one item's fields; each problem is recorded, never thrown. A nested reader (an
 * alarm of a report) records its problems under the item's index and meter, its fields named by
 * their path (alarms[1].type).
 */
class FieldReader {
  failed = false;

  private constructor(
    private readonly item: JsonObject,
    readonly index: number,
    readonly problems: Problem[],
    private readonly meterNo: string | undefined,
    private readonly path: string,
    private readonly parent?: FieldReader,
  ) {}

  static forItem(item: JsonObject, index: number, problems: Problem[]): FieldReader {
    const meterNo = item.meterNo;
    const usable = typeof meterNo === 'string' && unstorableText(meterNo) === undefined;
    return new FieldReader(item, index, problems, usable ? meterNo.trim() || undefined : undefined, '');
  }

  nested(item: JsonObject, path: string): FieldReader {
    return new FieldReader(item, this.index, this.problems, this.meterNo, `${this.path}${path}`, this);
  }

  raw(key: string): JsonValue | undefined {
    return this.item[key];
  }

  problem(message: string): void {
    this.failed = true;
    if (this.parent) this.parent.failed = true;
    this.problems.push({ index: this.index, meterNo: this.meterNo, message });
  }

  text(key: string, maxLength: number, required: boolean): string | null {
    const field = this.field(key);
    const text = this.item[key];
    if (text === undefined || text === null || text === '') {
      if (required) this.problem(`${field} is required`);
      return null;
    }
    if (typeof text !== 'string') {
      this.problem(`${field} must be a string`);
      return null;
    }
    const unstorable = unstorableText(text);
    if (unstorable) {
      this.problem(`${field} must not contain ${unstorable}`);
      return null;
    }
    if (text.trim() === '' || [...text].length > maxLength) {
      this.problem(`${field} must be 1 to ${maxLength} characters`);
      return null;
    }
    return text.trim();
  }

  integerText(key: string): string | null {
    const text = this.text(key, 19, true);
    if (text === null) return null;
    if (!/^[1-9]\d{0,17}$/.test(text)) {
      this.problem(`${this.field(key)} must be a positive integer`);
      return null;
    }
    return text;
  }

  /** numeric(16,4): at most 12 integer and 4 decimal digits, as a number or a numeric string. */
  decimal(key: string, options: { required: boolean; negative: boolean }): string | null {
    const value = this.item[key];
    if (value === undefined || value === null || value === '') {
      if (options.required) this.problem(`${this.field(key)} is required`);
      return null;
    }
    const text = typeof value === 'string' ? value.trim() : '';
    if (!/^[+-]?\d+(\.\d+)?$/.test(text)) {
      this.problem(`${this.field(key)} must be a decimal number`);
      return null;
    }
    const fixed = fourDecimals(text);
    if (fixed === undefined || (!options.negative && fixed.startsWith('-'))) {
      const sign = options.negative ? '' : ', not negative';
      this.problem(`${this.field(key)} must have at most 12 integer and 4 decimal digits${sign}`);
      return null;
    }
    return fixed;
  }

  percent(key: string): number | null {
    const value = this.item[key];
    if (value === undefined || value === null) return null;
    const text = typeof value === 'string' ? value : '';
    if (!/^\d{1,3}$/.test(text) || Number(text) > 100) {
      this.problem(`${this.field(key)} must be an integer from 0 to 100`);
      return null;
    }
    return Number(text);
  }

  /**
   * ISO 8601 with an offset (2026-12-03T10:00:00+08:00), or yyyy-MM-dd HH:mm:ss in the tenant's
   * zone; from 2000-01-01 to 10 minutes ahead of the platform's clock (`now`).
   */
  instant(key: string, timeZone: string, required: boolean, now: Date): Date | null {
    const field = this.field(key);
    const text = this.text(key, 40, required);
    if (text === null) return null;
    const parsed = ISO_INSTANT.test(text)
      ? isoInstant(text)
      : /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text)
        ? DateTime.fromFormat(text, 'yyyy-MM-dd HH:mm:ss', { zone: timeZone }).toJSDate()
        : undefined;
    if (parsed === undefined || Number.isNaN(parsed.getTime())) {
      this.problem(`${field} must be ISO 8601 with an offset or yyyy-MM-dd HH:mm:ss (tenant time)`);
      return null;
    }
    if (parsed < EARLIEST_TIME) {
      this.problem(`${field} ${text} is before 2000-01-01: check the meter's clock`);
      return null;
    }
    if (parsed.getTime() - now.getTime() > MAX_CLOCK_AHEAD_MS) {
      this.problem(`${field} ${text} is in the future (more than 10 minutes ahead of the platform's clock): check the meter's clock`);
      return null;
    }
    return parsed;
  }

  /** The field's name as the gateway wrote it: meterNo, alarms[1].type. */
  private field(key: string): string {
    return `${this.path}${key}`;
  }
}

/** What in the text PostgreSQL cannot store, or undefined when it can store all of it. */
function unstorableText(text: string): string | undefined {
  if (NUL.test(text)) return 'U+0000 (NUL)';
  if (UNPAIRED_SURROGATE.test(text)) return 'an unpaired surrogate (\\uD800-\\uDFFF without its pair)';
  return undefined;
}

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO 8601 instant with its offset; undefined when a field is out of range (2026-02-30). */
function isoInstant(text: string): Date | undefined {
  const [, year, month, day, hour, minute, second] = ISO_INSTANT.exec(text) as RegExpExecArray;
  const date = new Date(text);
  const valid =
    Number(month) >= 1 && Number(month) <= 12 && Number(day) >= 1 &&
    Number(day) <= new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate() &&
    Number(hour) <= 23 && Number(minute) <= 59 && Number(second) <= 59;
  return valid ? date : undefined;
}

/**
 * numeric(16,4) text with exactly four decimals, by string work alone: at most 12 integer digits
 * (leading zeros aside) and 4 decimals, else undefined.
 */
export function fourDecimals(text: string): string | undefined {
  const match = /^([+-]?)0*(\d*?)(?:\.(\d*?))?0*$/.exec(text.includes('.') ? text : `${text}.`);
  if (!match) return undefined;
  const [, sign, integer = '', decimals = ''] = match;
  if (integer.length > 12 || decimals.length > 4) return undefined;
  const body = `${integer || '0'}.${decimals.padEnd(4, '0')}`;
  return sign === '-' && body !== '0.0000' ? `-${body}` : body;
}

/** 0-9 . e E + - */
function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Numbers stay the text the gateway sent; the field readers check and convert them. */
function keepNumberText(text: string): string {
  return text;
}
