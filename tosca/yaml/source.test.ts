import { ToscaError } from '../errors';
import { parseYaml } from './source';

describe('parseYaml', () => {
  test('reads YAML 1.1 like PyYAML: yes/no/on/off booleans, timestamps and versions as written', () => {
    const f = parseYaml('a: yes\nb: Off\nc: 2001-12-14\nd: 7.10\ne: "no"\n', 'x.yaml');
    expect(f.value).toEqual({ a: true, b: false, c: '2001-12-14', d: 7.1, e: 'no' });
    expect(f.numberText(7.1)).toBe('7.10');
    expect(f.numberText(3.5)).toBe('3.5');
  });

  test('locates paths lazily: the key of a map entry, the item of a list', () => {
    const f = parseYaml('top:\n  list:\n    - a\n    - { b: 1 }\n', 'x.yaml');
    expect(f.locate(['top', 'list', 1, 'b'])).toEqual({ line: 4, column: 9 });
    expect(f.locate(['top', 'missing', 'deeper'])).toEqual({ line: 1, column: 1 });
    const e = f.error('invalid', 'bad', ['top', 'list', 0]);
    expect(e).toBeInstanceOf(ToscaError);
    expect(e.message).toBe('x.yaml:3:7 top.list.0: bad');
  });

  test('duplicate keys: an error by default, the last one wins when asked', () => {
    expect(() => parseYaml('a: 1\nb:\n  c: 1\n  c: 2\n', 'd.yaml')).toThrow(/^d\.yaml:4:3 b\.c: duplicate key/);
    expect(parseYaml('a: 1\na: 2\n', 'd.yaml', undefined, true).value).toEqual({ a: 2 });
  });

  test('syntax errors carry the position and the path reached', () => {
    try {
      parseYaml('a:\n  b: [1, 2\n  c: 3\n', 's.yaml');
      throw new Error('should not parse');
    } catch (e) {
      expect(e).toBeInstanceOf(ToscaError);
      const t = e as ToscaError;
      expect(t.code).toBe('yaml-syntax');
      expect(t.line).toBeGreaterThanOrEqual(2);
      expect(t.path[0]).toBe('a');
    }
  });

  test('merge keys and anchors', () => {
    const f = parseYaml('base: &b { x: 1 }\nother:\n  <<: *b\n  y: 2\n', 'm.yaml');
    expect(f.value).toEqual({ base: { x: 1 }, other: { x: 1, y: 2 } });
  });

  test('a big text is located by a linear scan, without the slow syntax tree', () => {
    const pad = `pad: "${'p'.repeat(100_000)}"\n`;
    const f = parseYaml(`${pad}top:\n  list:\n    - a\n  other:\n    key: 1\n`, 'x.yaml');
    const t = performance.now();
    expect(f.locate(['top', 'other', 'key'])).toEqual({ line: 6, column: 5 });
    expect(performance.now() - t).toBeLessThan(50);
  });

  test('aliases are bounded by the bytes they expand to, not only by nodes', () => {
    const text = `big: &a "${'x'.repeat(100_000)}"\ncopies:\n${'  - *a\n'.repeat(200)}`;
    expect(() => parseYaml(text, 'x.yaml')).toThrow(/too large once aliases are expanded \(over 8388608 bytes/);
    expect(parseYaml(`a: &a "${'x'.repeat(1000)}"\nb: *a\n`, 'x.yaml').value).toEqual({ a: 'x'.repeat(1000), b: 'x'.repeat(1000) });
  });
});
