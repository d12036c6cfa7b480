/**
 * Type definitions from definitions files, in layers (normative → imports → template), with their
 * derived_from chains resolved once per registry and memoised: a template reusing a cached import set
 * pays nothing for the large INDIGO type files.
 */
import { SourceFile, YamlPath } from '../yaml/source';
import { asRecord, hasKey, isRecord, text } from '../util';

export type TypeKind = 'node' | 'capability' | 'relationship' | 'data' | 'interface' | 'policy' | 'group' | 'artifact';

export const TYPE_SECTIONS: Record<string, TypeKind> = {
  node_types: 'node',
  capability_types: 'capability',
  relationship_types: 'relationship',
  data_types: 'data',
  interface_types: 'interface',
  policy_types: 'policy',
  group_types: 'group',
  artifact_types: 'artifact',
};

const PREFIX: Record<TypeKind, string> = {
  node: 'tosca.nodes.',
  capability: 'tosca.capabilities.',
  relationship: 'tosca.relationships.',
  data: 'tosca.datatypes.',
  interface: 'tosca.interfaces.',
  policy: 'tosca.policies.',
  group: 'tosca.groups.',
  artifact: 'tosca.artifacts.',
};

/** Where a definition was written, so errors about it point into the right file. */
export interface Origin {
  file: SourceFile;
  path: (string | number)[];
}

export interface TypeDef {
  kind: TypeKind;
  name: string;
  raw: Record<string, unknown>;
  origin: Origin;
  /** The registry that holds it (derived_from names resolve from there). */
  registry: TypeRegistry;
}

export interface SchemaDef {
  type: string;
  constraints: unknown[];
  entrySchema?: SchemaDef;
  keySchema?: SchemaDef;
}

export interface PropertyDef extends SchemaDef {
  name: string;
  required: boolean;
  hasDefault: boolean;
  default?: unknown;
  origin: Origin;
}

export interface CapabilityDef {
  name: string;
  type: string;
  /** Property values or refinements written in the node type. */
  properties: Record<string, unknown>;
  validSourceTypes?: string[];
  origin: Origin;
}

export interface RequirementDef {
  name: string;
  capability?: string;
  node?: string;
  relationship?: string;
  occurrences?: unknown;
  origin: Origin;
}

export interface OperationDef {
  implementation?: unknown;
  inputs: Record<string, unknown>;
  /** File the operation was written in: relative implementation paths resolve against it. */
  origin: Origin;
  /** Where `inputs` of this operation were written (type inputs and template inputs can differ). */
  inputOrigins: Record<string, Origin>;
}

export interface InterfaceDef {
  type?: string;
  operations: Map<string, OperationDef>;
}

export interface ResolvedType {
  kind: TypeKind;
  name: string;
  /** This type first, then its ancestors. */
  chain: string[];
  def: TypeDef;
  properties: Map<string, PropertyDef>;
  attributes: Map<string, PropertyDef>;
  capabilities: Map<string, CapabilityDef>;
  requirements: RequirementDef[];
  interfaces: Map<string, InterfaceDef>;
  artifacts: Record<string, unknown>;
  /** Data types: constraints of the type itself and the primitive it refines, if any. */
  constraints: unknown[];
  primitive?: string;
  entrySchema?: SchemaDef;
  validTargetTypes?: string[];
}

export const PRIMITIVE_TYPES = new Set([
  'string', 'integer', 'float', 'boolean', 'timestamp', 'null', 'version', 'range', 'list', 'map',
  'scalar-unit.size', 'scalar-unit.time', 'scalar-unit.frequency', 'scalar-unit.bitrate', 'any',
]);

const LIFECYCLE_ALIASES: Record<string, string> = {
  'tosca.interfaces.node.lifecycle.Standard': 'Standard',
  'tosca.interfaces.relationship.Configure': 'Configure',
};
export function interfaceKey(name: string): string {
  return hasKey(LIFECYCLE_ALIASES, name) ? LIFECYCLE_ALIASES[name] : name;
}

/** Raised by the registry for chain problems; the caller turns it into a located ToscaError. */
export class TypeChainError extends Error {
  constructor(readonly origin: Origin, message: string) {
    super(message);
  }
}

export class TypeRegistry {
  private readonly own = new Map<string, TypeDef>();
  private readonly resolved = new Map<string, ResolvedType | null>();
  private readonly resolving = new Set<string>();

  constructor(readonly parent?: TypeRegistry) {}

  get size(): number {
    return this.own.size;
  }

  /** Read every *_types section of a definitions file; later files override earlier ones. */
  addFile(file: SourceFile): void {
    const doc = asRecord(file.value);
    for (const [section, kind] of Object.entries(TYPE_SECTIONS)) {
      const types = doc[section];
      if (!isRecord(types)) continue;
      for (const [name, raw] of Object.entries(types)) {
        this.own.set(`${kind}:${name}`, {
          kind, name, raw: isRecord(raw) ? raw : {}, origin: { file, path: [section, name] }, registry: this,
        });
      }
    }
  }

  has(kind: TypeKind, name: string): boolean {
    return this.find(kind, name) !== undefined;
  }

  /** Look a type up by full name, short name (Compute) or prefixed name (tosca:Compute). */
  find(kind: TypeKind, name: string): TypeDef | undefined {
    const hit = this.findExact(kind, name) ?? this.findExact(kind, expandShortName(kind, name));
    if (hit || name.includes('.')) return hit;
    // the spec's short names for network types: PortSpec, PortDef, PortInfo, NetworkInfo
    return this.findExact(kind, `${PREFIX[kind]}network.${name}`);
  }

  private findExact(kind: TypeKind, name: string): TypeDef | undefined {
    return this.own.get(`${kind}:${name}`) ?? this.parent?.findExact(kind, name);
  }

  /** Whether `name` is `ancestor` or derives from it (short names accepted on both sides). */
  isA(kind: TypeKind, name: string, ancestor: string): boolean {
    const t = this.resolve(kind, name);
    if (!t) return false;
    const full = this.find(kind, ancestor)?.name ?? ancestor;
    return t.chain.includes(full);
  }

  resolve(kind: TypeKind, name: string): ResolvedType | undefined {
    const def = this.find(kind, name);
    if (!def) return undefined;
    return def.registry.resolveDef(def);
  }

  private resolveDef(def: TypeDef): ResolvedType {
    const key = `${def.kind}:${def.name}`;
    const hit = this.resolved.get(key);
    if (hit) return hit;
    if (this.resolving.has(key)) {
      throw new TypeChainError(def.origin, `type ${def.name} derives from itself (cycle in derived_from)`);
    }
    this.resolving.add(key);
    try {
      const out = this.build(def);
      this.resolved.set(key, out);
      return out;
    } finally {
      this.resolving.delete(key);
    }
  }

  private parentOf(def: TypeDef): ResolvedType | undefined {
    const parentName = def.raw.derived_from;
    if (parentName === undefined || parentName === null) return undefined;
    const pname = text(parentName);
    if (def.kind === 'data' && PRIMITIVE_TYPES.has(pname)) return undefined;
    // A redefinition that derives from its own name extends the definition of an outer layer
    let pdef = pname === def.name ? this.parent?.find(def.kind, pname) : this.find(def.kind, pname);
    if (pdef === def) pdef = this.parent?.find(def.kind, pname);
    if (!pdef) {
      throw new TypeChainError({ file: def.origin.file, path: [...def.origin.path, 'derived_from'] },
        `unknown type ${pname} (derived_from of ${def.name})`);
    }
    return pdef.registry.resolveDef(pdef);
  }

  private build(def: TypeDef): ResolvedType {
    const parent = this.parentOf(def);
    const raw = def.raw;
    const o = (sub: YamlPath): Origin => ({ file: def.origin.file, path: [...def.origin.path, ...sub] });
    const out: ResolvedType = {
      kind: def.kind,
      name: def.name,
      chain: [def.name, ...(parent?.chain ?? [])],
      def,
      properties: mergeProps(parent?.properties, raw.properties, o(['properties'])),
      attributes: mergeProps(parent?.attributes, raw.attributes, o(['attributes'])),
      capabilities: new Map(parent?.capabilities),
      requirements: [...(parent?.requirements ?? [])],
      interfaces: new Map(parent?.interfaces),
      artifacts: { ...(parent?.artifacts ?? {}), ...asRecord(raw.artifacts) },
      constraints: [...(parent?.constraints ?? []), ...(Array.isArray(raw.constraints) ? raw.constraints : [])],
      primitive: parent?.primitive,
      entrySchema: parent?.entrySchema,
      validTargetTypes: Array.isArray(raw.valid_target_types) ? raw.valid_target_types.map(text) : parent?.validTargetTypes,
    };
    if (def.kind === 'data' && typeof raw.derived_from === 'string' && PRIMITIVE_TYPES.has(raw.derived_from)) {
      out.primitive = raw.derived_from;
    }
    if (raw.entry_schema !== undefined) out.entrySchema = schemaOf(raw.entry_schema);
    for (const [name, c] of Object.entries(asRecord(raw.capabilities))) {
      const prev = out.capabilities.get(name);
      const r = typeof c === 'string' ? { type: c } : asRecord(c);
      out.capabilities.set(name, {
        name,
        type: typeof r.type === 'string' ? r.type : prev?.type ?? 'tosca.capabilities.Root',
        properties: { ...(prev?.properties ?? {}), ...asRecord(r.properties) },
        validSourceTypes: Array.isArray(r.valid_source_types) ? r.valid_source_types.map(text) : prev?.validSourceTypes,
        origin: o(['capabilities', name]),
      });
    }
    if (Array.isArray(raw.requirements)) {
      raw.requirements.forEach((entry, i) => {
        for (const [name, r] of Object.entries(asRecord(entry))) {
          const rr = typeof r === 'string' ? { capability: r } : asRecord(r);
          const rel = isRecord(rr.relationship) ? rr.relationship.type : rr.relationship;
          const req: RequirementDef = {
            name,
            capability: rr.capability === undefined ? undefined : text(rr.capability),
            node: rr.node === undefined ? undefined : text(rr.node),
            relationship: rel === undefined ? undefined : text(rel),
            occurrences: rr.occurrences,
            origin: o(['requirements', i, name]),
          };
          const at = out.requirements.findIndex((x) => x.name === name);
          if (at >= 0) out.requirements[at] = req;
          else out.requirements.push(req);
        }
      });
    }
    if (def.kind === 'interface') {
      // interface types list their operations at top level
      const ops = new Map(parent?.interfaces.get('')?.operations);
      for (const [k, v] of Object.entries(raw)) {
        if (['derived_from', 'description', 'version', 'metadata', 'inputs', 'operations', 'notifications'].includes(k)) continue;
        ops.set(k, operationOf(v, o([k]), undefined));
      }
      for (const [k, v] of Object.entries(asRecord(raw.operations))) ops.set(k, operationOf(v, o(['operations', k]), undefined));
      out.interfaces.set('', { operations: ops });
    } else {
      for (const [iname, idef] of Object.entries(asRecord(raw.interfaces))) {
        const key = interfaceKey(iname);
        out.interfaces.set(key, mergeInterface(out.interfaces.get(key), idef, o(['interfaces', iname])));
      }
    }
    return out;
  }
}

export function expandShortName(kind: TypeKind, name: string): string {
  const bare = name.startsWith('tosca:') ? name.slice(6) : name;
  return bare.startsWith('tosca.') ? bare : PREFIX[kind] + bare;
}

export function schemaOf(v: unknown): SchemaDef {
  const r = typeof v === 'string' ? { type: v } : asRecord(v);
  return {
    type: typeof r.type === 'string' ? r.type : 'any',
    constraints: Array.isArray(r.constraints) ? r.constraints : [],
    entrySchema: r.entry_schema !== undefined ? schemaOf(r.entry_schema) : undefined,
    keySchema: r.key_schema !== undefined ? schemaOf(r.key_schema) : undefined,
  };
}

function mergeProps(parent: Map<string, PropertyDef> | undefined, raw: unknown, origin: Origin): Map<string, PropertyDef> {
  if (!isRecord(raw)) return parent ?? new Map();
  const out = new Map(parent);
  for (const [name, v] of Object.entries(raw)) {
    const r = asRecord(v);
    const prev = out.get(name);
    const schema = schemaOf({ ...(prev ? { type: prev.type } : {}), ...r });
    const hasDefault = 'default' in r ? true : prev?.hasDefault ?? false;
    out.set(name, {
      ...schema,
      entrySchema: r.entry_schema !== undefined ? schema.entrySchema : prev?.entrySchema,
      constraints: 'constraints' in r ? schema.constraints : prev?.constraints ?? [],
      name,
      // TOSCA: a property is required unless it says otherwise
      required: 'required' in r ? r.required !== false && r.required !== 'false' : prev?.required ?? true,
      hasDefault,
      default: 'default' in r ? r.default : prev?.default,
      origin: { file: origin.file, path: [...origin.path, name] },
    });
  }
  return out;
}

const INTERFACE_KEYWORDS = new Set(['type', 'inputs', 'description', 'operations', 'notifications', 'derived_from']);

export function mergeInterface(prev: InterfaceDef | undefined, raw: unknown, origin: Origin): InterfaceDef {
  const r = asRecord(raw);
  const ops = new Map(prev?.operations);
  const shared = asRecord(r.inputs);
  const addOp = (name: string, v: unknown, path: (string | number)[]): void => {
    const op = operationOf(v, { file: origin.file, path }, ops.get(name));
    for (const [k, val] of Object.entries(shared)) {
      if (!(k in op.inputs)) {
        op.inputs[k] = val;
        op.inputOrigins[k] = { file: origin.file, path: [...origin.path, 'inputs', k] };
      }
    }
    ops.set(name, op);
  };
  for (const [k, v] of Object.entries(r)) {
    if (INTERFACE_KEYWORDS.has(k)) continue;
    addOp(k, v, [...origin.path, k]);
  }
  for (const [k, v] of Object.entries(asRecord(r.operations))) addOp(k, v, [...origin.path, 'operations', k]);
  return { type: typeof r.type === 'string' ? r.type : prev?.type, operations: ops };
}

function operationOf(v: unknown, origin: Origin, prev: OperationDef | undefined): OperationDef {
  const r = typeof v === 'string' ? { implementation: v } : asRecord(v);
  const inputs = { ...(prev?.inputs ?? {}) };
  const inputOrigins = { ...(prev?.inputOrigins ?? {}) };
  for (const [k, val] of Object.entries(asRecord(r.inputs))) {
    inputs[k] = val;
    inputOrigins[k] = { file: origin.file, path: [...origin.path, 'inputs', k] };
  }
  const hasImpl = r.implementation !== undefined && r.implementation !== null;
  return {
    implementation: hasImpl ? r.implementation : prev?.implementation,
    inputs,
    inputOrigins,
    origin: hasImpl || !prev ? origin : prev.origin,
  };
}
