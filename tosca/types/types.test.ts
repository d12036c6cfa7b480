import { checkConstraints } from './constraints';
import { parseScalar, sizeIn } from './scalar';

describe('scalar units', () => {
  test('sizes in base units, case-insensitive, with or without space', () => {
    expect(parseScalar('1 GB', 'size')).toBe(1e9);
    expect(parseScalar('2GiB', 'size')).toBe(2 * 1024 ** 3);
    expect(parseScalar('512 mb', 'size')).toBe(512e6);
    expect(parseScalar('1 parsec', 'size')).toBeUndefined();
    expect(parseScalar('10 ms', 'time')).toBeCloseTo(0.01);
    expect(parseScalar('2.4 GHz', 'frequency')).toBeCloseTo(2.4e9);
  });

  test('conversion to plan units (MB for memory, GB for disk)', () => {
    expect(sizeIn('1 GB', 'MB')).toBe(1024); // IM reads size units as binary
    expect(sizeIn('4 GiB', 'MB')).toBe(4096);
    expect(sizeIn('1500 MB', 'GB')).toBe(2);
    expect(sizeIn('20 GB', 'GB')).toBe(20);
    expect(sizeIn('1 TB', 'GB')).toBe(1024);
    expect(sizeIn(2048, 'MB', 'MB')).toBe(2048); // bare numbers in the wanted unit
  });
});

describe('constraints', () => {
  const id = (v: unknown) => v;
  const size = (v: unknown) => parseScalar(v, 'size') ?? v;
  test.each([
    [{ equal: 3 }, 3, true], [{ equal: 3 }, 4, false],
    [{ greater_than: 3 }, 4, true], [{ greater_than: 3 }, 3, false],
    [{ greater_or_equal: 3 }, 3, true], [{ less_than: 3 }, 3, false],
    [{ less_or_equal: 3 }, 3, true], [{ in_range: [1, 5] }, 6, false],
    [{ in_range: [1, 'UNBOUNDED'] }, 600, true], [{ valid_values: ['a', 'b'] }, 'c', false],
    [{ length: 2 }, 'ab', true], [{ min_length: 2 }, [1], false], [{ max_length: 1 }, { a: 1, b: 2 }, false],
    [{ pattern: '[a-z]+' }, 'abc', true], [{ pattern: '[a-z]+' }, 'abc1', false],
  ])('%j on %j → %s', (c, v, ok) => {
    expect(checkConstraints(v, [c], id) === undefined).toBe(ok);
  });
  test('scalar constraints compare in base units', () => {
    expect(checkConstraints('1 GB', [{ greater_or_equal: '512 MB' }], size)).toBeUndefined();
    expect(checkConstraints('1 MB', [{ greater_or_equal: '1 GB' }], size)).toMatch(/greater_or_equal/);
  });
});
