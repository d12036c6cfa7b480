/**
 * Evaluates a parsed template: input values, every property (node, capability, relationship) with its
 * functions resolved and its value checked against the type. Results are memoised per template so the
 * planner and get_property share the work; a property that refers to itself is a located error.
 */
import { ToscaError } from '../errors';
import { evaluateFunctions } from '../functions';
import { functionName } from '../functions/names';
import { FunctionEnv, isRuntimeValue, Lookup, Scope, Site } from '../functions/context';
import type { PlanValue } from '../plan';
import { CONSTRAINT_OPERATORS } from '../types/constraints';
import { PropertyDef, ResolvedType } from '../types/registry';
import { convertInputString, validateValue, withDataDefaults } from '../types/values';
import { hasKey, isRecord } from '../util';
import type { NodeTemplate, ServiceTemplate } from './model';

const PENDING = Symbol('pending');

/** IM writes node_filter-like clauses as capability values ({ equal: x86_64 }); they are not type errors. */
export function isConstraintClause(v: unknown): boolean {
  if (!isRecord(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && CONSTRAINT_OPERATORS.has(keys[0]);
}

export class TemplateResolver implements FunctionEnv {
  private readonly inputs = new Map<string, PlanValue | typeof PENDING>();
  private readonly props = new Map<string, PlanValue | typeof PENDING>();
  private readonly hosts = new Map<string, string | undefined>();
  private readonly allProps = new Map<string, Record<string, PlanValue>>();

  /** Input defaults accepted outside their constraints (see strictInputs). */
  readonly warnings: string[] = [];

  constructor(readonly template: ServiceTemplate, private readonly given: Record<string, unknown> = {}, private readonly strictInputs = false) {}

  evaluate(value: unknown, scope: Scope, site: Site): PlanValue {
    return evaluateFunctions(value, scope, this, site);
  }

  // ---- inputs ----
  inputValue(name: string, site: Site): PlanValue {
    const def = this.template.inputs.get(name);
    if (!def) throw site.file.error('unknown-input', `get_input: undefined input ${name}`, [...site.path, 'get_input']);
    const hit = this.inputs.get(name);
    if (hit === PENDING) throw site.file.error('bad-function', `get_input: input ${name} refers to itself`, [...site.path, 'get_input']);
    if (hit !== undefined) return hit;
    this.inputs.set(name, PENDING);
    const value = this.computeInput(name, site);
    this.inputs.set(name, value);
    return value;
  }

  /** All inputs with their values (given, else default); those with neither are left out. */
  allInputs(): Record<string, PlanValue> {
    const out: Record<string, PlanValue> = {};
    for (const [name, def] of this.template.inputs) {
      if (this.given[name] === undefined && !def.def.hasDefault) continue;
      out[name] = this.inputValue(name, { file: def.file, path: def.path });
    }
    return out;
  }

  private computeInput(name: string, site: Site): PlanValue {
    const def = this.template.inputs.get(name)!;
    const file = def.file;
    let value = this.given[name];
    let path = def.path;
    if (value === undefined) {
      // IM and tosca-parser let a required input without value through as null; so do we
      if (!def.def.hasDefault || def.def.default === null) return null;
      value = def.def.default;
      path = [...def.path, 'default'];
    } else if (typeof value === 'string' && def.def.type !== 'string') {
      value = convertInputString(value, def.def.type, this.template.registry);
    }
    const resolved = this.evaluate(value, {}, { file, path });
    try {
      validateValue(resolved, def.def, this.template.registry, { file, path });
    } catch (e) {
      // a caller-given value has no place in the file: name the input definition instead
      if (e instanceof ToscaError && this.given[name] !== undefined) {
        throw file.error(e.code, `input ${name}: ${e.detail}`, def.path);
      }
      // IM and tosca-parser take a default outside its own constraints (IM's clients write the user's
      // values there): accept it and say so, unless the server is strict
      if (e instanceof ToscaError && e.code === 'constraint' && !this.strictInputs) {
        this.warnings.push(`${e.message} (the default of input ${name} is accepted as IM accepts it)`);
        return resolved;
      }
      throw e;
    }
    return resolved;
  }

  // ---- node properties ----
  nodeProperty(node: string, name: string): Lookup {
    const nt = this.template.nodes.get(node);
    if (!nt) return { found: false };
    const def = nt.type.properties.get(name);
    if (!def && !(hasKey(nt.properties, name))) return { found: false };
    return { found: true, value: this.memo(`n\0${node}\0${name}`, () => this.computeNodeProperty(nt, name, def)) };
  }

  private computeNodeProperty(nt: NodeTemplate, name: string, def: PropertyDef | undefined): PlanValue {
    const scope = { self: nt.name };
    if (hasKey(nt.properties, name)) {
      const site = { file: nt.file, path: [...nt.path, 'properties', name] };
      return this.checkedEval(nt.properties[name], def, scope, site);
    }
    if (def?.hasDefault) {
      const site = { file: def.origin.file, path: [...def.origin.path, 'default'] };
      return this.checkedEval(def.default, def, scope, site);
    }
    return null;
  }

  /** Every property of a node: given, defaulted, and extra ones the type does not declare. */
  nodeProperties(nt: NodeTemplate): Record<string, PlanValue> {
    const hit = this.allProps.get(nt.name);
    if (hit) return hit;
    const out: Record<string, PlanValue> = {};
    for (const def of nt.type.properties.values()) {
      if (!(hasKey(nt.properties, def.name)) && !def.hasDefault) {
        if (def.required) {
          const where = 'properties' in asRaw(nt) ? [...nt.path, 'properties'] : nt.path;
          throw nt.file.error('missing-required', `node ${nt.name} (${nt.type.name}) is missing required property ${def.name}`, where);
        }
        continue;
      }
      const r = this.nodeProperty(nt.name, def.name);
      if (r.found && !(r.value === null && !(hasKey(nt.properties, def.name)) && def.default === null)) out[def.name] = r.value;
    }
    for (const name of Object.keys(nt.properties)) {
      if (!hasKey(out, name)) {
        const r = this.nodeProperty(nt.name, name);
        if (r.found) out[name] = r.value;
      }
    }
    this.allProps.set(nt.name, out);
    return out;
  }

  // ---- capabilities ----
  capabilityType(nt: NodeTemplate, cap: string): ResolvedType | undefined {
    const def = nt.type.capabilities.get(cap);
    return def ? this.template.registry.resolve('capability', def.type) : undefined;
  }

  capabilityProperty(node: string, cap: string, name: string): Lookup {
    const nt = this.template.nodes.get(node);
    if (!nt) return { found: false };
    const capDef = nt.type.capabilities.get(cap);
    const given = hasKey(nt.capabilities, cap) ? nt.capabilities[cap] : undefined;
    const ctype = this.capabilityType(nt, cap);
    const pdef = ctype?.properties.get(name);
    const hasGiven = given !== undefined && hasKey(given, name);
    const hasTypeValue = capDef !== undefined && hasKey(capDef.properties, name);
    if (!pdef && !hasGiven && !hasTypeValue) return { found: false };
    return {
      found: true,
      value: this.memo(`c\0${node}\0${cap}\0${name}`, () => {
        const scope = { self: node };
        if (hasGiven) {
          const site = { file: nt.file, path: [...nt.path, 'capabilities', cap, 'properties', name] };
          return this.checkedEval(given[name], pdef, scope, site);
        }
        if (hasTypeValue) {
          const site = { file: capDef.origin.file, path: [...capDef.origin.path, 'properties', name] };
          const v = capDef.properties[name];
          // a refinement ({type:..., default:...}) rather than a value
          if (isRecord(v) && ('type' in v || 'default' in v) && pdef) {
            return 'default' in v ? this.evaluate(v.default, scope, site) : pdef.hasDefault ? this.evaluate(pdef.default, scope, site) : null;
          }
          return this.checkedEval(v, pdef, scope, site);
        }
        if (pdef?.hasDefault) {
          return this.evaluate(pdef.default, scope, { file: pdef.origin.file, path: [...pdef.origin.path, 'default'] });
        }
        return null;
      }),
    };
  }

  /** All properties of one capability (defaults included); required ones are checked when the template assigns it. */
  capabilityProperties(nt: NodeTemplate, cap: string): Record<string, PlanValue> {
    const out: Record<string, PlanValue> = {};
    const ctype = this.capabilityType(nt, cap);
    const given = (hasKey(nt.capabilities, cap) ? nt.capabilities[cap] : undefined) ?? {};
    const names = new Set([...(ctype?.properties.keys() ?? []), ...Object.keys(nt.type.capabilities.get(cap)?.properties ?? {}), ...Object.keys(given)]);
    for (const name of names) {
      const r = this.capabilityProperty(nt.name, cap, name);
      if (r.found && r.value !== null) out[name] = r.value;
    }
    if (hasKey(nt.capabilities, cap) && ctype) {
      for (const p of ctype.properties.values()) {
        if (p.required && !p.hasDefault && !hasKey(out, p.name)) {
          throw nt.file.error('missing-required', `capability ${cap} of node ${nt.name} is missing required property ${p.name}`, [...nt.path, 'capabilities', cap]);
        }
      }
    }
    return out;
  }

  // ---- relationships ----
  relationshipProperty(source: string, target: string, name: string): Lookup {
    const nt = this.template.nodes.get(source);
    const req = nt?.requirements.find((r) => r.target === target && r.relationshipType !== undefined);
    if (!nt || !req) return { found: false };
    const rtype = this.template.registry.resolve('relationship', req.relationshipType!);
    const pdef = rtype?.properties.get(name);
    if (hasKey(req.relationshipProperties, name)) {
      const site = { file: nt.file, path: [...req.path, 'relationship', 'properties', name] };
      return { found: true, value: this.checkedEval(req.relationshipProperties[name], pdef, { self: source, source, target }, site) };
    }
    if (pdef?.hasDefault) return { found: true, value: (pdef.default ?? null) as PlanValue };
    return pdef ? { found: true, value: null } : { found: false };
  }

  // ---- hosting ----
  hostOf(node: string): string | undefined {
    if (this.hosts.has(node)) return this.hosts.get(node);
    const nt = this.template.nodes.get(node);
    let host: string | undefined;
    if (nt) {
      const reg = this.template.registry;
      const hostedOn = nt.requirements.filter(
        (r) => r.target !== undefined && r.relationshipType !== undefined && reg.isA('relationship', r.relationshipType, 'tosca.relationships.HostedOn'),
      );
      host = (hostedOn.find((r) => r.name === 'host') ?? hostedOn[0] ?? nt.requirements.find((r) => r.name === 'host' && r.target !== undefined))?.target;
    }
    this.hosts.set(node, host);
    return host;
  }

  // ---- helpers ----
  private memo(key: string, compute: () => PlanValue): PlanValue {
    const hit = this.props.get(key);
    if (hit === PENDING) {
      const [, node, ...rest] = key.split('\0');
      const nt = this.template.nodes.get(node);
      throw (nt?.file ?? this.template.file).error('bad-function', `get_property: property ${rest.join('.')} of ${node} refers to itself`, nt?.path ?? []);
    }
    if (hit !== undefined) return hit;
    this.props.set(key, PENDING);
    try {
      const v = compute();
      this.props.set(key, v);
      return v;
    } catch (e) {
      this.props.delete(key);
      throw e;
    }
  }

  /**
   * Evaluate a written value and check it against its definition. A value produced by a function (e.g.
   * get_input) was checked against the input's own type; like tosca-parser, it is not checked again.
   */
  private checkedEval(raw: unknown, def: PropertyDef | undefined, scope: Scope, site: Site): PlanValue {
    const value = this.evaluate(raw, scope, site);
    if (def && functionName(raw) === undefined && !isRuntimeValue(value) && !isConstraintClause(value)) {
      validateValue(value, def, this.template.registry, site);
      return withDataDefaults(value, def, this.template.registry) as PlanValue;
    }
    return value;
  }
}

function asRaw(nt: NodeTemplate): Record<string, unknown> {
  return Object.keys(nt.properties).length ? { properties: nt.properties } : {};
}
