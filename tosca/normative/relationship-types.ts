/** Normative relationship types (TOSCA Simple Profile in YAML v1.3, section 5.7). */
export const RELATIONSHIP_TYPES = `
relationship_types:
  tosca.relationships.Root:
    description: Base of every relationship type.
    attributes:
      tosca_id:
        type: string
      tosca_name:
        type: string
      state:
        type: string
    interfaces:
      Configure:
        type: tosca.interfaces.relationship.Configure

  tosca.relationships.DependsOn:
    derived_from: tosca.relationships.Root
    description: The source needs the target deployed first.
    valid_target_types: [ tosca.capabilities.Node ]

  tosca.relationships.HostedOn:
    derived_from: tosca.relationships.Root
    description: The source runs on the target.
    valid_target_types: [ tosca.capabilities.Container ]

  tosca.relationships.ConnectsTo:
    derived_from: tosca.relationships.Root
    description: The source connects to an endpoint of the target.
    valid_target_types: [ tosca.capabilities.Endpoint ]
    properties:
      credential:
        type: tosca.datatypes.Credential
        required: false

  tosca.relationships.AttachesTo:
    derived_from: tosca.relationships.Root
    description: A volume (target) is attached to a Compute (source) at a mount point.
    valid_target_types: [ tosca.capabilities.Attachment ]
    properties:
      location:
        type: string
        constraints:
          - min_length: 1
      device:
        type: string
        required: false
    attributes:
      device:
        type: string

  tosca.relationships.RoutesTo:
    derived_from: tosca.relationships.ConnectsTo
    description: A load balancer routes to an endpoint.
    valid_target_types: [ tosca.capabilities.Endpoint ]

  tosca.relationships.network.LinksTo:
    derived_from: tosca.relationships.DependsOn
    description: A Port is on a Network.
    valid_target_types: [ tosca.capabilities.network.Linkable ]

  tosca.relationships.network.BindsTo:
    derived_from: tosca.relationships.DependsOn
    description: A Port is a NIC of a Compute.
    valid_target_types: [ tosca.capabilities.network.Bindable ]
`;
