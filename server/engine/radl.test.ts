import { systemFeatures, vmRadlJson, vmRadlText, infrastructureRadlText } from './radl';
import { parseRadl } from '../../radl';
import type { VmView } from './service';
import type { ComputePlan } from '../../tosca/plan';
import type { CloudCredential } from '../../connectors/types';
import { providerOf } from './context';
import { judgeTexts, oracleTest } from '../../test/radl/oracle';

const compute: ComputePlan = {
  name: 'front', type: 'tosca.nodes.Compute', count: 1, removalList: [], publicIp: true, networks: [], ports: [], software: [],
  host: { numCpus: 2, memSizeMB: 2048 }, os: { type: 'linux', distribution: 'ubuntu', version: '22.04', image: 'ost://h/img-1' },
};
const vm: VmView = {
  id: '0', infrastructureId: 'inf', nodeName: 'front', state: 'configured', cloudId: 'one', cloudType: 'Dummy', instanceId: 'dummy-1',
  privateIps: ['10.0.0.5'], publicIps: ['203.0.113.7'],
  credentials: { username: 'cloudadm', privateKey: "-----BEGIN KEY-----\nab'c\n-----END KEY-----\n" },
  system: systemFeatures(compute), contmsg: '',
};

test('text RADL of a VM: networks, interfaces with IPs, state, instance, provider, credentials', () => {
  const text = vmRadlText(vm);
  expect(text).toContain("network public ( outbound = 'yes' )");
  expect(text).toContain("network private ( outbound = 'no' )");
  expect(text).toMatch(/^system front \(\n/m);
  for (const line of [
    'cpu.count = 2', 'memory.size = 2048M', "disk.0.os.name = 'linux'", "disk.0.os.flavour = 'ubuntu'", "disk.0.os.version = '22.04'",
    "disk.0.image.url = 'ost://h/img-1'", "net_interface.0.connection = 'public'", "net_interface.0.ip = '203.0.113.7'",
    "net_interface.1.connection = 'private'", "net_interface.1.ip = '10.0.0.5'", "state = 'configured'", "instance_id = 'dummy-1'",
    "provider.type = 'Dummy'", "disk.0.os.credentials.username = 'cloudadm'",
  ]) expect(text).toContain(line);
  expect(text).toContain("disk.0.os.credentials.private_key = '-----BEGIN KEY-----\nab\\'c\n-----END KEY-----\n'");
  expect(text.trimEnd().endsWith(')')).toBe(true);
  expect(text.split(' and\n').length).toBeGreaterThan(10);
});

test('JSON RADL of a VM uses class/id and sizes in bytes', () => {
  const json = vmRadlJson(vm) as Array<Record<string, unknown>>;
  expect(json.slice(0, 2)).toEqual([{ class: 'network', id: 'public', outbound: 'yes' }, { class: 'network', id: 'private', outbound: 'no' }]);
  expect(json[2]).toMatchObject({
    class: 'system', id: 'front', 'cpu.count': 2, 'memory.size': 2048 * 1024 * 1024, 'net_interface.0.ip': '203.0.113.7',
    'net_interface.1.connection': 'private', state: 'configured', instance_id: 'dummy-1', 'provider.type': 'Dummy',
    'disk.0.os.credentials.username': 'cloudadm',
  });
});

test('a VM without a public IP is only on the private network; the infrastructure RADL lists every system once', async () => {
  const wn: VmView = { ...vm, id: '1', nodeName: 'wn', publicIps: [], privateIps: ['10.0.0.6'], instanceId: undefined, state: 'pending' };
  const json = vmRadlJson(wn) as Array<Record<string, unknown>>;
  expect(json.filter((x) => x.class === 'network')).toEqual([{ class: 'network', id: 'private', outbound: 'no' }]);
  expect(json[1]['net_interface.0.connection']).toBe('private');
  expect(json[1]).not.toHaveProperty('instance_id');
  const all = await infrastructureRadlText([vm, wn, { ...wn, id: '2' }]);
  expect(all.match(/^network /gm)).toHaveLength(2);
  // one block per system however many VMs it has: the reference refuses a second `system wn`
  expect(all.match(/^system wn \(/gm)).toHaveLength(1);
  expect(parseRadl(all).systems.map((s) => s.id)).toEqual(['front', 'wn']);
  expect(all).toMatch(/^system front \(/m);
  expect(all).toMatch(/^system wn \(/m);
});

test('a node name that is not a RADL identifier cannot forge a block: it is written as one', async () => {
  const evil: VmView = { ...vm, nodeName: "front (\ncpu.count = 64\n)\nsystem evil", state: 'configured', instanceId: "x' and state = 'failed" };
  const radl = parseRadl(vmRadlText(evil));
  expect(radl.systems.map((s) => s.id)).toEqual(['front___cpu.count___64___system_evil']);
  expect(radl.systems[0].getValue('instance_id')).toBe("x' and state = 'failed");
  expect(radl.systems[0].getValue('state')).toBe('configured');
  expect(radl.systems[0].getValue('cpu.count')).toBe(2);
  expect(parseRadl(await infrastructureRadlText([evil, vm])).systems).toHaveLength(2);
});

test('the infrastructure RADL built in slices is the text built in one go', async () => {
  const vms: VmView[] = Array.from({ length: 250 }, (_, i) => ({ ...vm, id: String(i), nodeName: i % 2 ? 'wn' : 'front', publicIps: i % 2 ? [] : vm.publicIps }));
  const whole = await infrastructureRadlText(vms, undefined, 1000);
  expect(await infrastructureRadlText(vms, undefined, 7)).toBe(whole);
  expect(await infrastructureRadlText(vms)).toBe(whole);
  expect(whole.match(/^system /gm)).toHaveLength(2); // one block per system (front, wn), as IM answers
});

describe("IM's instance_name and provider.host/port", () => {
  const ost: VmView = { ...vm, cloudType: 'OpenStack', instanceName: 'im-inf-front-0', provider: { host: 'keystone.example.org', port: 5000 } };

  test('VM info carries them in text and JSON', () => {
    const text = vmRadlText(ost);
    for (const line of ["instance_name = 'im-inf-front-0'", "provider.type = 'OpenStack'", "provider.host = 'keystone.example.org'", 'provider.port = 5000']) {
      expect(text).toContain(line);
    }
    expect(vmRadlJson(ost)[2]).toMatchObject({ instance_name: 'im-inf-front-0', 'provider.host': 'keystone.example.org', 'provider.port': 5000 });
    // absent where there is nothing to say (the Dummy VM above has no host and no name)
    expect(vmRadlText(vm)).not.toMatch(/instance_name|provider\.host|provider\.port/);
  });

  test("provider.host/port come from the credential's host as IM parses it", () => {
    const cred = (host?: string): CloudCredential => ({ id: 'c', type: 'OpenStack', fields: host === undefined ? {} : { host } });
    expect(providerOf(cred('https://keystone.example.org:5000/v3'))).toEqual({ host: 'keystone.example.org', port: 5000 });
    expect(providerOf(cred('http://127.0.0.1/identity'))).toEqual({ host: '127.0.0.1' });
    expect(providerOf(cred('ramses.i3m.upv.es:2633'))).toEqual({ host: 'ramses.i3m.upv.es', port: 2633 });
    expect(providerOf(cred())).toBeUndefined();
    expect(providerOf(cred('::bad url::'))).toBeUndefined();
    expect(providerOf(undefined)).toBeUndefined();
  });

  oracleTest('the answers with them parse with grycap/RADL', async () => {
    const texts = [vmRadlText(ost), JSON.stringify(vmRadlJson(ost)), await infrastructureRadlText([ost, { ...ost, id: '1' }])];
    expect(judgeTexts(texts).map((a) => (a.ok ? 'ok' : a.error))).toEqual(['ok', 'ok', 'ok']);
  });
});
