/** Shared fixtures for engine tests (and for tests of the layers above): templates, callers, a temp store. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as crypto from 'crypto';
import type { CloudCredential } from '../connectors/types';
import type { Caller } from '../server/engine/service';
import type { Configurator, ConfigureRequest, ConfigureResult } from '../server/engine/configurator';

export const TEST_SECRET_KEY = crypto.createHash('sha256').update('tosca-im test key').digest();

export function dummyCaller(owner = 'alice', fields: Record<string, string> = {}, cloudId = 'dummy'): Caller {
  const cred: CloudCredential = { id: cloudId, type: 'Dummy', fields };
  return { owner: `owner-${owner}`, username: owner, credentials: [cred] };
}

/** A front end with a public IP and `wn` workers, with outputs, as IM's examples do. */
export function clusterTemplate(workers = 2, front = 1): string {
  return `tosca_definitions_version: tosca_simple_yaml_1_0
description: test cluster
topology_template:
  node_templates:
    front:
      type: tosca.nodes.Compute
      capabilities:
        scalable:
          properties:
            count: ${front}
        endpoint:
          properties:
            network_name: PUBLIC
        host:
          properties:
            num_cpus: 2
            mem_size: 2 GB
        os:
          properties:
            type: linux
            distribution: ubuntu
            version: "22.04"
            image: ost://cloud.example/ubuntu-22.04
    wn:
      type: tosca.nodes.Compute
      capabilities:
        scalable:
          properties:
            count: ${workers}
        host:
          properties:
            num_cpus: 1
            mem_size: 1 GB
        os:
          properties:
            type: linux
  outputs:
    front_ip:
      value: { get_attribute: [ front, public_address, 0 ] }
    wn_ips:
      value: { get_attribute: [ wn, private_address ] }
`;
}

/** A template that only sets the counts of existing nodes (IM's add-resources body). */
export function scaleTemplate(counts: Record<string, number>, removal: Record<string, string[]> = {}): string {
  const nodes = Object.entries(counts).map(([name, count]) => {
    const rl = removal[name] ? `\n            removal_list: [${removal[name].map((r) => `'${r}'`).join(', ')}]` : '';
    return `    ${name}:
      type: tosca.nodes.Compute
      capabilities:
        scalable:
          properties:
            count: ${count}${rl}`;
  });
  return `tosca_definitions_version: tosca_simple_yaml_1_0
topology_template:
  node_templates:
${nodes.join('\n')}
`;
}

export function tempDir(prefix = 'tosca-im-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Polls `f` until `ok` holds (every `stepMs`), failing with the last value after `ms`. */
export async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 5000, stepMs = 20): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`condition not reached; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * A Configurator that records what the engine asks of it, answers every target configured (or as
 * `answer` says), and can hold a run open (a step in progress) until released or aborted.
 */
export class RecordingConfigurator implements Configurator {
  requests: ConfigureRequest[] = [];
  removed: string[] = [];
  leaving: string[] = [];
  released: string[] = [];
  /** While set, a run stays in progress (a step running) until it resolves or the run is aborted. */
  hold?: Promise<void>;
  /** Called when a held run has started. */
  started?: () => void;
  /** Called by vmLeaving (the engine stopping a leaving VM's steps). */
  onLeaving?: (vmId: string) => void;
  answer: (req: ConfigureRequest) => ConfigureResult | Promise<ConfigureResult> = (req) => ({
    vms: Object.fromEntries((req.targets ?? req.vms.map((v) => v.id)).map((id) => [id, 'configured' as const])),
  });
  /** Runs in progress now, and the most ever at once (configure runs of one infrastructure must not overlap). */
  inProgress = 0;
  maxInProgress = 0;
  async configure(req: ConfigureRequest) {
    this.requests.push(req);
    this.maxInProgress = Math.max(this.maxInProgress, ++this.inProgress);
    try {
      await req.log('recorder ran');
      if (this.hold) {
        this.started?.();
        await Promise.race([
          this.hold,
          new Promise((_, reject) => req.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true })),
        ]);
      }
      return await this.answer(req);
    } finally {
      this.inProgress--;
    }
  }
  vmRemoved(_inf: string, vmId: string) { this.removed.push(vmId); }
  vmLeaving(_inf: string, vmId: string) {
    this.leaving.push(vmId);
    this.onLeaving?.(vmId);
  }
  async release(inf: string) { this.released.push(inf); }

  /** Holds the next runs open; resolves `started` once one is in progress. */
  holdRuns(): { started: Promise<void>; release: () => void } {
    let release!: () => void;
    this.hold = new Promise<void>((r) => { release = r; });
    const started = new Promise<void>((r) => { this.started = r; });
    return { started, release };
  }
}
