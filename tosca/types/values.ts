/**
 * Checks a concrete value against a TOSCA type (primitive, scalar unit, list/map with entry_schema, data
 * type) and its constraints. Lenient where IM is: numbers/booleans pass as strings, numeric strings pass
 * as numbers, and unknown data type fields are kept. Values holding function calls are checked later,
 * once resolved, or not at all if they stay run-time references.
 */
import { ToscaError } from '../errors';
import { functionName } from '../functions/names';
import { isRecord } from '../util';
import { SourceFile, YamlPath } from '../yaml/source';
import { checkConstraints, Normalise } from './constraints';
import { PRIMITIVE_TYPES, SchemaDef, TypeRegistry } from './registry';
import { parseScalar, scalarKindOf } from './scalar';

export interface ValueSite {
  file: SourceFile;
  path: YamlPath;
}

const INT_RE = /^[-+]?[0-9]+$/;
const FLOAT_RE = /^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;
const VERSION_RE = /^\d+(\.\d+){0,2}([.-][\w-]+)*$/;

function isRuntime(v: unknown): boolean {
  return functionName(v) !== undefined || (isRecord(v) && typeof v.$ref === 'string');
}

/** The value ready for ordering/equality in constraints. */
function normaliser(type: string, registry: TypeRegistry): Normalise {
  const base = primitiveOf(type, registry);
  const kind = scalarKindOf(base);
  if (kind) return (v) => parseScalar(v, kind) ?? v;
  if (base === 'integer' || base === 'float') return (v) => (typeof v === 'string' && FLOAT_RE.test(v) ? Number(v) : v);
  if (base === 'version') return (v) => (typeof v === 'number' ? String(v) : v);
  return (v) => v;
}

function primitiveOf(type: string, registry: TypeRegistry): string {
  if (PRIMITIVE_TYPES.has(type)) return type;
  return registry.resolve('data', type)?.primitive ?? type;
}

export function validateValue(value: unknown, schema: SchemaDef, registry: TypeRegistry, site: ValueSite): void {
  if (value === null || value === undefined || isRuntime(value)) return;
  const wrong = (what: string): ToscaError =>
    site.file.error('wrong-type', `${describe(value)} is not a valid ${what}`, site.path);
  const type = schema.type;
  switch (type) {
    case 'any':
      break;
    case 'string':
      if (typeof value === 'object') throw wrong('string');
      break;
    case 'integer':
      if (!(typeof value === 'number' && Number.isInteger(value)) && !(typeof value === 'string' && INT_RE.test(value))) {
        throw wrong('integer');
      }
      break;
    case 'float':
      if (typeof value !== 'number' && !(typeof value === 'string' && FLOAT_RE.test(value))) throw wrong('float');
      break;
    case 'boolean':
      if (typeof value !== 'boolean' && !(typeof value === 'string' && /^(true|false)$/i.test(value))) throw wrong('boolean');
      break;
    case 'timestamp':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value.replace(' ', 'T')))) throw wrong('timestamp');
      break;
    case 'version':
      if ((typeof value !== 'string' && typeof value !== 'number') || !VERSION_RE.test(String(value))) throw wrong('version');
      break;
    case 'null':
      break;
    case 'range':
      if (!Array.isArray(value) || value.length !== 2 || !value.every((x) => Number.isInteger(x) || x === 'UNBOUNDED')) {
        throw wrong('range');
      }
      break;
    case 'list':
      if (!Array.isArray(value)) throw wrong('list');
      if (schema.entrySchema) {
        value.forEach((v, i) => validateValue(v, schema.entrySchema!, registry, { file: site.file, path: [...site.path, i] }));
      }
      break;
    case 'map':
      if (!isRecord(value)) throw wrong('map');
      if (schema.entrySchema) {
        for (const [k, v] of Object.entries(value)) {
          validateValue(v, schema.entrySchema, registry, { file: site.file, path: [...site.path, k] });
        }
      }
      break;
    default: {
      const kind = scalarKindOf(type);
      if (kind) {
        if (parseScalar(value, kind) === undefined) throw wrong(type);
        break;
      }
      validateDataType(value, type, registry, site);
    }
  }
  if (schema.constraints.length) {
    const msg = checkConstraints(value, schema.constraints, normaliser(type, registry));
    if (msg) throw site.file.error('constraint', msg, site.path);
  }
}

function validateDataType(value: unknown, type: string, registry: TypeRegistry, site: ValueSite): void {
  const dt = registry.resolve('data', type);
  if (!dt) throw site.file.error('unknown-type', `unknown data type ${type}`, site.path);
  if (dt.primitive) {
    validateValue(value, { type: dt.primitive, constraints: dt.constraints, entrySchema: dt.entrySchema }, registry, site);
    return;
  }
  if (dt.constraints.length) {
    const msg = checkConstraints(value, dt.constraints, (v) => v);
    if (msg) throw site.file.error('constraint', msg, site.path);
  }
  if (dt.properties.size === 0) return; // e.g. tosca.datatypes.Root used as "any map"
  if (!isRecord(value)) throw site.file.error('wrong-type', `${describe(value)} is not a valid ${type}`, site.path);
  for (const p of dt.properties.values()) {
    const v = value[p.name];
    if (v === undefined || v === null) {
      if (p.required && !p.hasDefault) {
        throw site.file.error('missing-required', `missing required field ${p.name} of data type ${type}`, site.path);
      }
      continue;
    }
    validateValue(v, p, registry, { file: site.file, path: [...site.path, p.name] });
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `"${v.length > 60 ? v.slice(0, 57) + '...' : v}"`;
  if (Array.isArray(v)) return 'a list';
  if (isRecord(v)) return 'a map';
  return String(v);
}

/** Convert a string given on the command line to the input's type (YAML-ish for lists and maps). */
export function convertInputString(value: string, type: string, registry: TypeRegistry): unknown {
  const base = primitiveOf(type, registry);
  switch (base) {
    case 'integer':
      return INT_RE.test(value.trim()) ? Number(value) : value;
    case 'float':
      return FLOAT_RE.test(value.trim()) ? Number(value) : value;
    case 'boolean':
      return /^(true|yes|on)$/i.test(value) ? true : /^(false|no|off)$/i.test(value) ? false : value;
    case 'list':
    case 'map':
      try {
        return JSON.parse(value);
      } catch {
        return base === 'list' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
      }
    default:
      if (!PRIMITIVE_TYPES.has(base) && /^[[{]/.test(value.trim())) {
        try {
          return JSON.parse(value);
        } catch {
          return value;
        }
      }
      return value;
  }
}

/**
 * Fill in the defaults of data type fields the value leaves out (tosca-parser does the same, so the
 * resolved values agree), through lists and maps whose entry_schema is a data type.
 */
export function withDataDefaults(value: unknown, schema: SchemaDef, registry: TypeRegistry): unknown {
  if (value === null || value === undefined || isRuntime(value)) return value;
  if (schema.type === 'list' && Array.isArray(value) && schema.entrySchema) {
    return value.map((v) => withDataDefaults(v, schema.entrySchema!, registry));
  }
  if (schema.type === 'map' && isRecord(value) && schema.entrySchema) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = withDataDefaults(v, schema.entrySchema, registry);
    return out;
  }
  if (PRIMITIVE_TYPES.has(schema.type) || !isRecord(value)) return value;
  const dt = registry.resolve('data', schema.type);
  if (!dt || dt.primitive || dt.properties.size === 0) return value;
  const out: Record<string, unknown> = { ...value };
  for (const p of dt.properties.values()) {
    if (out[p.name] === undefined && p.hasDefault && p.default !== null && p.default !== undefined) out[p.name] = p.default;
    else if (out[p.name] !== undefined) out[p.name] = withDataDefaults(out[p.name], p, registry);
  }
  return out;
}
