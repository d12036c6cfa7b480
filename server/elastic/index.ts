/** server/elastic: the built-in elasticity manager (issue 7). See docs/elasticity.md. */
export * from './clock';
export * from './policy';
export * from './decide';
export * from './state';
export * from './metrics';
export * from './view';
export * from './manager';
export * from './probes';
export { htcondor, parseCondorQ, parseCondorStatus } from './probes/htcondor';
export { kubernetesAdapter, parsePods, parseNodes } from './probes/kubernetes';
export { genericAdapter, parseGeneric } from './probes/generic';
export { slurm, parseSqueue, parseSinfo } from './probes/slurm';
export * from './ports';
export * from './schema';
