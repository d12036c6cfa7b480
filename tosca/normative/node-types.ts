/** Normative node types (TOSCA Simple Profile in YAML v1.3, section 5.9). */
export const NODE_TYPES = `
node_types:
  tosca.nodes.Root:
    description: Base of every node type; anything can depend on it.
    attributes:
      tosca_id:
        type: string
      tosca_name:
        type: string
      state:
        type: string
    capabilities:
      feature:
        type: tosca.capabilities.Node
    requirements:
      - dependency:
          capability: tosca.capabilities.Node
          node: tosca.nodes.Root
          relationship: tosca.relationships.DependsOn
          occurrences: [ 0, UNBOUNDED ]
    interfaces:
      Standard:
        type: tosca.interfaces.node.lifecycle.Standard

  tosca.nodes.Compute:
    derived_from: tosca.nodes.Root
    description: A virtual machine (or bare-metal host) with an OS that can host software.
    attributes:
      private_address:
        type: string
      public_address:
        type: string
      networks:
        type: map
        entry_schema:
          type: tosca.datatypes.network.NetworkInfo
      ports:
        type: map
        entry_schema:
          type: tosca.datatypes.network.PortInfo
    capabilities:
      host:
        type: tosca.capabilities.Container
        valid_source_types: [ tosca.nodes.SoftwareComponent ]
      endpoint:
        type: tosca.capabilities.Endpoint.Admin
      os:
        type: tosca.capabilities.OperatingSystem
      scalable:
        type: tosca.capabilities.Scalable
      binding:
        type: tosca.capabilities.network.Bindable
    requirements:
      - local_storage:
          capability: tosca.capabilities.Attachment
          node: tosca.nodes.BlockStorage
          relationship: tosca.relationships.AttachesTo
          occurrences: [ 0, UNBOUNDED ]

  tosca.nodes.SoftwareComponent:
    derived_from: tosca.nodes.Root
    description: Software installed on a Compute.
    properties:
      component_version:
        type: version
        required: false
      admin_credential:
        type: tosca.datatypes.Credential
        required: false
    requirements:
      - host:
          capability: tosca.capabilities.Container
          node: tosca.nodes.Compute
          relationship: tosca.relationships.HostedOn

  tosca.nodes.WebServer:
    derived_from: tosca.nodes.SoftwareComponent
    description: Software that serves web applications.
    capabilities:
      data_endpoint:
        type: tosca.capabilities.Endpoint
      admin_endpoint:
        type: tosca.capabilities.Endpoint.Admin
      host:
        type: tosca.capabilities.Container
        valid_source_types: [ tosca.nodes.WebApplication ]

  tosca.nodes.WebApplication:
    derived_from: tosca.nodes.Root
    description: An application hosted on a WebServer.
    properties:
      context_root:
        type: string
        required: false
    capabilities:
      app_endpoint:
        type: tosca.capabilities.Endpoint
    requirements:
      - host:
          capability: tosca.capabilities.Container
          node: tosca.nodes.WebServer
          relationship: tosca.relationships.HostedOn

  tosca.nodes.DBMS:
    derived_from: tosca.nodes.SoftwareComponent
    description: A database management system that hosts Databases.
    properties:
      root_password:
        type: string
        required: false
      port:
        type: integer
        required: false
    capabilities:
      host:
        type: tosca.capabilities.Container
        valid_source_types: [ tosca.nodes.Database ]

  tosca.nodes.Database:
    derived_from: tosca.nodes.Root
    description: A logical database hosted on a DBMS.
    properties:
      name:
        type: string
        required: false
      port:
        type: integer
        required: false
      user:
        type: string
        required: false
      password:
        type: string
        required: false
    capabilities:
      database_endpoint:
        type: tosca.capabilities.Endpoint.Database
    requirements:
      - host:
          capability: tosca.capabilities.Container
          node: tosca.nodes.DBMS
          relationship: tosca.relationships.HostedOn

  tosca.nodes.ObjectStorage:
    derived_from: tosca.nodes.Root
    description: Storage of objects (blobs) without a file system, e.g. a bucket.
    properties:
      name:
        type: string
      size:
        type: scalar-unit.size
        required: false
        constraints:
          - greater_or_equal: 0 GB
      maxsize:
        type: scalar-unit.size
        required: false
        constraints:
          - greater_or_equal: 0 GB
    capabilities:
      storage_endpoint:
        type: tosca.capabilities.Endpoint

  tosca.nodes.BlockStorage:
    derived_from: tosca.nodes.Root
    description: A volume attached to a Compute (new of the given size, or an existing volume/snapshot).
    properties:
      size:
        type: scalar-unit.size
        required: false
        constraints:
          - greater_or_equal: 1 MB
      volume_id:
        type: string
        required: false
      snapshot_id:
        type: string
        required: false
    attributes:
      volume_id:
        type: string
    capabilities:
      attachment:
        type: tosca.capabilities.Attachment

  tosca.nodes.Container.Runtime:
    derived_from: tosca.nodes.SoftwareComponent
    description: A container engine (e.g. Docker) that hosts containers.
    capabilities:
      host:
        type: tosca.capabilities.Container
      scalable:
        type: tosca.capabilities.Scalable

  tosca.nodes.Container.Application:
    derived_from: tosca.nodes.Root
    description: An application run as a container on a Container.Runtime.
    requirements:
      - host:
          capability: tosca.capabilities.Container
          node: tosca.nodes.Container.Runtime
          relationship: tosca.relationships.HostedOn
      - storage:
          capability: tosca.capabilities.Storage
          occurrences: [ 0, UNBOUNDED ]
      - network:
          capability: tosca.capabilities.Endpoint
          occurrences: [ 0, UNBOUNDED ]

  # From the spec's non-normative Docker types (section 8), which tosca-parser ships as normative and
  # the INDIGO types derive from.
  tosca.nodes.Container.Application.Docker:
    derived_from: tosca.nodes.Container.Application
    description: An application run as a Docker container.
    requirements:
      - host:
          capability: tosca.capabilities.Container.Docker

  tosca.nodes.LoadBalancer:
    derived_from: tosca.nodes.Root
    description: Spreads client traffic over application endpoints.
    properties:
      algorithm:
        type: string
        required: false
    capabilities:
      client:
        type: tosca.capabilities.Endpoint.Public
        occurrences: [ 0, UNBOUNDED ]
    requirements:
      - application:
          capability: tosca.capabilities.Endpoint
          relationship: tosca.relationships.RoutesTo
          occurrences: [ 0, UNBOUNDED ]

  tosca.nodes.network.Network:
    derived_from: tosca.nodes.Root
    description: >
      A network: an existing one (network_name / network_id alone) or a new one (with cidr and the rest).
    properties:
      ip_version:
        type: integer
        required: false
        default: 4
        constraints:
          - valid_values: [ 4, 6 ]
      cidr:
        type: string
        required: false
      start_ip:
        type: string
        required: false
      end_ip:
        type: string
        required: false
      gateway_ip:
        type: string
        required: false
      network_name:
        type: string
        required: false
      network_id:
        type: string
        required: false
      segmentation_id:
        type: string
        required: false
      network_type:
        type: string
        required: false
      physical_network:
        type: string
        required: false
      dhcp_enabled:
        type: boolean
        required: false
        default: true
    capabilities:
      link:
        type: tosca.capabilities.network.Linkable

  tosca.nodes.network.Port:
    derived_from: tosca.nodes.Root
    description: A virtual NIC that binds a Compute to a Network.
    properties:
      ip_address:
        type: string
        required: false
      order:
        type: integer
        required: false
        default: 0
        constraints:
          - greater_or_equal: 0
      is_default:
        type: boolean
        required: false
        default: false
      ip_range_start:
        type: string
        required: false
      ip_range_end:
        type: string
        required: false
    attributes:
      ip_address:
        type: string
    requirements:
      - link:
          capability: tosca.capabilities.network.Linkable
          relationship: tosca.relationships.network.LinksTo
      - binding:
          capability: tosca.capabilities.network.Bindable
          relationship: tosca.relationships.network.BindsTo

  tosca.nodes.network.FloatingIP:
    derived_from: tosca.nodes.Root
    description: A floating (public) IP from a pool, associated with a Port.
    properties:
      floating_network:
        type: string
      floating_ip_address:
        type: string
        required: false
      port_id:
        type: string
        required: false
    requirements:
      - link:
          capability: tosca.capabilities.network.Linkable
          relationship: tosca.relationships.network.LinksTo
          node: tosca.nodes.network.Port
`;
