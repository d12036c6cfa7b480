/** Cloud type (IM credential `type`, case-insensitive) → connector factory. */
import type { CloudConnector, CloudCredential, ConnectorFactory } from './types';
import { InvalidInputError } from '../lib/errors';

const factories = new Map<string, ConnectorFactory>();

export function registerConnector(type: string, factory: ConnectorFactory): void {
  factories.set(type.toLowerCase(), factory);
}

export function connectorFor(cred: CloudCredential): CloudConnector {
  const factory = factories.get(cred.type.toLowerCase());
  if (!factory) throw new InvalidInputError(`Unsupported cloud type "${cred.type}" in credential "${cred.id}"`);
  return factory(cred);
}

export function supportedCloudTypes(): string[] {
  return [...factories.keys()];
}
