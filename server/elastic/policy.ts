/**
 * The elastic policy: one flat set of knobs, built from the template's ElasticPolicyPlan
 * (tosca.policies.Scaling or the INDIGO/EC3 ElasticCluster config_options) and changed live
 * through PUT …/elasticity. One table drives parsing, aliases, defaults, validation and docs,
 * so the three entry points cannot drift apart.
 */
import type { ElasticPolicyPlan, PlanValue } from '../../tosca/plan';
import { InvalidInputError } from '../errors';

export type LrmsKind = 'htcondor' | 'kubernetes' | 'slurm' | 'generic';

/** Knob names are the wire names (GET/PUT …/elasticity), hence snake_case. */
export interface ElasticPolicy {
  /** The compute node that grows and shrinks. */
  target: string;
  /** Node running the LRMS front end (the master); never removed. */
  frontEnd?: string;
  source: ElasticPolicyPlan['source'];
  min_nodes: number;
  max_nodes: number;
  spare_nodes: number;
  slots_per_node: number;
  waiting_jobs_threshold: number;
  scale_up_pending_for_s: number;
  idle_before_scale_down_s: number;
  deploy_time_estimate_s: number;
  /** 0 = no limit (CLUES' MAX_BOOTING_NODES = 0). */
  max_booting_nodes: number;
  max_nodes_per_step: number;
  /** VM creates per minute on the cloud account, shared by every infrastructure using it (E-RATE-1); 0 = no limit. */
  max_creates_per_minute: number;
  join_timeout_s: number;
  drain_timeout_s: number;
  check_every_s: number;
  scale_down_delay_after_add_s: number;
  max_consecutive_join_failures: number;
  /** Billing-aware removal (E-DOWN-5): 0 = off; else remove only near the end of a paid period. */
  billing_interval_s: number;
  billing_safe_margin_s: number;
  /** E-DOWN-6 (EC3 ec3_reuse_nodes): stop drained nodes instead of deleting them; start them first on scale-up. */
  reuse_nodes: boolean;
  dry_run: boolean;
  paused: boolean;
  lrms: LrmsKind;
  /** Generic probe: a command on the master printing {"waiting": N, "busy": {"host": jobs}}. */
  probe_command?: string;
}

export type KnobName = Exclude<keyof ElasticPolicy, 'target' | 'frontEnd' | 'source'>;

type KnobKind = 'count' | 'seconds' | 'bool' | 'lrms' | 'string';
interface KnobSpec {
  kind: KnobKind;
  /** Smallest accepted value for numbers. */
  min?: number;
  aliases: string[];
}

/** Aliases: elastiq's names, TOSCA Scaling properties, CLUES config_options (E-DECL-1). */
export const KNOBS: Record<KnobName, KnobSpec> = {
  min_nodes: { kind: 'count', min: 0, aliases: ['min_vms', 'min_instances'] },
  max_nodes: { kind: 'count', min: 1, aliases: ['max_vms', 'max_instances'] },
  spare_nodes: { kind: 'count', min: 0, aliases: ['EXTRA_NODES_FREE'] },
  slots_per_node: { kind: 'count', min: 1, aliases: ['n_jobs_per_vm', 'jobs_per_node'] },
  waiting_jobs_threshold: { kind: 'count', min: 1, aliases: [] },
  scale_up_pending_for_s: { kind: 'seconds', min: 0, aliases: ['waiting_jobs_time_s', 'RECONSIDER_JOB_TIME'] },
  idle_before_scale_down_s: { kind: 'seconds', min: 1, aliases: ['idle_for_time_s', 'IDLE_TIME'] },
  deploy_time_estimate_s: { kind: 'seconds', min: 1, aliases: ['estimated_vm_deploy_time_s'] },
  max_booting_nodes: { kind: 'count', min: 0, aliases: ['MAX_BOOTING_NODES'] },
  max_nodes_per_step: { kind: 'count', min: 1, aliases: ['max_nodes_added_per_step', 'increment'] },
  max_creates_per_minute: { kind: 'count', min: 0, aliases: [] },
  join_timeout_s: { kind: 'seconds', min: 1, aliases: ['MAX_WAIT_POWERON'] },
  drain_timeout_s: { kind: 'seconds', min: 1, aliases: ['MAX_WAIT_POWEROFF'] },
  check_every_s: { kind: 'seconds', min: 1, aliases: ['check_queue_every_s', 'PERIOD_MONITORING_NODES'] },
  scale_down_delay_after_add_s: { kind: 'seconds', min: 0, aliases: [] },
  max_consecutive_join_failures: { kind: 'count', min: 1, aliases: [] },
  billing_interval_s: { kind: 'seconds', min: 0, aliases: ['ec3_destroy_interval'] },
  billing_safe_margin_s: { kind: 'seconds', min: 0, aliases: ['ec3_destroy_safe'] },
  reuse_nodes: { kind: 'bool', aliases: ['ec3_reuse_nodes'] },
  dry_run: { kind: 'bool', aliases: ['dry_run_boot_vms', 'dry_run_shutdown_vms'] },
  paused: { kind: 'bool', aliases: [] },
  lrms: { kind: 'lrms', aliases: ['clues_queue_system'] },
  probe_command: { kind: 'string', aliases: [] },
};

/** Defaults (docs/elasticity.md says where each comes from). max_nodes has none: it is required. */
export const DEFAULTS: Omit<ElasticPolicy, 'target' | 'frontEnd' | 'source' | 'max_nodes' | 'lrms'> = {
  min_nodes: 0,
  spare_nodes: 0,
  slots_per_node: 4,
  waiting_jobs_threshold: 1,
  scale_up_pending_for_s: 60,
  idle_before_scale_down_s: 600,
  deploy_time_estimate_s: 600,
  max_booting_nodes: 0,
  max_nodes_per_step: 5,
  max_creates_per_minute: 60,
  join_timeout_s: 1800,
  drain_timeout_s: 600,
  check_every_s: 15,
  scale_down_delay_after_add_s: 600,
  max_consecutive_join_failures: 3,
  billing_interval_s: 0,
  billing_safe_margin_s: 0,
  reuse_nodes: false,
  dry_run: false,
  paused: false,
};

/** CLUES options that exist in real EC3/IM-Dashboard templates but mean nothing here: accepted, ignored. */
const CLUES_IGNORED = new Set([
  'SCHEDULER_CLASSES', 'CLUES_REQUEST_WAIT_TIMEOUT', 'PERIOD_LIFECYCLE', 'PERIOD_MONITORING_JOBS',
  'PERIOD_SCHEDULE', 'PERIOD_RECOVERY_NODES', 'RETRIES_POWER_ON', 'RETRIES_POWER_OFF', 'DELAY_POWON',
  'DELAY_POWOFF', 'TIME_OFF_GLITCH_DETECTION', 'EXTRA_SLOTS_FREE', 'EXTRA_NODES_PERIOD', 'COOLDOWN_NODES',
  'MAX_WAIT_POWEROFF_FAIL_GRACE', 'LOG_LEVEL', 'LOG_FILE',
]);
/** Plan option keys that are not knobs: Scaling properties, and the names the TOSCA engine adds. */
const SCALING_IGNORED = new Set(['default_instances', 'targets', 'policy', 'workerNode']);

const ALIAS_TO_KNOB = new Map<string, KnobName>();
for (const [name, spec] of Object.entries(KNOBS) as [KnobName, KnobSpec][]) {
  ALIAS_TO_KNOB.set(name, name);
  for (const a of spec.aliases) ALIAS_TO_KNOB.set(a, name);
}

/** Which knob a given name means (canonical or alias), or undefined. */
export function knobFor(name: string): KnobName | undefined {
  return ALIAS_TO_KNOB.get(name);
}

function bad(knob: string, given: string, why: string, value: unknown): never {
  const as = given !== knob ? ` (given as ${given})` : '';
  throw new InvalidInputError(`elasticity: knob "${knob}"${as} ${why}, got ${JSON.stringify(value)}`);
}

/** Convert one raw value (template strings such as '300' are common) to the knob's type. */
function coerce(knob: KnobName, given: string, raw: unknown): ElasticPolicy[KnobName] {
  const spec = KNOBS[knob];
  switch (spec.kind) {
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      if (raw === 0 || raw === 1) return raw === 1;
      if (typeof raw === 'string' && /^(true|false|0|1|yes|no)$/i.test(raw.trim())) return /^(true|1|yes)$/i.test(raw.trim());
      return bad(knob, given, 'must be a boolean', raw);
    }
    case 'lrms': {
      const v = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
      const map: Record<string, LrmsKind> = { htcondor: 'htcondor', condor: 'htcondor', kubernetes: 'kubernetes', slurm: 'slurm', generic: 'generic' };
      if (typeof v === 'string' && map[v]) return map[v];
      return bad(knob, given, 'must be one of htcondor, kubernetes, slurm, generic', raw);
    }
    case 'string':
      if (typeof raw === 'string' && raw.trim() !== '') return raw;
      return bad(knob, given, 'must be a non-empty string', raw);
    default: {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      const min = spec.min ?? 0;
      const what = spec.kind === 'seconds' ? 'a number of seconds' : 'an integer';
      if (!Number.isFinite(n) || (spec.kind === 'count' && !Number.isInteger(n)) || n < min) {
        return bad(knob, given, `must be ${what} >= ${min}`, raw);
      }
      return n;
    }
  }
}

type Changes = Partial<Record<KnobName, ElasticPolicy[KnobName]>>;

/** Fold raw name→value pairs into knob changes; the same knob twice with different values is an error. */
function collect(pairs: [string, unknown][], unknown: (name: string) => 'ignore' | 'reject'): Changes {
  const out: Changes = {};
  const givenAs: Partial<Record<KnobName, string>> = {};
  for (const [given, raw] of pairs) {
    const knob = knobFor(given);
    if (!knob) {
      if (unknown(given) === 'ignore') continue;
      throw new InvalidInputError(`elasticity: unknown knob "${given}"`);
    }
    const v = coerce(knob, given, raw);
    if (knob in out && out[knob] !== v) {
      throw new InvalidInputError(`elasticity: knob "${knob}" given twice with different values (as ${givenAs[knob]} and ${given})`);
    }
    (out as Record<string, unknown>)[knob] = v;
    givenAs[knob] = given;
  }
  return out;
}

/** config_options as EC3 writes it (a list of {section, option, value}) or as a plain map. */
function configOptionPairs(v: PlanValue): [string, unknown][] {
  if (Array.isArray(v)) {
    return v.map((item, i) => {
      if (!item || typeof item !== 'object' || Array.isArray(item) || typeof (item as Record<string, unknown>).option !== 'string') {
        throw new InvalidInputError(`elasticity: config_options[${i}] must be {section, option, value}`);
      }
      const o = item as Record<string, unknown>;
      return [o.option as string, o.value];
    });
  }
  if (v && typeof v === 'object' && !('$ref' in v)) return Object.entries(v);
  throw new InvalidInputError('elasticity: config_options must be a list of {section, option, value} or a map');
}

export interface PolicyContext {
  /** TOSCA type of the front-end node (to pick the LRMS adapter). */
  frontEndType?: string;
  /** CPUs of the worker flavour: the natural slots-per-node default. */
  workerCpus?: number;
}

/** LRMS from the front end's type name (…LRMS.FrontEnd.HTCondor, …Kubernetes). */
export function lrmsFromType(type: string | undefined): LrmsKind | undefined {
  if (!type) return undefined;
  if (/condor/i.test(type)) return 'htcondor';
  if (/kubernetes/i.test(type)) return 'kubernetes';
  if (/slurm/i.test(type)) return 'slurm';
  return undefined;
}

/** The policy of a template's elastic declaration (E-DECL-1/3/4). Throws InvalidInputError naming the knob. */
export function policyFromPlan(plan: ElasticPolicyPlan, ctx: PolicyContext = {}): ElasticPolicy {
  const pairs: [string, unknown][] = [];
  let configOptions: [string, unknown][] = [];
  for (const [k, v] of Object.entries(plan.options ?? {})) {
    if (k === 'config_options') configOptions = configOptionPairs(v);
    else pairs.push([k, v]);
  }
  // An ElasticCluster node carries many unrelated properties (tokens, plugin names): only knob
  // names are read from it. A Scaling policy has a closed property set, so strangers are errors.
  const fromProps = collect(pairs, (name) =>
    plan.source === 'elastic-cluster' || SCALING_IGNORED.has(name) || name === 'min_instances' || name === 'max_instances'
      ? 'ignore' : 'reject');
  const fromClues = collect(configOptions, (name) => (CLUES_IGNORED.has(name) ? 'ignore' : 'reject'));
  const base: ElasticPolicy = {
    ...DEFAULTS,
    target: plan.target,
    frontEnd: plan.frontEnd,
    source: plan.source,
    min_nodes: plan.minInstances,
    max_nodes: plan.maxInstances,
    lrms: lrmsFromType(ctx.frontEndType) ?? 'generic',
    ...(ctx.workerCpus && ctx.workerCpus >= 1 ? { slots_per_node: Math.floor(ctx.workerCpus) } : {}),
  };
  return validatePolicy({ ...base, ...fromProps, ...fromClues } as ElasticPolicy);
}

/** Cross-knob rules (E-DECL-3). */
export function validatePolicy(p: ElasticPolicy): ElasticPolicy {
  for (const knob of Object.keys(KNOBS) as KnobName[]) {
    if (knob === 'probe_command' && p[knob] === undefined) continue;
    coerce(knob, knob, p[knob]);
  }
  if (p.min_nodes > p.max_nodes) bad('min_nodes', 'min_nodes', `must be <= max_nodes (${p.max_nodes})`, p.min_nodes);
  if (p.spare_nodes > p.max_nodes) bad('spare_nodes', 'spare_nodes', `must be <= max_nodes (${p.max_nodes})`, p.spare_nodes);
  if (p.billing_interval_s > 0 && !(p.billing_safe_margin_s > 0 && p.billing_safe_margin_s < p.billing_interval_s)) {
    bad('billing_safe_margin_s', 'billing_safe_margin_s', `must be > 0 and < billing_interval_s (${p.billing_interval_s}) when billing is on`, p.billing_safe_margin_s);
  }
  // A generic LRMS without probe_command is not an error: IM accepts such templates (e.g. Slurm
  // with CLUES), so the manager reports "no probe" and stays frozen instead of refusing creation.
  return p;
}

/** PUT …/elasticity: apply a JSON body of knob changes (aliases accepted) and re-validate. */
export function applyKnobChanges(p: ElasticPolicy, body: unknown): { policy: ElasticPolicy; changed: Changes } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidInputError('elasticity: the body must be a JSON object of knobs');
  }
  const changed = collect(Object.entries(body as Record<string, unknown>), () => 'reject');
  return { policy: validatePolicy({ ...p, ...changed } as ElasticPolicy), changed };
}

/** The knobs as the API shows them. */
export function policyView(p: ElasticPolicy): Record<string, unknown> {
  const out: Record<string, unknown> = { target: p.target, front_end: p.frontEnd ?? null, source: p.source };
  for (const k of Object.keys(KNOBS) as KnobName[]) out[k] = p[k] ?? null;
  return out;
}
