/// <reference types="jest" />
/**
 * The real OpenStack services of /work/shared/tools/real-openstack (setup.sh) as the judge of the
 * connector: presence check, demo credential, admin moves (admin.py), the services' request logs
 * (api_log.py) and project snapshots (cloud_state.py). Suites run only with OS_JUDGE=1; then a missing
 * service skips them loudly, or fails them under TOSCA_IM_REQUIRE_ALL=1 (CI).
 */
import { describeWithRealPart } from '../../real-part';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { CloudCredential, VmHandle, VmObservation } from '../../../connectors/types';
import type { OpenStackConnector } from '../../../connectors/openstack';
import type { ComputePlan } from '../../../tosca/plan';
import { sharedPath } from '../../shared-dir';
import { PUBLIC_KEY } from '../../openstack/helpers';

const PY = '/usr/bin/python3';
const TOOLS = sharedPath('tools', 'real-openstack');
const STATE = process.env.OS_JUDGE_STATE ?? '/var/lib/os-judge';
const ENV = { ...process.env, OS_CLIENT_CONFIG_FILE: join(STATE, 'clouds.yaml'), PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
const SERVICES: [string, string][] = [
  ['keystone', 'http://127.0.0.1:5000/v3'], ['nova', 'http://127.0.0.1:8774/'], ['neutron', 'http://127.0.0.1:9696/'],
  ['glance', 'http://127.0.0.1:9292/'], ['placement', 'http://127.0.0.1:8778/'],
];
export const IMAGE = 'ubuntu-22.04';
export const PAGE = 5;

function missingService(): string | undefined {
  for (const [name, url] of SERVICES) {
    try {
      execFileSync('/usr/bin/curl', ['-s', '-o', '/dev/null', '-m', '3', url], { stdio: 'ignore' });
    } catch {
      return `${name} (${url}) does not answer: start ${TOOLS}/setup.sh`;
    }
  }
  return undefined;
}

/** describe() against the real services (see the file comment). */
export function describeWithJudge(name: string, fn: () => void): void {
  if (process.env.OS_JUDGE !== '1') {
    // eslint-disable-next-line no-console
    console.warn(`SKIPPED "${name}": set OS_JUDGE=1 with the real OpenStack services running (${TOOLS}/README.md)`);
    return describe.skip(name, fn);
  }
  describeWithRealPart(name, 'real OpenStack services', missingService(), fn);
}

export function demoCredential(fields: Record<string, string> = {}, id = 'judge'): CloudCredential {
  return {
    id, type: 'OpenStack',
    fields: { host: 'http://127.0.0.1:5000', username: 'demo', password: 'demo-secret', tenant: 'demo', domain: 'Default', auth_version: '3.x_password', ...fields },
  };
}

function py(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(PY, [script, ...args], { env: ENV, timeout: 300_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${script} ${args.join(' ')} failed: ${stderr || err.message}`)) : resolve(stdout)));
}

/** admin.py COMMAND ARGS → its JSON answer. */
export async function admin(...args: string[]): Promise<Record<string, unknown>> {
  return JSON.parse((await py(join(__dirname, 'admin.py'), args)).trim().split('\n').pop()!);
}

export async function registerAgent(): Promise<void> {
  await py(join(TOOLS, 'register_agent.py'), ['judge-compute']);
}

const work = mkdtempSync(join(tmpdir(), 'os-judge-'));

/** What project demo owns now (cloud_state.py snapshot); `diff` of two snapshots ('' when none). */
export const cloudState = {
  async snapshot(): Promise<string> {
    const file = join(work, `state-${randomUUID()}.json`);
    await py(join(TOOLS, 'cloud_state.py'), ['snapshot', file]);
    return file;
  },
  async diff(a: string, b: string): Promise<string> {
    const out = (await py(join(TOOLS, 'cloud_state.py'), ['diff', a, b])).trim();
    return out === 'no difference' ? '' : out;
  },
};

export interface ApiRequest { service: string; method: string; status: number; path: string }

/** The requests the services logged from now on (api_log.py). */
export async function apiLog(): Promise<{ since(): Promise<ApiRequest[]> }> {
  const mark = join(work, `mark-${randomUUID()}.json`);
  await py(join(TOOLS, 'api_log.py'), ['mark', mark]);
  return {
    async since() {
      const out = await py(join(TOOLS, 'api_log.py'), ['since', mark, '--all']);
      const lines = out.split('\n');
      return lines.slice(0, lines.indexOf('--- per endpoint')).map((l) => {
        const [service, method, status, path] = l.trim().split(/\s+/);
        return { service, method, status: Number(status), path };
      });
    },
  };
}

export interface Launched { vmId: string; handle: VmHandle; obs: VmObservation; attempts: number }

/** The engine's loop, condensed (test/openstack/helpers.ts deploy), with the patience a real cloud needs. */
export async function deployReal(conn: OpenStackConnector, infId: string, computes: ComputePlan[], maxAttempts = 3): Promise<Launched[]> {
  await conn.prepare({ infrastructureId: infId, computes, publicKey: PUBLIC_KEY });
  const vms = computes.flatMap((c) => Array.from({ length: c.count }, () => c));
  return Promise.all(vms.map(async (c, i) => {
    let last: Launched | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const handle = await conn.launch({
        infrastructureId: infId, vmId: String(i), nodeName: c.name, compute: c, publicKey: PUBLIC_KEY, adminUser: 'cloudadm', clientToken: randomUUID(),
      });
      const obs = await settle(conn, handle);
      last = { vmId: String(i), handle, obs, attempts: attempt };
      if (obs.state !== 'failed' || obs.retryable === false) return last;
      if (attempt < maxAttempts) await conn.terminate(handle, { releaseFloatingIps: false });
    }
    return last!;
  }));
}

export async function settle(conn: OpenStackConnector, handle: VmHandle, timeoutMs = 180_000): Promise<VmObservation> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const obs = await conn.describe(handle);
    if (obs.state !== 'pending') return obs;
    if (Date.now() > end) throw new Error(`VM ${handle.instanceId} stayed pending for ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export const realCompute = (name: string, over: Partial<ComputePlan> = {}): ComputePlan => ({
  name, type: 'tosca.nodes.indigo.Compute', count: 1, removalList: [], host: { numCpus: 1, memSizeMB: 512 },
  os: { image: IMAGE }, publicIp: false, networks: [], ports: [], software: [], ...over,
});
