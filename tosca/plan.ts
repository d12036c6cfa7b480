/**
 * The Plan: what the TOSCA engine hands to the server engine and the connectors.
 * It is plain JSON (storable as is); values not known before deployment stay typed references.
 */

/** A value that can only be known at run time (get_attribute, get_operation_output). */
export interface AttributeRef {
  $ref: 'get_attribute';
  /** Node template name, already resolved from SELF/SOURCE/TARGET/HOST. */
  node: string;
  /** Attribute name, then nested keys (capability name first when it is a capability attribute). */
  path: string[];
  /** IM's list index form: [node, attr, 0]. */
  index?: number;
  /**
   * The keyword the template wrote instead of a name, if any. SELF/HOST read the running
   * instance's own value; a node named explicitly reads every instance (a list when it scales).
   */
  keyword?: 'SELF' | 'HOST' | 'SOURCE' | 'TARGET';
}
export interface OperationOutputRef {
  $ref: 'get_operation_output';
  node: string;
  interface: string;
  operation: string;
  output: string;
}
/** concat/join/token over values that contain references stay functions until run time. */
export interface DeferredFunction {
  $ref: 'concat' | 'join' | 'token';
  args: PlanValue[];
}
export type PlanValue =
  | null
  | boolean
  | number
  | string
  | PlanValue[]
  | { [key: string]: PlanValue }
  | AttributeRef
  | OperationOutputRef
  | DeferredFunction;

export interface PortRule {
  /** Single port (from === to) or a range. */
  from: number;
  to: number;
  protocol: 'tcp' | 'udp' | 'icmp';
  /** Source CIDR, default 0.0.0.0/0. */
  source: string;
  /** Whether the port is on the public side (endpoint network_name PUBLIC). */
  public: boolean;
}

export interface HostSizing {
  numCpus?: number;
  /** MB */
  memSizeMB?: number;
  /** GB */
  diskSizeGB?: number;
  instanceType?: string;
  numGpus?: number;
  gpuVendor?: string;
  gpuModel?: string;
  preemptible?: boolean;
}

export interface OsSpec {
  /** Image reference as written: id, name, or URL (ost://host/id, aws://region/ami-id). */
  image?: string;
  distribution?: string;
  version?: string;
  type?: string;
  architecture?: string;
  credentials?: { user?: string; token?: string; tokenType?: string };
}

export interface ComputePlan {
  name: string;
  type: string;
  /** Instances wanted now: count ?? default_instances ?? min_instances ?? 1. */
  count: number;
  minInstances?: number;
  maxInstances?: number;
  /** VM ids (as strings) the template asks to remove (IM's removal_list). */
  removalList: string[];
  host: HostSizing;
  os: OsSpec;
  /** True only when the template asks for a public IP (the few-floating-IPs policy). */
  publicIp: boolean;
  /** Floating IP pool / network name asked for by the template, when it names one. */
  publicNetwork?: string;
  /** Private network names asked for by the template. */
  networks: string[];
  ports: PortRule[];
  dnsName?: string;
  /** Cloud credential id chosen by a placement policy, if any. */
  cloudId?: string;
  /** Names of software nodes hosted (directly or transitively) on this compute, in order. */
  software: string[];
  /** The compute node's own lifecycle operations (e.g. INDIGO's configure_users.yml), when it has any. */
  operations?: OperationPlan[];
}

export type OperationName = 'create' | 'configure' | 'start' | 'stop' | 'delete' | string;

export interface OperationPlan {
  interface: string;
  name: OperationName;
  implementation?: {
    kind: 'script' | 'ansible' | 'other';
    /** Path or URL as written in the template. */
    path: string;
    /** Absolute URL when the artifact was given relative to an imported file reached by URL. */
    url?: string;
    dependencies?: string[];
    /** The artifact's text given in the document itself (a RADL configure recipe); read instead of `path`. */
    content?: string;
  };
  inputs: Record<string, PlanValue>;
}

export interface SoftwarePlan {
  name: string;
  type: string;
  /** The compute node this software runs on (end of the HostedOn chain); undefined if none. */
  host?: string;
  properties: Record<string, PlanValue>;
  /** create → configure → start, in that order, only the ones defined. */
  operations: OperationPlan[];
  /**
   * Standard stop → delete, only the ones defined (absent when none): run on a VM of the node
   * before it is removed (scale-in, DELETE of the VM), never in a configuration run.
   */
  teardown?: OperationPlan[];
  /** Other node names this node depends on (DependsOn, ConnectsTo, custom), excluding its host. */
  dependsOn: string[];
}

export interface VolumePlan {
  name: string;
  sizeGB?: number;
  volumeId?: string;
  type?: string;
  attachedTo?: string;
  device?: string;
  location?: string;
}

export interface NetworkPlan {
  name: string;
  networkName?: string;
  public: boolean;
  cidr?: string;
}

export interface ElasticPolicyPlan {
  /** Source of the declaration: tosca.policies.Scaling or the INDIGO/EC3 ElasticCluster pattern. */
  source: 'scaling-policy' | 'elastic-cluster';
  /** The compute node that grows and shrinks (worker nodes). */
  target: string;
  /** The node whose host runs the batch system front end (master), if known. */
  frontEnd?: string;
  minInstances: number;
  maxInstances: number;
  defaultInstances?: number;
  /** Remaining knobs as written (config_options, policy properties). */
  options: Record<string, PlanValue>;
}

export interface NodeSummary {
  name: string;
  type: string;
  properties: Record<string, PlanValue>;
}

export interface Plan {
  toscaVersion: string;
  description?: string;
  inputs: Record<string, PlanValue>;
  /** Every node template with its resolved properties. */
  nodes: NodeSummary[];
  computes: ComputePlan[];
  software: SoftwarePlan[];
  volumes: VolumePlan[];
  networks: NetworkPlan[];
  /** All node names in dependency order (a node after everything it needs). */
  order: string[];
  outputs: Record<string, { description?: string; value: PlanValue }>;
  elastic: ElasticPolicyPlan[];
  /** substitution_mappings as written (functions unresolved), when the template has them. */
  substitutionMappings?: Record<string, PlanValue>;
  /** What the engine accepted but the user should know (e.g. an input default outside its constraints). */
  warnings?: string[];
  /** Groups (name → type and members), when the template has them. */
  groups?: Record<string, { type: string; members: string[] }>;
}
