/** The typed service template: what parseTemplate returns and the planner consumes. */
import type { InterfaceDef, PropertyDef, ResolvedType, TypeRegistry } from '../types/registry';
import type { SourceFile, YamlPath } from '../yaml/source';

/** Every topology element knows the file it was written in (a template may import another template). */
export interface InputDef {
  name: string;
  file: SourceFile;
  def: PropertyDef;
  path: YamlPath;
}

export interface RequirementAssignment {
  name: string;
  /** Target node template name, once resolved. */
  target?: string;
  capability?: string;
  relationshipType?: string;
  /** Name of a relationship_templates entry when the assignment names one. */
  relationshipTemplate?: string;
  relationshipProperties: Record<string, unknown>;
  relationshipInterfaces: Record<string, unknown>;
  nodeFilter?: unknown;
  path: YamlPath;
}

export interface NodeTemplate {
  name: string;
  file: SourceFile;
  type: ResolvedType;
  path: YamlPath;
  /** Property values as written (functions unresolved). */
  properties: Record<string, unknown>;
  attributes: Record<string, unknown>;
  /** Capability name → property values as written. */
  capabilities: Record<string, Record<string, unknown>>;
  requirements: RequirementAssignment[];
  /** Type interfaces with the template's overrides merged in. */
  interfaces: Map<string, InterfaceDef>;
  artifacts: Record<string, unknown>;
  directives: string[];
}

export interface RelationshipTemplate {
  name: string;
  file: SourceFile;
  type: ResolvedType;
  properties: Record<string, unknown>;
  interfaces: Record<string, unknown>;
  path: YamlPath;
}

export interface GroupDef {
  name: string;
  file: SourceFile;
  type: string;
  members: string[];
  properties: Record<string, unknown>;
  path: YamlPath;
}

export interface PolicyDef {
  name: string;
  file: SourceFile;
  type: ResolvedType;
  targets: string[];
  properties: Record<string, unknown>;
  path: YamlPath;
}

export interface OutputDef {
  name: string;
  file: SourceFile;
  description?: string;
  value: unknown;
  path: YamlPath;
}

export interface ServiceTemplate {
  file: SourceFile;
  version: string;
  description?: string;
  metadata: Record<string, unknown>;
  imports: SourceFile[];
  registry: TypeRegistry;
  inputs: Map<string, InputDef>;
  nodes: Map<string, NodeTemplate>;
  relationshipTemplates: Map<string, RelationshipTemplate>;
  groups: Map<string, GroupDef>;
  policies: PolicyDef[];
  outputs: Map<string, OutputDef>;
  substitutionMappings?: Record<string, unknown>;
  /** Files whose topology_template was merged in (IM's template imports), main template last. */
  topologyFiles: SourceFile[];
}
