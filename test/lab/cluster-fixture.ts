/**
 * An HTCondor-like cluster for the configuration tests and the scale bench: a front end with a
 * public IP and N private workers. The scripts leave proof on each node: the worker list on the
 * front end, the front end's address on each worker, and a counter file per step.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ComputePlan, Plan, SoftwarePlan } from '../../tosca/plan';
import type { VmTarget } from '../../server/configure/types';
import type { Lab, LabHost } from './lab';

export const MASTER_PRIVATE_IP = '10.77.0.10';
export const MASTER_PUBLIC_IP = '198.18.0.10';
export const workerIp = (i: number) => `10.77.1.${i}`;

// shell builtins only: in the lab every VM shares the test machine's CPU, so the scripts fork nothing
const counter = 'echo x >> "$HOME/count.$TOSCA_NODE.$TOSCA_OPERATION"';
const hostname = 'read -r h < /proc/sys/kernel/hostname; echo "$h" > "$HOME/hostname"';
export const SCRIPTS: Record<string, string> = {
  'front_create.sh': `#!/bin/sh\nset -e\n${counter}\n${hostname}\n`,
  'front_configure.sh': `#!/bin/sh\nset -e\n${counter}\nfor ip in $WORKER_IPS; do echo "$ip"; done > "$HOME/worker_list"\necho "workers: $WORKER_IPS"\n`,
  'wn_create.sh': `#!/bin/sh\nset -e\n${counter}\n${hostname}\n`,
  'wn_configure.sh': `#!/bin/sh\nset -e\n${counter}\necho "$FRONT_IP" > "$HOME/master_ip"\necho "front end at $FRONT_IP, I am $MY_IP"\n`,
  'wn_start.sh': `#!/bin/sh\n${counter}\n`,
};

const script = (path: string) => ({ kind: 'script' as const, path });

function compute(name: string, count: number, publicIp: boolean, software: string[], maxInstances?: number): ComputePlan {
  return { name, type: 'tosca.nodes.indigo.Compute', count, maxInstances, removalList: [], host: {}, os: {}, publicIp, networks: [], ports: [], software };
}

export function clusterPlan(workers: number): Plan {
  const lrmsFront: SoftwarePlan = {
    name: 'lrms_front', type: 'tosca.nodes.indigo.LRMS.FrontEnd.HTCondor', host: 'front', properties: {}, dependsOn: [],
    operations: [
      { interface: 'Standard', name: 'create', implementation: script('front_create.sh'), inputs: {} },
      { interface: 'Standard', name: 'configure', implementation: script('front_configure.sh'),
        inputs: { WORKER_IPS: { $ref: 'get_attribute', node: 'wn', path: ['private_address'] } } },
    ],
  };
  const lrmsWn: SoftwarePlan = {
    name: 'lrms_wn', type: 'tosca.nodes.indigo.LRMS.WorkerNode.HTCondor', host: 'wn', properties: {}, dependsOn: ['lrms_front'],
    operations: [
      { interface: 'Standard', name: 'create', implementation: script('wn_create.sh'), inputs: {} },
      { interface: 'Standard', name: 'configure', implementation: script('wn_configure.sh'),
        inputs: {
          FRONT_IP: { $ref: 'get_attribute', node: 'front', path: ['private_address'], index: 0 },
          MY_IP: { $ref: 'get_attribute', node: 'wn', path: ['private_address'], keyword: 'HOST' },
        } },
      { interface: 'Standard', name: 'start', implementation: script('wn_start.sh'), inputs: {} },
    ],
  };
  return {
    toscaVersion: 'tosca_simple_yaml_1_0', inputs: {},
    nodes: [
      { name: 'front', type: 'tosca.nodes.indigo.Compute', properties: {} },
      { name: 'wn', type: 'tosca.nodes.indigo.Compute', properties: {} },
      { name: 'lrms_front', type: lrmsFront.type, properties: {} },
      { name: 'lrms_wn', type: lrmsWn.type, properties: {} },
    ],
    computes: [compute('front', 1, true, ['lrms_front']), compute('wn', workers, false, ['lrms_wn'], 100)],
    software: [lrmsFront, lrmsWn], volumes: [], networks: [],
    order: ['front', 'wn', 'lrms_front', 'lrms_wn'], outputs: {}, elastic: [],
  };
}

export interface ClusterVm { target: VmTarget; host: LabHost }

export async function addMaster(lab: Lab, key: { publicKey: string; privateKey: string }): Promise<ClusterVm> {
  const host = await lab.addHost({ name: 'm0', privateIp: MASTER_PRIVATE_IP, publicIp: MASTER_PUBLIC_IP, authorizedKeys: key.publicKey });
  return { host, target: { vmId: '0', nodeName: 'front', privateIp: MASTER_PRIVATE_IP, publicIp: MASTER_PUBLIC_IP, ssh: { user: 'root', privateKey: key.privateKey } } };
}

/** Worker i: VM id String(i), host w<i>, private IP only. `ipIndex` lets a new VM reuse an old IP. */
export async function addWorker(lab: Lab, key: { publicKey: string; privateKey: string }, i: number, ipIndex = i, startSshd = true): Promise<ClusterVm> {
  const ip = workerIp(ipIndex);
  const host = await lab.addHost({ name: `w${i}`, privateIp: ip, authorizedKeys: key.publicKey, hostsLines: [`${MASTER_PRIVATE_IP} m0`], startSshd });
  return { host, target: { vmId: String(i), nodeName: 'wn', privateIp: ip, ssh: { user: 'root', privateKey: key.privateKey } } };
}

export function nodeFile(host: LabHost, name: string): string | undefined {
  const p = join(host.homeDir, name);
  return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
}

/** How many times a step ran on a node (its counter file's lines). */
export function stepCount(host: LabHost, node: string, op: string): number {
  return (nodeFile(host, `count.${node}.${op}`) ?? '').split('\n').filter(Boolean).length;
}
