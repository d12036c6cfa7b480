/**
 * Where we and OpenStack's tosca-parser 2.6.0 (Debian python3-tosca-parser) disagree on a corpus template,
 * and why we are right. Each entry is asserted by test/tosca/oracle.test.ts: every disagreement must be
 * explained by an entry, and every entry must still explain at least one disagreement (no stale excuses).
 */
import { parseScalar } from '../../tosca/types/scalar';
import type { Difference } from './oracle-compare';

export interface OracleRejection {
  id: string;
  /** Why IM — and so we — accept what tosca-parser rejects. */
  why: string;
  /** tosca-parser's error message (as the oracle prints it). */
  error: RegExp;
}

export interface ValueDifference {
  id: string;
  why: string;
  explains(d: Difference): boolean;
}

/** Templates tosca-parser rejects and IM accepts (so must we: INDEX.md marks none of them invalid). */
export const ORACLE_REJECTIONS: OracleRejection[] = [
  {
    id: 'repository-imports',
    why: 'The import names a file in a `repositories:` entry (TOSCA 1.0 §3.5.8 import definition with ' +
      '`repository`). The oracle tool only maps bare *.yaml URLs to the corpus, so tosca-parser tries the ' +
      'network and fails; we join repository URL and file and resolve it through the import map, as IM does.',
    error: /^URLException: Failed to reach server "https:\/\/raw\.githubusercontent\.com\/indigo-dc\/tosca-types\/master\/custom_types\.yaml"/,
  },
  {
    id: 'template-import',
    why: 'tosca_repo.yml imports another template (`template_file: simple-node-disk.yml`) and gives plain ' +
      'input values, IM\'s tosca_repo feature (IM test_tosca_repo); tosca-parser crashes on the plain values.',
    error: /^TypeError: 'int' object is not subscriptable$/,
  },
  {
    id: 'int-is-a-float',
    why: 'An integer literal where a float is declared is a float (YAML 1.2 §10.2.1.4 and every TOSCA ' +
      'orchestrator IM users run); tosca-parser compares Python types.',
    error: /^ValueError: "\d+" is not a float\.$/,
  },
  {
    id: 'bool-as-string',
    why: 'An input declared `type: string` with an unquoted `default: true` (docker_privileged in the DEEP ' +
      'templates): IM deploys it, the value ends in a boolean property (`privileged`); a string-typed scalar ' +
      'is taken as its text, as the input type says.',
    error: /^ValueError: "(True|False)" is not a string\.$/,
  },
  {
    id: 'host-through-custom-relationship',
    why: 'get_attribute: [HOST, ...] where the `host` requirement uses a relationship that is not (derived ' +
      'from) HostedOn; IM follows the `host` requirement and users deploy these templates daily (INDEX.md).',
    error: /^ValueError: "get_attribute: \[ HOST, \.\.\. \]" was used in node template "[^"]+" but "tosca\.relationships\.HostedOn" was not found in the relationship chain\.$/,
  },
  {
    id: 'extra-properties',
    why: 'IM ignores properties a type does not declare (and policies without every property their type ' +
      'requires, such as SlaPlacement without sla_id); templates in daily use carry them.',
    error: /^(UnknownFieldError: "properties" of template "[^"]+" contains unknown field "[^"]+"\. Refer to the definition to verify valid values\.(; )?|MissingRequiredFieldError: "properties" of template "[^"]+" is missing required field "\['sla_id'\]"\.(; )?)+$/,
  },
  {
    id: 'scalable-outside-capabilities',
    why: 'lifewatch-algaebloom.yaml writes `scalable:` beside `capabilities:` on a Docker runtime node; ' +
      'IM ignores keys it does not use on a node template, so the template deploys.',
    error: /^UnknownFieldError: Node template "docker_runtime" contains unknown field "scalable"\./,
  },
  {
    id: 'older-indigo-types-replace-grycap-types',
    why: 'proxy_host_k8s.yaml imports the INDIGO types of master beside kubernetes.yaml\'s grycap types; ' +
      'both define tosca.nodes.indigo.LRMS.FrontEnd.Kubernetes and tosca-parser lets the later import win. ' +
      'The corpus\'s master copy (indigo-dc/tosca-types @ 40fa4d60) predates the properties and endpoint ' +
      'grycap\'s newer definition has — a corpus limitation (INDEX.md), not a template error.',
    error: /^UnknownFieldError: "capabilities" of template "lrms_front_end" contains unknown field "endpoint"\./,
  },
  {
    id: 'crash-on-fragment',
    why: 'tosca-parser crashes on grycap__tosca/templates/glusterfs.yml alone instead of naming fe_cpus, an ' +
      'input only its parent (slurm_cluster.yml) declares (we say unknown-input); merged both accept it.',
    error: /^IndexError: list index out of range$/,
  },
];

/** Property values where both accept the template but the values differ. */
export const VALUE_DIFFERENCES: ValueDifference[] = [
  {
    id: 'scalar-unit-as-written',
    why: 'A scalar-unit value keeps the spelling the template used ("10GB", "40 GIB"); tosca-parser rewrites ' +
      'it as "10 GB" / "40 GiB". Units are case-insensitive (TOSCA 1.3 §3.3.6.4), so both denote the same ' +
      'amount — asserted here — and the plan carries the converted numbers (memSizeMB, sizeGB) anyway.',
    explains: (d) => d.kind === 'property' && typeof d.ours === 'string' && typeof d.oracle === 'string' &&
      d.ours.replace(/\s+/g, '').toLowerCase() === d.oracle.replace(/\s+/g, '').toLowerCase() &&
      parseScalar(d.ours, 'size') !== undefined && parseScalar(d.ours, 'size') === parseScalar(d.oracle, 'size'),
  },
];
