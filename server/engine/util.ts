/** Small helpers of the engine (async ones: lib/async.ts, lib/sleep.ts). */

/** IM's contmsg line prefix: str(datetime.now()) → "2026-01-31 12:00:00.123456" (UTC here). */
export function imTimestamp(d = new Date()): string {
  const iso = d.toISOString(); // 2026-01-31T12:00:00.123Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
