/**
 * JSON Schemas of GET and PUT …/elasticity, for openapi.yaml (server/api validates against it) and
 * for the tests. The PUT schema is generated from the knob table, so the two never drift apart.
 */
import { KNOBS, type KnobName } from './policy';

const nullable = (type: string | string[]) => ({ type: [...(Array.isArray(type) ? type : [type]), 'null'] });
const isoTime = { type: ['string', 'null'], format: 'date-time' };

function knobSchema(name: KnobName): Record<string, unknown> {
  const spec = KNOBS[name];
  switch (spec.kind) {
    case 'bool': return { type: 'boolean' };
    case 'lrms': return { type: 'string', enum: ['htcondor', 'condor', 'kubernetes', 'slurm', 'generic'] };
    case 'string': return { type: 'string', minLength: 1 };
    case 'count': return { type: 'integer', minimum: spec.min ?? 0 };
    default: return { type: 'number', minimum: spec.min ?? 0 };
  }
}

/** PUT body: knobs (canonical names and aliases), `paused`, per-node protection. */
export function elasticityPutSchema(): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const name of Object.keys(KNOBS) as KnobName[]) {
    for (const n of [name, ...KNOBS[name].aliases]) properties[n] = knobSchema(name);
  }
  properties.nodes = {
    type: 'object',
    additionalProperties: { type: 'object', required: ['protected'], additionalProperties: false, properties: { protected: { type: 'boolean' } } },
  };
  return { type: 'object', additionalProperties: false, properties };
}

const demand = {
  type: ['object', 'null'],
  required: ['waiting_jobs', 'waiting_slots', 'eligible_slots', 'unsatisfiable_jobs', 'in_flight_slots', 'nodes_wanted'],
  properties: {
    waiting_jobs: { type: 'integer' }, waiting_slots: { type: 'integer' }, eligible_slots: { type: 'integer' },
    overflow_slots: { type: 'integer' }, unsatisfiable_jobs: { type: 'integer' }, in_flight_slots: { type: 'integer' },
    nodes_wanted: { type: 'integer' },
  },
};

/** GET response (E-OBS-1). */
export function elasticityViewSchema(): Record<string, unknown> {
  const policyProps: Record<string, unknown> = { target: { type: 'string' }, front_end: nullable('string'), source: { type: 'string' } };
  for (const name of Object.keys(KNOBS) as KnobName[]) policyProps[name] = name === 'probe_command' ? nullable('string') : knobSchema(name);
  return {
    type: 'object',
    additionalProperties: false,
    required: ['infrastructure_id', 'policy', 'nodes', 'demand', 'capacity', 'sensing', 'scale_up', 'last_decision', 'events'],
    properties: {
      infrastructure_id: { type: 'string' },
      policy: { type: 'object', required: Object.keys(policyProps), additionalProperties: false, properties: policyProps },
      nodes: {
        type: 'array',
        items: {
          type: 'object', additionalProperties: false,
          required: ['vm_id', 'state', 'since', 'host', 'lrms_state', 'busy_slots', 'idle_since', 'join_deadline', 'drain_deadline', 'adopted', 'protected'],
          properties: {
            vm_id: { type: 'string' },
            state: { enum: ['booting', 'joined', 'stray', 'draining', 'removing', 'stopping', 'stopped'] },
            since: isoTime, host: nullable('string'), lrms_state: { enum: ['idle', 'busy', 'unknown', 'absent', null] },
            busy_slots: nullable('number'), idle_since: isoTime, join_deadline: isoTime, drain_deadline: isoTime,
            adopted: { type: 'boolean' }, protected: { type: 'boolean' },
          },
        },
      },
      demand,
      capacity: {
        type: 'object', additionalProperties: false,
        required: ['nodes', 'booting', 'joined', 'draining', 'removing', 'slots', 'busy_slots'],
        properties: Object.fromEntries(['nodes', 'booting', 'joined', 'draining', 'removing', 'slots', 'busy_slots'].map((k) => [k, { type: 'number' }])),
      },
      sensing: {
        type: 'object', additionalProperties: false, required: ['last_sample_at', 'stale', 'error'],
        properties: { last_sample_at: isoTime, stale: { type: 'boolean' }, error: nullable('string') },
      },
      scale_up: {
        type: 'object', additionalProperties: false, required: ['consecutive_join_failures', 'suspended_until'],
        properties: { consecutive_join_failures: { type: 'integer' }, suspended_until: isoTime },
      },
      last_decision: {
        type: ['object', 'null'], additionalProperties: false, required: ['at', 'add', 'drain', 'undrain', 'remove', 'reason'],
        properties: {
          at: isoTime, add: { type: 'integer' }, reason: { type: 'string' },
          drain: { type: 'array', items: { type: 'string' } }, undrain: { type: 'array', items: { type: 'string' } }, remove: { type: 'array', items: { type: 'string' } },
        },
      },
      events: {
        type: 'array',
        items: {
          type: 'object', additionalProperties: false, required: ['at', 'type', 'reason'],
          properties: { at: { type: 'string', format: 'date-time' }, type: { type: 'string' }, reason: { type: 'string' }, vmIds: { type: 'array', items: { type: 'string' } }, dryRun: { type: 'boolean' } },
        },
      },
    },
  };
}

/**
 * The same schema in OpenAPI 3.0's dialect (openapi.yaml): `type: [t, 'null']` becomes
 * `type: t, nullable: true`; an enum holding null is marked nullable too.
 */
export function toOpenApi30(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toOpenApi30);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema as Record<string, unknown>)) {
    if (k === 'properties' || k === 'additionalProperties' && typeof v === 'object') {
      out[k] = k === 'properties'
        ? Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([p, s]) => [p, toOpenApi30(s)]))
        : toOpenApi30(v);
    } else if (k === 'type' && Array.isArray(v)) {
      const types = v.filter((t) => t !== 'null');
      if (types.length !== 1) throw new Error(`toOpenApi30: cannot express type ${JSON.stringify(v)}`);
      out.type = types[0];
      if (v.includes('null')) out.nullable = true;
    } else if (k === 'enum' && Array.isArray(v) && v.includes(null)) {
      out.enum = v; // OpenAPI 3.0.3: a nullable enum lists null itself, and nullable needs a type
      out.nullable = true;
      if (!('type' in (schema as object))) out.type = typeof v.find((x) => x !== null);
    } else {
      out[k] = toOpenApi30(v);
    }
  }
  return out;
}
