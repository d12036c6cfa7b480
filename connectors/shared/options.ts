/** Reading IM credential-line options that every connector shares. */
import { InvalidInputError } from '../../lib/errors';

/** IM's boolean spellings: yes|no|true|false|1|0 (case-insensitive). Absent → fallback. */
export function parseBoolOption(value: string | undefined, name: string, fallback = false): boolean {
  if (value === undefined || value.trim() === '') return fallback;
  const v = value.trim().toLowerCase();
  if (['yes', 'true', '1'].includes(v)) return true;
  if (['no', 'false', '0'].includes(v)) return false;
  throw new InvalidInputError(`Invalid value "${value}" for ${name}: expected yes|no|true|false|1|0`);
}

/** First present field among aliases (IM lines spell some options in several ways). */
export function field(fields: Record<string, string>, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = fields[n];
    if (v !== undefined && v.trim() !== '') return v.trim();
  }
  return undefined;
}
