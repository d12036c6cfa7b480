/** TOSCA scalar-unit values ("2 GB", "500 ms", "2.4 GHz") in base units, and back to the unit a plan wants. */
import { hasKey } from '../util';

export type ScalarKind = 'size' | 'time' | 'frequency' | 'bitrate';

const UNITS: Record<ScalarKind, Record<string, number>> = {
  size: {
    b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3, tb: 1e12, tib: 1024 ** 4,
  },
  time: { d: 86400, h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 },
  frequency: { hz: 1, khz: 1e3, mhz: 1e6, ghz: 1e9 },
  bitrate: {
    // bits per second; units are read case-insensitively, so TOSCA's byte forms (KBps) read as bits
    bps: 1, kbps: 1e3, kibps: 1024, mbps: 1e6, mibps: 1024 ** 2, gbps: 1e9, gibps: 1024 ** 3, tbps: 1e12, tibps: 1024 ** 4,
  },
};

const SCALAR_RE = /^\s*(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)\s*([A-Za-z]+)\s*$/;

export function scalarKindOf(type: string): ScalarKind | undefined {
  if (!type.startsWith('scalar-unit.')) return undefined;
  const k = type.slice('scalar-unit.'.length);
  return k in UNITS ? (k as ScalarKind) : undefined;
}

/** Value in base units (bytes, seconds, Hz, bps), or undefined if it is not a valid scalar of that kind. */
export function parseScalar(value: unknown, kind: ScalarKind): number | undefined {
  // A bare number is read in the base unit (IM accepts that; tosca-parser would not)
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const m = SCALAR_RE.exec(value);
  if (!m) return undefined;
  const unit = m[2].toLowerCase();
  return hasKey(UNITS[kind], unit) ? Number(m[1]) * UNITS[kind][unit] : undefined;
}

const BINARY: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * A scalar-unit.size as a number of MB or GB the way IM sizes VMs: units are read as binary
 * ("2 GB" and "2 GiB" are both 2048 MB, as IM's RADL does), which is also how clouds count flavor
 * RAM (MiB) and disk (GiB). Rounded up to whole units; bare numbers are already in `bareUnit`.
 */
export function sizeIn(value: unknown, unit: 'MB' | 'GB', bareUnit: 'MB' | 'GB' | 'B' = 'B'): number | undefined {
  let bytes: number | undefined;
  if (typeof value === 'number') bytes = value * BINARY[bareUnit[0].toLowerCase()];
  else if (typeof value === 'string') {
    const m = SCALAR_RE.exec(value);
    const factor = m && hasKey(BINARY, m[2][0].toLowerCase()) ? BINARY[m[2][0].toLowerCase()] : undefined;
    if (m && factor !== undefined && hasKey(UNITS.size, m[2].toLowerCase())) bytes = Number(m[1]) * factor;
  }
  if (bytes === undefined) return undefined;
  return Math.ceil(bytes / BINARY[unit[0].toLowerCase()] - 1e-9);
}
