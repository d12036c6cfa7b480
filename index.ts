export * from './tosca/plan';
export * from './connectors/types';
export * from './server/errors';
export * from './server/engine/service';
