/**
 * Instance types: the cloud's own list (DescribeInstanceTypes, current generation) or, for
 * EC2-compatible clouds that lack that call, a built-in table of common AWS types.
 */
import type { HostSizing } from '../../tosca/plan';
import { chooseSize, VmSize } from '../shared/sizing';
import { Ec2ApiError, Ec2Client, items } from './client';

export interface InstanceTypeCatalog {
  sizes: VmSize[];
  /** true when the cloud could not list its types and the built-in table stands in. */
  builtIn: boolean;
}

const size = (name: string, cpus: number, memoryMB: number, gpus = 0): VmSize => ({ id: name, name, cpus, memoryMB, diskGB: 0, gpus });

/** vCPUs and MiB of AWS's common general-purpose, compute and memory types. */
export const BUILT_IN_TYPES: VmSize[] = [
  size('t3.nano', 2, 512), size('t3.micro', 2, 1024), size('t3.small', 2, 2048), size('t3.medium', 2, 4096),
  size('t3.large', 2, 8192), size('t3.xlarge', 4, 16384), size('t3.2xlarge', 8, 32768),
  size('m5.large', 2, 8192), size('m5.xlarge', 4, 16384), size('m5.2xlarge', 8, 32768), size('m5.4xlarge', 16, 65536),
  size('m5.8xlarge', 32, 131072), size('c5.large', 2, 4096), size('c5.xlarge', 4, 8192), size('c5.2xlarge', 8, 16384),
  size('c5.4xlarge', 16, 32768), size('c5.9xlarge', 36, 73728), size('r5.large', 2, 16384), size('r5.xlarge', 4, 32768),
  size('r5.2xlarge', 8, 65536), size('r5.4xlarge', 16, 131072), size('g4dn.xlarge', 4, 16384, 1),
];

/** Codes with which clouds say "I do not have this call". */
const UNSUPPORTED = new Set(['InvalidAction', 'UnsupportedOperation', 'NotImplemented', 'UnknownOperationException', 'InvalidRequest']);

export async function loadInstanceTypes(client: Ec2Client): Promise<InstanceTypeCatalog> {
  const sizes: VmSize[] = [];
  let token: string | undefined;
  try {
    do {
      const answer = await client.call('DescribeInstanceTypes', {
        'Filter.1.Name': 'current-generation',
        'Filter.1.Value.1': 'true',
        MaxResults: 100,
        NextToken: token,
      });
      for (const t of items(answer.instanceTypeSet)) {
        const gpus = items(t.gpuInfo?.gpus).reduce((n, g) => n + Number(g.count ?? 0), 0);
        sizes.push(size(String(t.instanceType), Number(t.vCpuInfo?.defaultVCpus ?? 0), Number(t.memoryInfo?.sizeInMiB ?? 0), gpus));
      }
      token = typeof answer.nextToken === 'string' && answer.nextToken ? answer.nextToken : undefined;
    } while (token);
  } catch (err) {
    // A cloud without the call (or without its filter) answers InvalidAction, 400 or 501: use the table.
    if (err instanceof Ec2ApiError && (UNSUPPORTED.has(err.code) || err.status === 400 || err.status === 501)) {
      return { sizes: BUILT_IN_TYPES, builtIn: true };
    }
    throw err;
  }
  return sizes.length ? { sizes, builtIn: false } : { sizes: BUILT_IN_TYPES, builtIn: true };
}

/**
 * The type to launch: the exact instance_type when the template names one (checked against the
 * cloud's list, passed through as is when only the built-in table is known), else the smallest
 * type with enough CPUs and memory. Disk size is not a type property on EC2 (the root volume is sized instead).
 */
export function chooseInstanceType(catalog: InstanceTypeCatalog, host: HostSizing, cloudLabel: string): string {
  if (host.instanceType && catalog.builtIn) return host.instanceType;
  return chooseSize(catalog.sizes, { ...host, diskSizeGB: undefined }, cloudLabel).name;
}
