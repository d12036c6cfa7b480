/**
 * YAML text → typed ServiceTemplate: imports loaded, types looked up, requirements linked to their target
 * node templates. Values stay as written; functions are evaluated by the resolver.
 */
import { ImportResolver, ImportResolverOptions, isUrl } from '../imports';
import { mergeInterface, ResolvedType, TypeChainError, TypeKind, TypeRegistry, interfaceKey } from '../types/registry';
import { asRecord, isRecord, text } from '../util';
import { parseYaml, SourceFile, YamlPath } from '../yaml/source';
import { importRegistry, templateRegistry } from './layers';
import {
  GroupDef, InputDef, NodeTemplate, OutputDef, PolicyDef, RelationshipTemplate, RequirementAssignment, ServiceTemplate,
} from './model';
import { propertyDefOf } from './property-def';
import { checkReferences } from './references';
import { matchesNodeFilter } from './node-filter';

export interface ParseOptions extends ImportResolverOptions {
  fileName?: string;
  baseDir?: string;
  /** Accept duplicate keys in the template, the last one winning (PyYAML/IM behaviour). Default: error. */
  allowDuplicateKeys?: boolean;
}

const TT = 'topology_template';

export async function parseTemplate(text: string, opts: ParseOptions = {}): Promise<ServiceTemplate> {
  const file = parseYaml(text, opts.fileName ?? 'template.yaml', opts.baseDir ?? process.cwd(), opts.allowDuplicateKeys ?? false);
  if (!isRecord(file.value)) throw file.error('invalid', 'a TOSCA template must be a YAML map', []);
  const doc = file.value;
  const version = doc.tosca_definitions_version;
  if (typeof version !== 'string' || !/^tosca_/.test(version)) {
    throw file.error('invalid', 'tosca_definitions_version is missing or not a TOSCA version', ['tosca_definitions_version']);
  }
  const resolver = new ImportResolver(opts);
  const imports: SourceFile[] = [];
  await collectImports(file, resolver, imports, new Set());
  const registry = templateRegistry(importRegistry(imports), file);
  try {
    return build(file, version, imports, registry);
  } catch (e) {
    if (e instanceof TypeChainError) throw e.origin.file.error('unknown-type', e.message, e.origin.path);
    throw e;
  }
}

/** Depth first, so a file's own imports come before it (later files override earlier types). */
async function collectImports(file: SourceFile, resolver: ImportResolver, out: SourceFile[], seen: Set<string>): Promise<void> {
  const doc = asRecord(file.value);
  const list = doc.imports;
  if (list === undefined || list === null) return;
  const entries: { spec: unknown; path: YamlPath }[] = [];
  if (Array.isArray(list)) {
    list.forEach((item, i) => {
      if (isRecord(item) && !('file' in item)) {
        for (const [k, v] of Object.entries(item)) entries.push({ spec: v, path: ['imports', i, k] });
      } else entries.push({ spec: item, path: ['imports', i] });
    });
  } else if (isRecord(list)) {
    for (const [k, v] of Object.entries(list)) entries.push({ spec: v, path: ['imports', k] });
  } else throw file.error('invalid', 'imports must be a list', ['imports']);
  const repos = asRecord(doc.repositories);
  for (const { spec, path } of entries) {
    let ref: string | undefined;
    if (typeof spec === 'string') ref = spec;
    else if (isRecord(spec) && typeof spec.file === 'string') {
      ref = spec.file;
      if (typeof spec.repository === 'string') {
        const repo = repos[spec.repository];
        const url = typeof repo === 'string' ? repo : asRecord(repo).url;
        if (typeof url !== 'string') {
          throw file.error('unresolvable-import', `unresolvable import: unknown repository ${spec.repository}`, [...path, 'repository']);
        }
        ref = isUrl(url) ? new URL(spec.file, url.endsWith('/') ? url : url + '/').href : `${url.replace(/\/$/, '')}/${spec.file}`;
      }
    }
    if (!ref) throw file.error('unresolvable-import', 'unresolvable import: expected a file name or URL', path);
    const location = resolver.locate(ref, file);
    if (seen.has(location)) continue;
    seen.add(location);
    const imported = await resolver.load(location, { file, path });
    await collectImports(imported, resolver, out, seen);
    out.push(imported);
  }
}

function build(file: SourceFile, version: string, imports: SourceFile[], registry: TypeRegistry): ServiceTemplate {
  const doc = asRecord(file.value);
  if (doc[TT] !== undefined && doc[TT] !== null && !isRecord(doc[TT])) throw file.error('invalid', 'topology_template must be a map', [TT]);
  // IM's template imports: an imported file with a topology_template is merged under the main one
  const sources = [...imports.filter((f) => isRecord(asRecord(f.value)[TT])), file];
  const st: ServiceTemplate = {
    file,
    version,
    description: typeof doc.description === 'string' ? doc.description : undefined,
    metadata: asRecord(doc.metadata),
    imports,
    registry,
    inputs: new Map(),
    nodes: new Map(),
    relationshipTemplates: new Map(),
    groups: new Map(),
    policies: [],
    outputs: new Map(),
    topologyFiles: sources,
  };
  const inputRaw = new Map<string, Record<string, unknown>>();
  for (const src of sources) addTopology(st, src, registry, inputRaw);
  for (const node of st.nodes.values()) linkRequirements(st, node);
  for (const g of st.groups.values()) {
    g.members.forEach((m, i) => {
      if (!st.nodes.has(m)) throw g.file.error('unknown-node', `unknown node ${m} in group ${g.name}`, [...g.path, 'members', i]);
    });
  }
  for (const p of st.policies) {
    p.targets.forEach((t, i) => {
      if (!st.nodes.has(t) && !st.groups.has(t)) throw p.file.error('unknown-node', `unknown node or group ${t} in policy ${p.name}`, [...p.path, 'targets', i]);
    });
  }
  checkReferences(st);
  return st;
}

function addTopology(st: ServiceTemplate, file: SourceFile, registry: TypeRegistry, inputRaw: Map<string, Record<string, unknown>>): void {
  const tt = asRecord(asRecord(file.value)[TT]);
  const typeOf = (kind: TypeKind, name: unknown, path: YamlPath): ResolvedType => {
    if (typeof name !== 'string' || name === '') throw file.error('unknown-type', `missing ${kind} type name`, path);
    const t = registry.resolve(kind, name);
    if (!t) throw file.error('unknown-type', `unknown ${kind} type ${name}`, path);
    return t;
  };
  if (isRecord(tt.substitution_mappings)) st.substitutionMappings = tt.substitution_mappings;
  for (const [name, raw] of Object.entries(mapSection(file, tt, 'inputs'))) {
    const path = [TT, 'inputs', name];
    // over an imported input, a plain value only sets its default (IM's tosca_repo templates do this)
    const prev = inputRaw.get(name);
    const merged = isRecord(raw) ? { ...(prev ?? {}), ...raw } : prev ? { ...prev, default: raw } : { default: raw };
    inputRaw.set(name, merged);
    st.inputs.set(name, { name, file, def: propertyDefOf(name, merged, { file, path }), path } satisfies InputDef);
  }
  for (const [name, raw] of Object.entries(mapSection(file, tt, 'relationship_templates'))) {
    const path = [TT, 'relationship_templates', name];
    const r = asRecord(raw);
    st.relationshipTemplates.set(name, {
      name, file, type: typeOf('relationship', r.type, [...path, 'type']),
      properties: asRecord(r.properties), interfaces: asRecord(r.interfaces), path,
    } satisfies RelationshipTemplate);
  }
  for (const [name, raw] of Object.entries(mapSection(file, tt, 'node_templates'))) {
    const path = [TT, 'node_templates', name];
    if (!isRecord(raw)) throw file.error('invalid', `node template ${name} must be a map`, path);
    st.nodes.delete(name); // an overriding template takes the place of the imported one, at the end
    st.nodes.set(name, nodeTemplate(file, name, raw, path, typeOf('node', raw.type, [...path, 'type'])));
  }
  for (const [name, raw] of Object.entries(mapSection(file, tt, 'groups'))) {
    const path = [TT, 'groups', name];
    const r = asRecord(raw);
    const type = typeOf('group', r.type, [...path, 'type']);
    const members = Array.isArray(r.members) ? r.members.map(text) : [];
    st.groups.set(name, { name, file, type: type.name, members, properties: asRecord(r.properties), path } satisfies GroupDef);
  }
  const policies = tt.policies;
  const policyEntries: [string, unknown, YamlPath][] = [];
  if (Array.isArray(policies)) {
    policies.forEach((p, i) => {
      for (const [k, v] of Object.entries(asRecord(p))) policyEntries.push([k, v, [TT, 'policies', i, k]]);
    });
  } else if (isRecord(policies)) {
    for (const [k, v] of Object.entries(policies)) policyEntries.push([k, v, [TT, 'policies', k]]);
  } else if (policies !== undefined && policies !== null) throw file.error('invalid', 'policies must be a list', [TT, 'policies']);
  for (const [name, raw, path] of policyEntries) {
    const r = asRecord(raw);
    const targets = Array.isArray(r.targets) ? r.targets.map(text) : [];
    const policy: PolicyDef = { name, file, type: typeOf('policy', r.type, [...path, 'type']), targets, properties: asRecord(r.properties), path };
    const at = st.policies.findIndex((p) => p.name === name);
    if (at >= 0) st.policies[at] = policy;
    else st.policies.push(policy);
  }
  for (const [name, raw] of Object.entries(mapSection(file, tt, 'outputs'))) {
    const r = asRecord(raw);
    st.outputs.set(name, {
      name, file, description: typeof r.description === 'string' ? r.description : undefined, value: r.value ?? null,
      path: [TT, 'outputs', name],
    } satisfies OutputDef);
  }
}

function mapSection(file: SourceFile, tt: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = tt[key];
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) throw file.error('invalid', `${key} must be a map`, [TT, key]);
  return v;
}

function nodeTemplate(file: SourceFile, name: string, raw: Record<string, unknown>, path: YamlPath, type: ResolvedType): NodeTemplate {
  const capabilities: Record<string, Record<string, unknown>> = {};
  for (const [cap, v] of Object.entries(asRecord(raw.capabilities))) capabilities[cap] = asRecord(asRecord(v).properties);
  const interfaces = new Map(type.interfaces);
  for (const [iname, idef] of Object.entries(asRecord(raw.interfaces))) {
    const key = interfaceKey(iname);
    interfaces.set(key, mergeInterface(interfaces.get(key), idef, { file, path: [...path, 'interfaces', iname] }));
  }
  const requirements: RequirementAssignment[] = [];
  if (raw.requirements !== undefined && raw.requirements !== null && !Array.isArray(raw.requirements)) {
    throw file.error('invalid', 'requirements must be a list', [...path, 'requirements']);
  }
  (Array.isArray(raw.requirements) ? raw.requirements : []).forEach((entry, i) => {
    for (const [rname, v] of Object.entries(asRecord(entry))) requirements.push(requirementOf(file, type, rname, v, [...path, 'requirements', i, rname]));
  });
  return {
    name,
    type,
    path,
    properties: { ...asRecord(raw.properties) },
    attributes: asRecord(raw.attributes),
    capabilities,
    requirements,
    interfaces,
    artifacts: { ...type.artifacts, ...asRecord(raw.artifacts) },
    directives: Array.isArray(raw.directives) ? raw.directives.map(text) : [],
    file,
  };
}

function requirementOf(file: SourceFile, type: ResolvedType, name: string, v: unknown, path: YamlPath): RequirementAssignment {
  const def = type.requirements.find((r) => r.name === name);
  const r = typeof v === 'string' ? { node: v } : asRecord(v);
  if (typeof v !== 'string' && !isRecord(v)) throw file.error('invalid', `requirement ${name} must name a node or be a map`, path);
  const rel = r.relationship;
  const relRec = asRecord(rel);
  return {
    name,
    target: typeof r.node === 'string' ? r.node : undefined,
    capability: typeof r.capability === 'string' ? r.capability : def?.capability,
    relationshipType: typeof rel === 'string' ? rel : typeof relRec.type === 'string' ? relRec.type : def?.relationship,
    relationshipProperties: { ...asRecord(relRec.properties) },
    relationshipInterfaces: asRecord(relRec.interfaces),
    nodeFilter: r.node_filter,
    path,
  };
}

/** Resolve each requirement's target node and relationship type; unknown ones are located errors. */
function linkRequirements(st: ServiceTemplate, node: NodeTemplate): void {
  const { registry } = st;
  const file = node.file;
  for (const req of node.requirements) {
    if (req.relationshipType !== undefined) {
      const tmpl = st.relationshipTemplates.get(req.relationshipType);
      if (tmpl) {
        req.relationshipTemplate = tmpl.name;
        req.relationshipType = tmpl.type.name;
        req.relationshipProperties = { ...tmpl.properties, ...req.relationshipProperties };
      } else {
        const rt = registry.resolve('relationship', req.relationshipType);
        if (!rt) throw file.error('unknown-type', `unknown relationship type ${req.relationshipType}`, [...req.path, 'relationship']);
        req.relationshipType = rt.name;
      }
    } else req.relationshipType = 'tosca.relationships.DependsOn';
    let namedType: string | undefined;
    if (req.target !== undefined) {
      if (st.nodes.has(req.target)) continue;
      if (!registry.has('node', req.target)) {
        throw file.error('unknown-node', `unknown node ${req.target} (requirement ${req.name} of ${node.name})`, req.path);
      }
      namedType = req.target; // a node type instead of a template: any template of that type fulfils it
      req.target = undefined;
    }
    // no template named: the orchestrator picks one by node type, capability type and node_filter
    const def = node.type.requirements.find((r) => r.name === req.name);
    const wantedType = namedType ?? (def?.node !== undefined && registry.has('node', def.node) ? def.node : undefined);
    const cap = req.capability !== undefined && registry.has('capability', req.capability) ? req.capability : undefined;
    if (!wantedType && !cap && req.nodeFilter === undefined) continue;
    const found = [...st.nodes.values()].find(
      (n) => n !== node &&
        (!wantedType || registry.isA('node', n.type.name, wantedType)) &&
        (!cap || [...n.type.capabilities.values()].some((c) => registry.isA('capability', c.type, cap))) &&
        (req.nodeFilter === undefined || matchesNodeFilter(n, req.nodeFilter)),
    );
    req.target = found?.name;
  }
}
