/** IM's boolean query flags: yes|no|true|false|1|0 (any case). */
import type { Request } from 'express';
import { ApiError } from './api-error';

const TRUE = new Set(['yes', 'true', '1']);
const FALSE = new Set(['no', 'false', '0']);

export function flag(req: Request, name: string, fallback: boolean): boolean {
  const raw = req.query[name];
  if (raw === undefined) return fallback;
  const value = (Array.isArray(raw) ? raw[raw.length - 1] : raw);
  if (typeof value !== 'string') throw badFlag(name);
  const v = value.trim().toLowerCase();
  if (v === '') return fallback;
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw badFlag(name);
}

/** A single-valued string query parameter. */
export function queryString(req: Request, name: string): string | undefined {
  const raw = req.query[name];
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  return typeof value === 'string' ? value : undefined;
}

function badFlag(name: string): ApiError {
  return new ApiError(400, `Incorrect value for the "${name}" flag: use yes, no, true, false, 1 or 0`);
}
