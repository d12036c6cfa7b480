/** Normative interface types (TOSCA Simple Profile in YAML v1.3, section 5.8). */
export const INTERFACE_TYPES = `
interface_types:
  tosca.interfaces.Root:
    description: Base of every interface type.

  tosca.interfaces.node.lifecycle.Standard:
    derived_from: tosca.interfaces.Root
    description: The life cycle of a node, run in the order create, configure, start (stop, delete on removal).
    create:
      description: Create (install) the node.
    configure:
      description: Configure the node once created.
    start:
      description: Start the node.
    stop:
      description: Stop the node.
    delete:
      description: Delete (uninstall) the node.

  tosca.interfaces.relationship.Configure:
    derived_from: tosca.interfaces.Root
    description: Hooks run on the source and target of a relationship.
    pre_configure_source:
      description: Before the source is configured.
    pre_configure_target:
      description: Before the target is configured.
    post_configure_source:
      description: After the source is configured.
    post_configure_target:
      description: After the target is configured.
    add_target:
      description: A target node was added.
    remove_target:
      description: A target node was removed.
    add_source:
      description: A source node was added.
    remove_source:
      description: A source node was removed.
    target_changed:
      description: A property or attribute of the target changed.
`;
