/** Normative artifact types (TOSCA Simple Profile in YAML v1.3, section 5.4). */
export const ARTIFACT_TYPES = `
artifact_types:
  tosca.artifacts.Root:
    description: Base of every artifact type.

  tosca.artifacts.File:
    derived_from: tosca.artifacts.Root

  tosca.artifacts.Deployment:
    derived_from: tosca.artifacts.Root
    description: Something installed or deployed (a package, an image).

  tosca.artifacts.Deployment.Image:
    derived_from: tosca.artifacts.Deployment

  tosca.artifacts.Deployment.Image.VM:
    derived_from: tosca.artifacts.Deployment.Image
    description: A virtual machine image.

  tosca.artifacts.Deployment.Image.Container.Docker:
    derived_from: tosca.artifacts.Deployment.Image
    description: A Docker container image.

  tosca.artifacts.Deployment.Image.VM.ISO:
    derived_from: tosca.artifacts.Deployment.Image.VM
    mime_type: application/octet-stream
    file_ext: [ iso ]

  tosca.artifacts.Deployment.Image.VM.QCOW2:
    derived_from: tosca.artifacts.Deployment.Image.VM
    mime_type: application/octet-stream
    file_ext: [ qcow2 ]

  tosca.artifacts.Implementation:
    derived_from: tosca.artifacts.Root
    description: Something an orchestrator runs to carry out an operation.

  tosca.artifacts.Implementation.Bash:
    derived_from: tosca.artifacts.Implementation
    mime_type: application/x-sh
    file_ext: [ sh ]

  tosca.artifacts.Implementation.Python:
    derived_from: tosca.artifacts.Implementation
    mime_type: application/x-python
    file_ext: [ py ]

  tosca.artifacts.template:
    derived_from: tosca.artifacts.Root
    description: A template file rendered by the orchestrator.
`;
