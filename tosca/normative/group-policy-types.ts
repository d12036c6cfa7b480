/** Normative group and policy types (TOSCA Simple Profile in YAML v1.3, sections 5.10 and 5.11). */
export const GROUP_TYPES = `
group_types:
  tosca.groups.Root:
    description: Base of every group type.
    interfaces:
      Standard:
        type: tosca.interfaces.node.lifecycle.Standard
`;

export const POLICY_TYPES = `
policy_types:
  tosca.policies.Root:
    description: Base of every policy type.

  tosca.policies.Placement:
    derived_from: tosca.policies.Root
    description: Where the target nodes or groups are placed.

  tosca.policies.Scaling:
    derived_from: tosca.policies.Root
    description: How the target nodes or groups grow and shrink.

  tosca.policies.Update:
    derived_from: tosca.policies.Root
    description: How the target nodes or groups are updated.

  tosca.policies.Performance:
    derived_from: tosca.policies.Root
    description: Performance requirements of the target nodes or groups.
`;
