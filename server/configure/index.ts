/** server/configure: lifecycle operations over SSH through the master; see docs/configure.md. */
export { Configurator, mergeRequests, type ConfiguratorOptions } from './configurator';
export { formatContmsg, formatLogEntry } from './contmsg';
export * from './errors';
export { generateSshKeyPair, MemoryHostKeyStore, type HostKeyStore, type SshKeyPair } from './keys';
export { SshRunner, type SshNode, type SshStats } from './ssh-runner';
export type { ArtifactSources } from './artifacts';
export * from './types';
