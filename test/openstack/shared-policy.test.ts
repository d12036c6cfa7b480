/** Pure decisions shared with the EC2 connector: public-IP policy, sizes, names, options. */
import fc from 'fast-check';
import { choosePool, mayRelease, pickReusableAddress, wantsPublicIp } from '../../connectors/shared/floating-ip-policy';
import { chooseSize, type VmSize } from '../../connectors/shared/sizing';
import { infrastructurePrefix, ownerMarker, vmName } from '../../connectors/shared/naming';
import { parseBoolOption } from '../../connectors/shared/options';
import { KeyedSerial, allSettledOrThrow } from '../../lib/async';

describe('floating IP policy', () => {
  const inf = 'inf-1';
  it('only nodes that ask get a public IP', () => {
    expect(wantsPublicIp({ publicIp: false })).toBe(false);
    expect(wantsPublicIp({ publicIp: true })).toBe(true);
  });

  it('reuses a free address, ours first, never an attached one', () => {
    const addrs = [
      { id: 'a', address: '172.24.4.20', attachedTo: 'port-x', owner: ownerMarker(inf) },
      { id: 'b', address: '172.24.4.11', attachedTo: null, owner: 'someone' },
      { id: 'c', address: '172.24.4.30', attachedTo: null, owner: ownerMarker(inf) },
    ];
    expect(pickReusableAddress(addrs, inf)?.id).toBe('c');
    expect(pickReusableAddress(addrs, inf, new Set(['c']))?.id).toBe('b');
    expect(pickReusableAddress(addrs, inf, new Set(['b', 'c']))).toBeUndefined();
  });

  it('never picks an attached address (property)', () => {
    fc.assert(fc.property(fc.array(fc.record({ id: fc.uuid(), address: fc.ipV4(), attachedTo: fc.option(fc.string(), { nil: null }), owner: fc.option(fc.constantFrom(ownerMarker(inf), 'x'), { nil: null }) })), (addrs) => {
      const pick = pickReusableAddress(addrs, inf);
      return pick === undefined ? addrs.every((a) => a.attachedTo) : !pick.attachedTo;
    }));
  });

  it('releases only on request, only ours, never while attached elsewhere', () => {
    const ours = { id: '1', address: '1.1.1.1', owner: ownerMarker(inf) };
    expect(mayRelease(ours, inf, false)).toBe(false);
    expect(mayRelease(ours, inf, true)).toBe(true);
    expect(mayRelease({ ...ours, owner: ownerMarker('other') }, inf, true)).toBe(false);
    expect(mayRelease({ ...ours, owner: null }, inf, true)).toBe(false);
    expect(mayRelease({ ...ours, attachedTo: 'p' }, inf, true)).toBe(false);
    expect(mayRelease({ ...ours, attachedTo: 'p' }, inf, true, true)).toBe(true);
  });

  it('pool: template, else credential, else the only external network, else clear errors', () => {
    const one = [{ id: 'n1', name: 'public' }];
    const two = [...one, { id: 'n2', name: 'public2' }];
    expect(choosePool(two, { template: 'public2', credential: 'public' }, 'c').id).toBe('n2');
    expect(choosePool(two, { credential: 'n1' }, 'c').id).toBe('n1');
    expect(choosePool(one, {}, 'c').id).toBe('n1');
    expect(() => choosePool(two, {}, 'c')).toThrow(/several external networks \(public, public2\)/);
    expect(() => choosePool([], {}, 'c')).toThrow(/no external network/);
    expect(() => choosePool(one, { template: 'x' }, 'c')).toThrow(/"x" asked by the template is not an external network of c \(external networks: public\)/);
  });
});

describe('sizes', () => {
  const sizes: VmSize[] = [
    { id: '1', name: 'small', cpus: 1, memoryMB: 1024, diskGB: 10, gpus: 0 },
    { id: '2', name: 'big', cpus: 4, memoryMB: 8192, diskGB: 0, gpus: 0 },
    { id: '3', name: 'gpu', cpus: 4, memoryMB: 8192, diskGB: 50, gpus: 1, gpuLabel: 'nvidia-t4' },
  ];
  it('smallest that fits, GPU sizes only for GPU wishes', () => {
    expect(chooseSize(sizes, {}, 'c').name).toBe('small');
    expect(chooseSize(sizes, { numCpus: 2 }, 'c').name).toBe('big');
    expect(chooseSize(sizes, { numCpus: 2, diskSizeGB: 20 }, 'c').name).toBe('gpu'); // disk 0 does not satisfy a disk wish
    expect(chooseSize(sizes, { numGpus: 1, gpuVendor: 'nvidia' }, 'c').name).toBe('gpu');
    expect(() => chooseSize(sizes, { numGpus: 1, gpuVendor: 'amd' }, 'c')).toThrow(/No instance type in c satisfies 1 GPUs \(amd\)/);
    expect(chooseSize(sizes, { instanceType: 'big', numCpus: 64 }, 'c').name).toBe('big');
  });
  it('the choice always satisfies the wish (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 9000 }), (cpus, mem) => {
      try {
        const s = chooseSize(sizes, { numCpus: cpus, memSizeMB: mem }, 'c');
        return s.cpus >= cpus && s.memoryMB >= mem && s.gpus === 0;
      } catch {
        return cpus > 4 || mem > 8192;
      }
    }));
  });
});

describe('names and options', () => {
  it('VM names start with the infrastructure prefix and stay cloud-safe', () => {
    expect(vmName('abc', 'front end', '0')).toBe('im-abc-front-end-0');
    expect(vmName('abc', 'x', '1').startsWith(`${infrastructurePrefix('abc')}-`)).toBe(true);
  });
  it('IM booleans', () => {
    expect(parseBoolOption('Yes', 'x')).toBe(true);
    expect(parseBoolOption('0', 'x')).toBe(false);
    expect(parseBoolOption(undefined, 'x', true)).toBe(true);
    expect(() => parseBoolOption('perhaps', 'opt')).toThrow(/Invalid value "perhaps" for opt/);
  });
  it('allSettledOrThrow waits for every promise before rejecting', async () => {
    let slowDone = false;
    const slow = new Promise<number>((r) => setTimeout(() => ((slowDone = true), r(1)), 30));
    await expect(allSettledOrThrow([Promise.reject(new Error('boom')), slow] as const)).rejects.toThrow('boom');
    expect(slowDone).toBe(true);
  });
  it('KeyedSerial serialises per key', async () => {
    const m = new KeyedSerial();
    const order: string[] = [];
    const job = (k: string, tag: string, ms: number) => m.run(k, async () => { order.push(`${tag}+`); await new Promise((r) => setTimeout(r, ms)); order.push(`${tag}-`); });
    await Promise.all([job('a', '1', 20), job('a', '2', 1), job('b', '3', 1)]);
    expect(order.indexOf('2+')).toBeGreaterThan(order.indexOf('1-'));
    expect(order.indexOf('3+')).toBeLessThan(order.indexOf('1-'));
  });
});
