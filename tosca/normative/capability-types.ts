/** Normative capability types (TOSCA Simple Profile in YAML v1.3, section 5.5). */
export const CAPABILITY_TYPES = `
capability_types:
  tosca.capabilities.Root:
    description: Base of every capability type.

  tosca.capabilities.Node:
    derived_from: tosca.capabilities.Root
    description: Any node can be the target of a plain dependency.

  # v1.0 puts the host sizing on Container, and the corpus's types (INDIGO, grycap) derive from it
  # with those properties; v1.3 moved them to Compute. Keep them on Container so both read alike.
  tosca.capabilities.Container:
    derived_from: tosca.capabilities.Root
    description: The node can host other nodes (HostedOn target).
    properties:
      num_cpus:
        type: integer
        required: false
        constraints:
          - greater_or_equal: 1
      cpu_frequency:
        type: scalar-unit.frequency
        required: false
        constraints:
          - greater_or_equal: 0.1 GHz
      disk_size:
        type: scalar-unit.size
        required: false
        constraints:
          - greater_or_equal: 0 MB
      mem_size:
        type: scalar-unit.size
        required: false
        constraints:
          - greater_or_equal: 0 MB

  tosca.capabilities.Compute:
    derived_from: tosca.capabilities.Container
    description: A Container that is a compute host.
    properties:
      name:
        type: string
        required: false

  tosca.capabilities.Network:
    derived_from: tosca.capabilities.Root
    properties:
      name:
        type: string
        required: false

  tosca.capabilities.Storage:
    derived_from: tosca.capabilities.Root
    properties:
      name:
        type: string
        required: false

  tosca.capabilities.Endpoint:
    derived_from: tosca.capabilities.Root
    description: A network endpoint a node offers (address, ports, protocol).
    properties:
      protocol:
        type: string
        default: tcp
      port:
        type: tosca.datatypes.network.PortDef
        required: false
      secure:
        type: boolean
        required: false
        default: false
      url_path:
        type: string
        required: false
      port_name:
        type: string
        required: false
      network_name:
        type: string
        required: false
        default: PRIVATE
      initiator:
        type: string
        required: false
        default: source
        constraints:
          - valid_values: [ source, target, peer ]
      ports:
        type: map
        required: false
        constraints:
          - min_length: 1
        entry_schema:
          type: tosca.datatypes.network.PortSpec
    attributes:
      ip_address:
        type: string

  tosca.capabilities.Endpoint.Public:
    derived_from: tosca.capabilities.Endpoint
    description: An endpoint reachable from the public network.
    properties:
      network_name:
        type: string
        default: PUBLIC
        constraints:
          - equal: PUBLIC
      floating:
        type: boolean
        default: false
      dns_name:
        type: string
        required: false

  tosca.capabilities.Endpoint.Admin:
    derived_from: tosca.capabilities.Endpoint
    description: An administration endpoint; always secure.
    properties:
      secure:
        type: boolean
        default: true
        constraints:
          - equal: true

  tosca.capabilities.Endpoint.Database:
    derived_from: tosca.capabilities.Endpoint

  tosca.capabilities.Attachment:
    derived_from: tosca.capabilities.Root
    description: The node (a volume) can be attached to a Compute.

  tosca.capabilities.OperatingSystem:
    derived_from: tosca.capabilities.Root
    properties:
      architecture:
        type: string
        required: false
      type:
        type: string
        required: false
      distribution:
        type: string
        required: false
      version:
        type: version
        required: false

  # IM adds count and removal_list: the number of instances wanted now, and the ids of the VMs to
  # remove when shrinking (IM's add/remove resources). tosca-parser rejects them; IM users rely on them.
  tosca.capabilities.Scalable:
    derived_from: tosca.capabilities.Root
    properties:
      min_instances:
        type: integer
        default: 1
      max_instances:
        type: integer
        default: 1
      default_instances:
        type: integer
        required: false
      count:
        type: integer
        required: false
      removal_list:
        type: list
        required: false
        entry_schema:
          type: string

  tosca.capabilities.network.Bindable:
    derived_from: tosca.capabilities.Node
    description: A Compute a network Port can bind to.

  tosca.capabilities.network.Linkable:
    derived_from: tosca.capabilities.Node
    description: A Network a Port (or FloatingIP) can link to.

  tosca.capabilities.Container.Docker:
    derived_from: tosca.capabilities.Container
    properties:
      version:
        type: list
        required: false
        entry_schema:
          type: version
      publish_all:
        type: boolean
        required: false
        default: false
      publish_ports:
        type: list
        required: false
        entry_schema:
          type: tosca.datatypes.network.PortSpec
      expose_ports:
        type: list
        required: false
        entry_schema:
          type: tosca.datatypes.network.PortSpec
      volumes:
        type: list
        required: false
        entry_schema:
          type: string
`;
