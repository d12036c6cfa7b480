/**
 * The TOSCA Simple Profile normative types, written for this project from the TOSCA Simple Profile
 * in YAML v1.3 specification, as one definitions document that the engine loads before any template.
 * Where the spec and IM differ, IM wins and the section's comment says so (Scalable count/removal_list).
 */
import { ARTIFACT_TYPES } from './artifact-types';
import { CAPABILITY_TYPES } from './capability-types';
import { DATA_TYPES } from './data-types';
import { GROUP_TYPES, POLICY_TYPES } from './group-policy-types';
import { INTERFACE_TYPES } from './interface-types';
import { NODE_TYPES } from './node-types';
import { RELATIONSHIP_TYPES } from './relationship-types';

export const NORMATIVE_DEFINITIONS: string = [
  'tosca_definitions_version: tosca_simple_yaml_1_0',
  'description: TOSCA Simple Profile normative types (tosca-im).',
  DATA_TYPES,
  ARTIFACT_TYPES,
  CAPABILITY_TYPES,
  INTERFACE_TYPES,
  RELATIONSHIP_TYPES,
  NODE_TYPES,
  GROUP_TYPES,
  POLICY_TYPES,
].join('\n');
