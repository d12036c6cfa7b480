/** Fault injection, configured per test: `sim.faults.latencyMs = 200`, `sim.faults.errors.push(...)`. */

export interface InjectedError {
  /** Tested against "METHOD /path" (path without query), e.g. /^POST \/compute\/v2.1\/servers$/. */
  match: RegExp;
  /** HTTP status to answer (500, 503, 429...). */
  status: number;
  /** How many matching requests fail; decremented on each. */
  count: number;
  /** Perform the request, then answer the error instead of its JSON result (a lost answer). */
  afterHandling?: boolean;
  /** Neutron error type to put in the body (e.g. SecurityGroupRuleExists). */
  type?: string;
}

export interface BootFailure {
  /** Servers whose name matches go to ERROR at the end of BUILD. */
  pattern: RegExp;
  /** How many boots fail before they succeed again (Infinity: always). */
  times: number;
  message?: string;
}

export interface SimFaults {
  /** Delay before answering every API request (not /_sim). */
  latencyMs: number;
  errors: InjectedError[];
  bootFailures: BootFailure[];
  /** Time a server spends in BUILD. */
  activeDelayMs: number;
  /** Time between DELETE and the server answering 404. */
  deleteDelayMs: number;
  /**
   * Nova's quota race: concurrent creates all pass the API's check (instances are counted only once
   * the conductor made them), and the conductor's re-check puts the extra ones in ERROR with a quota
   * fault. When set, POST /servers over the instance/core/RAM quota is accepted (202) and the server
   * goes to ERROR "Quota exceeded for instances: ..." (fault code 403) at the end of BUILD.
   */
  conductorQuota: boolean;
}

export function defaultFaults(): SimFaults {
  return { latencyMs: 0, errors: [], bootFailures: [], activeDelayMs: 150, deleteDelayMs: 50, conductorQuota: false };
}

/** Faults as JSON (PUT /_sim/faults): patterns are strings. */
export interface SimFaultsJson {
  latencyMs?: number;
  activeDelayMs?: number;
  deleteDelayMs?: number;
  conductorQuota?: boolean;
  errors?: { match: string; status: number; count: number; afterHandling?: boolean; type?: string }[];
  bootFailures?: { pattern: string; times?: number | null; message?: string }[];
}

export function applyFaultsJson(f: SimFaults, j: SimFaultsJson): void {
  if (j.latencyMs !== undefined) f.latencyMs = Number(j.latencyMs);
  if (j.activeDelayMs !== undefined) f.activeDelayMs = Number(j.activeDelayMs);
  if (j.deleteDelayMs !== undefined) f.deleteDelayMs = Number(j.deleteDelayMs);
  if (j.conductorQuota !== undefined) f.conductorQuota = !!j.conductorQuota;
  if (j.errors) f.errors = j.errors.map((e) => ({ match: new RegExp(e.match), status: Number(e.status), count: Number(e.count), afterHandling: !!e.afterHandling, type: e.type }));
  if (j.bootFailures) f.bootFailures = j.bootFailures.map((b) => ({ pattern: new RegExp(b.pattern), times: b.times ?? Infinity, message: b.message }));
}
