/** A property/input definition written in a template (inputs) read with the same rules as type properties. */
import { PropertyDef, Origin, schemaOf } from '../types/registry';
import { asRecord } from '../util';

export function propertyDefOf(name: string, raw: unknown, origin: Origin): PropertyDef {
  const r = asRecord(raw);
  const schema = schemaOf({ type: 'string', ...r });
  return {
    ...schema,
    name,
    required: 'required' in r ? r.required !== false : true,
    hasDefault: 'default' in r,
    default: r.default,
    origin,
  };
}
