/**
 * EC2 simulator: the EC2 Query API over real HTTP (form-encoded POST or GET query, SigV4 checked
 * against configured keys, XML answers in the EC2 namespace), with a stateful account, limits,
 * fault injection and an inspection endpoint (GET /_sim/state). `npx tosca-im sim ec2` starts it.
 */
import express from 'express';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { catalogActions } from './actions/catalog';
import type { ActionTable } from './actions/context';
import { instanceActions } from './actions/instances';
import { networkActions } from './actions/network';
import { Ec2SimError } from './errors';
import { Faults, FaultSpec } from './faults';
import { Ec2Model, Image, InstanceType, Limits, newId, STATE_CODES } from './model';
import { Params } from './params';
import { verifySigV4 } from './sigv4';
import { startEc2HostMode, type HostMode, type HostModeOptions } from './host-mode';
import { errorDocument, successDocument } from './xml';
import { Holds, type Hold, type HoldRule } from '../holds';
import { sleep } from '../../lib/sleep';

export type { FaultSpec } from './faults';
export type { Image, InstanceType, Limits } from './model';
export type { Hold } from '../holds';
export type { Params } from './params';

/** What a hold rule sees of an EC2 call (signature already checked). */
export interface SimRequest { action: string; params: Params }
export { HostMode, HostModeError, type HostModeOptions, type SimHost } from './host-mode';

export interface SimOptions {
  host?: string;
  port?: number;
  /** Access key id → secret key (default AKIDEXAMPLE / SECRETEXAMPLE). */
  keys?: Record<string, string>;
  region?: string;
  /** pending → running (default 300 ms). */
  bootMs?: number;
  /** shutting-down → terminated (default 200 ms). */
  shutdownMs?: number;
  stopMs?: number;
  /** How long a new instance stays unknown to DescribeInstances (EC2's eventual consistency; default 0). */
  visibilityDelayMs?: number;
  limits?: Partial<Limits>;
  images?: Image[];
  instanceTypes?: InstanceType[];
  /** false: answer DescribeInstanceTypes with InvalidAction, like EC2-compatible clouds without it. */
  describeInstanceTypes?: boolean;
  /** Latency added to every EC2 call. */
  latencyMs?: number;
  /** Key pairs the account already has (default: `probe-key`, which the boto3 probe launches with). */
  keyPairs?: { name: string; publicKey: string }[];
  /** Host mode (root only): every instance becomes an SSH host of a sealed lab (see host-mode.ts). */
  hostMode?: HostModeOptions | true;
}

export const DEFAULT_IMAGES: Image[] = [
  { id: 'ami-0123456789abcdef0', name: 'ubuntu-22.04-amd64', owner: 'amazon', architecture: 'x86_64' },
  { id: 'ami-0fedcba9876543210', name: 'rocky-9-site-image', owner: 'self', architecture: 'x86_64' },
];

/** A slice of the real catalogue (vCPUs, MiB), enough to make type selection meaningful. */
export const DEFAULT_INSTANCE_TYPES: InstanceType[] = [
  ['t2.micro', 1, 1024], ['t2.small', 1, 2048], ['t2.medium', 2, 4096], ['t3.nano', 2, 512],
  ['t3.micro', 2, 1024], ['t3.small', 2, 2048], ['t3.medium', 2, 4096], ['t3.large', 2, 8192],
  ['t3.xlarge', 4, 16384], ['m5.large', 2, 8192], ['m5.xlarge', 4, 16384], ['m5.2xlarge', 8, 32768],
  ['m5.4xlarge', 16, 65536], ['c5.large', 2, 4096], ['c5.xlarge', 4, 8192], ['c5.2xlarge', 8, 16384],
  ['r5.large', 2, 16384], ['r5.xlarge', 4, 32768],
].map(([name, vcpus, memoryMiB]) => ({ name: name as string, vcpus: vcpus as number, memoryMiB: memoryMiB as number }));

const PROBE_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKz9N3VvGZ0b0Zb5u5aH3b8oQmD2m0q1w3e5r7t9y1u3 probe@sim';

export interface RequestCounts {
  total: number;
  byAction: Record<string, number>;
}

export interface Ec2Sim {
  url: string;
  close(): Promise<void>;
  /** Present when started with `hostMode`: the instances as lab hosts. */
  hostMode?: HostMode;
  faults: Faults;
  /** Keeps matching EC2 calls waiting until released (holds.ts). */
  hold(rule: HoldRule<SimRequest>): Hold;
  inspect: {
    model: Ec2Model;
    /** What GET /_sim/state answers: every resource with its tags, and the request counters. */
    state(): ReturnType<typeof snapshot>;
    requests(): RequestCounts;
    resetCounters(): void;
  };
}

function snapshot(model: Ec2Model, counts: RequestCounts) {
  model.advance();
  const tags = (id: string) => Object.fromEntries(model.tags.get(id) ?? []);
  return {
    instances: [...model.instances.values()].map((i) => ({
      id: i.id,
      state: i.state,
      stateCode: STATE_CODES[i.state],
      type: i.type,
      imageId: i.imageId,
      keyName: i.keyName,
      groupIds: i.groupIds,
      subnetId: i.subnetId,
      privateIp: i.privateIp,
      publicIp: model.addressOf(i.id)?.publicIp,
      clientToken: i.clientToken,
      userData: i.userData === undefined ? undefined : Buffer.from(i.userData, 'base64').toString('utf8'),
      tags: tags(i.id),
    })),
    securityGroups: [...model.securityGroups.values()].map((g) => ({ ...g, tags: tags(g.id) })),
    keyPairs: [...model.keyPairs.values()].map((k) => ({ id: k.id, name: k.name, fingerprint: k.fingerprint, tags: tags(k.id) })),
    addresses: [...model.addresses.values()].map((a) => ({ ...a, tags: tags(a.allocationId) })),
    vpcs: [...model.vpcs.values()],
    subnets: [...model.subnets.values()],
    requests: { total: counts.total, byAction: { ...counts.byAction } },
  };
}


export async function startEc2Sim(opts: SimOptions = {}): Promise<Ec2Sim> {
  const keys = opts.keys ?? { AKIDEXAMPLE: 'SECRETEXAMPLE' };
  const model = new Ec2Model(
    opts.region ?? 'us-east-1',
    { bootMs: opts.bootMs ?? 300, shutdownMs: opts.shutdownMs ?? 200, stopMs: opts.stopMs ?? 200, visibilityDelayMs: opts.visibilityDelayMs ?? 0 },
    { instances: opts.limits?.instances ?? 256, addresses: opts.limits?.addresses ?? 5 },
    opts.images ?? DEFAULT_IMAGES,
    opts.instanceTypes ?? DEFAULT_INSTANCE_TYPES,
  );
  for (const k of opts.keyPairs ?? [{ name: 'probe-key', publicKey: PROBE_KEY }]) {
    const id = newId('key');
    model.keyPairs.set(id, { id, name: k.name, publicKey: k.publicKey, fingerprint: '00:'.repeat(15) + '00', type: 'ed25519', created: new Date().toISOString() });
  }
  const hostMode = opts.hostMode ? await startEc2HostMode(model, opts.hostMode === true ? {} : opts.hostMode) : undefined;
  const actions: ActionTable = { ...catalogActions, ...instanceActions, ...networkActions };
  if (opts.describeInstanceTypes === false) delete actions.DescribeInstanceTypes;
  const faults = new Faults();
  faults.latencyMs = opts.latencyMs ?? 0;
  const counts: RequestCounts = { total: 0, byAction: {} };
  const holds = new Holds<SimRequest>();
  let url = '';

  const app = express();
  app.disable('x-powered-by');
  app.use(express.raw({ type: () => true, limit: '2mb' }));

  app.get('/_sim/state', (_req, res) => {
    res.json(snapshot(model, counts));
  });
  app.post('/_sim/faults', (req, res) => {
    const spec = JSON.parse(req.body.toString('utf8') || '{}') as FaultSpec;
    if (spec.kind === 'latency' && spec.action === undefined && spec.times === undefined) faults.latencyMs = spec.ms ?? 0;
    else faults.add(spec);
    res.status(204).end();
  });
  app.delete('/_sim/faults', (_req, res) => {
    faults.clear();
    res.status(204).end();
  });

  app.all(/^(?!\/_sim\/).*/, async (req, res) => {
    const requestId = randomUUID();
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const fail = (e: Ec2SimError) =>
      res.status(e.status).type('text/xml;charset=UTF-8').send(errorDocument(e.code, e.message, requestId));
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
    const params = Params.fromForm([query, req.method === 'POST' ? body.toString('utf8') : ''].filter(Boolean).join('&'));
    const action = params.get('Action') ?? '';
    counts.total++;
    counts.byAction[action] = (counts.byAction[action] ?? 0) + 1;
    const fired = faults.take(action);
    const delay = faults.latencyMs + (fired.latency?.ms ?? 0);
    if (delay > 0) await sleep(delay);
    try {
      verifySigV4({ method: req.method, rawUrl: req.originalUrl, headers: req.headers, body }, keys);
      if (!action) throw new Ec2SimError('MissingAction', 'The request must contain the parameter Action', 400);
      const handler = Object.hasOwn(actions, action) ? actions[action] : undefined;
      if (!handler) throw new Ec2SimError('InvalidAction', `The action ${action} is not valid for this web service.`, 400);
      if (fired.reset) {
        req.socket.destroy();
        return;
      }
      if (fired.throttle) throw new Ec2SimError('RequestLimitExceeded', 'Request limit exceeded.', 503);
      if (fired.error) {
        const status = fired.error.status ?? 500;
        throw new Ec2SimError(
          fired.error.code ?? (status === 503 ? 'Unavailable' : 'InternalError'),
          fired.error.message ?? (status === 503 ? 'The service is unavailable. Please try again shortly.' : 'An internal error has occurred'),
          status,
        );
      }
      const caught = holds.catch({ action, params });
      if (caught && !caught.afterHandling && !(await caught.wait(res))) return;
      model.advance();
      const answer = handler({ model, params, url, inject: { bootFailure: !!fired['boot-failure'] } });
      if (caught?.afterHandling && !(await caught.wait(res))) return;
      if (fired.drop) {
        req.socket.destroy();
        return;
      }
      res.status(200).type('text/xml;charset=UTF-8').send(successDocument(action, requestId, answer));
    } catch (err) {
      if (err instanceof Ec2SimError) fail(err);
      else fail(new Ec2SimError('InternalError', `An internal error has occurred: ${(err as Error).message}`, 500));
    }
  });

  const server: Server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  }).catch(async (err: unknown) => {
    await hostMode?.close();
    throw err;
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  url = `http://${host}:${addr.port}`;
  return {
    url,
    faults,
    hold: (rule) => holds.add(rule),
    hostMode,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await hostMode?.close();
    },
    inspect: {
      model,
      state: () => snapshot(model, counts),
      requests: () => ({ total: counts.total, byAction: { ...counts.byAction } }),
      resetCounters: () => {
        counts.total = 0;
        counts.byAction = {};
      },
    },
  };
}
