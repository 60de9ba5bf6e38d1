import { DateTime } from 'luxon';

/** DECISIONS §4: dates go out as `yyyy-MM-dd HH:mm:ss` in the tenant's zone. */
export function formatLocalDateTime(value: Date, timeZone: string): string {
  return DateTime.fromJSDate(value, { zone: timeZone }).toFormat('yyyy-MM-dd HH:mm:ss');
}

export function isValidTimeZone(timeZone: string): boolean {
  return DateTime.now().setZone(timeZone).isValid;
}
