/** Normative data types (TOSCA Simple Profile in YAML v1.3, section 5.3). */
export const DATA_TYPES = `
data_types:
  tosca.datatypes.Root:
    description: Base of every normative data type.

  tosca.datatypes.json:
    derived_from: string
    description: A string holding a JSON document.

  tosca.datatypes.xml:
    derived_from: string
    description: A string holding an XML document.

  tosca.datatypes.Credential:
    derived_from: tosca.datatypes.Root
    description: What a client presents to authenticate (password, key, token...).
    properties:
      protocol:
        type: string
        required: false
      token_type:
        type: string
        default: password
      token:
        type: string
      keys:
        type: map
        required: false
        entry_schema:
          type: string
      user:
        type: string
        required: false

  tosca.datatypes.TimeInterval:
    derived_from: tosca.datatypes.Root
    properties:
      start_time:
        type: timestamp
      end_time:
        type: timestamp

  tosca.datatypes.network.NetworkInfo:
    derived_from: tosca.datatypes.Root
    description: Runtime view of one network a Compute is connected to.
    properties:
      network_name:
        type: string
        required: false
      network_id:
        type: string
        required: false
      addresses:
        type: list
        required: false
        entry_schema:
          type: string

  tosca.datatypes.network.PortInfo:
    derived_from: tosca.datatypes.Root
    description: Runtime view of one port (virtual NIC) of a Compute.
    properties:
      port_name:
        type: string
        required: false
      port_id:
        type: string
        required: false
      network_id:
        type: string
        required: false
      mac_address:
        type: string
        required: false
      addresses:
        type: list
        required: false
        entry_schema:
          type: string

  tosca.datatypes.network.PortDef:
    derived_from: integer
    description: A TCP/UDP port number.
    constraints:
      - in_range: [ 1, 65535 ]

  tosca.datatypes.network.PortSpec:
    derived_from: tosca.datatypes.Root
    description: >
      A port or port range to open, from source (the client side) to target. The spec lists
      udp, tcp and igmp; icmp is accepted too because IM opens icmp rules from it.
    properties:
      protocol:
        type: string
        default: tcp
        constraints:
          - valid_values: [ udp, tcp, igmp, icmp ]
      target:
        type: tosca.datatypes.network.PortDef
        required: false
      target_range:
        type: range
        required: false
        constraints:
          - in_range: [ 1, 65535 ]
      source:
        type: tosca.datatypes.network.PortDef
        required: false
      source_range:
        type: range
        required: false
        constraints:
          - in_range: [ 1, 65535 ]
`;
