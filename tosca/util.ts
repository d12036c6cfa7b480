/** Small helpers for walking untyped YAML values. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;
export function asRecord(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : EMPTY;
}

/** Own key of a YAML map (never an inherited one like "constructor"). */
export function hasKey(obj: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** Any YAML value as text, safely: maps like { toString: 0 } make String() throw. */
export function text(v: unknown): string {
  if (v !== null && typeof v === 'object') {
    try {
      return JSON.stringify(v);
    } catch {
      return '[object]';
    }
  }
  return String(v);
}
