/** The contextualization log as IM shows it (contmsg): one block per step, time, VM, node, status, output tail. */
import type { ContextLogEntry } from './types';

export const TAIL_LINES = 20;

/** Last `lines` lines of an output, at most 4 KiB. */
export function outputTail(text: string, lines = TAIL_LINES): string {
  const trimmed = text.replace(/\s+$/, '');
  const tail = trimmed.split('\n').slice(-lines).join('\n');
  return tail.length > 4096 ? tail.slice(-4096) : tail;
}

export function formatLogEntry(e: ContextLogEntry): string {
  const bits = [`${e.time} VM ${e.vmId} ${e.node} ${e.step}: ${e.status}`];
  if (e.exitCode !== undefined) bits.push(`exit ${e.exitCode}`);
  if (e.durationMs !== undefined) bits.push(`${(e.durationMs / 1000).toFixed(1)} s`);
  const head = bits.join(', ');
  if (!e.output) return head;
  return head + '\n' + e.output.split('\n').map((l) => `  | ${l}`).join('\n');
}

/** The whole log, or one VM's part of it. */
export function formatContmsg(entries: ContextLogEntry[], vmId?: string): string {
  return entries.filter((e) => vmId === undefined || e.vmId === vmId).map(formatLogEntry).join('\n') + (entries.length ? '\n' : '');
}
