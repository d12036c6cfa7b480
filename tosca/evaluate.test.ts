import { evaluateValue } from './evaluate';
import type { AttributeRef, PlanValue } from './plan';

describe('evaluateValue', () => {
  const attrs: Record<string, unknown> = { 'front.public_address': ['1.2.3.4', '5.6.7.8'], 'front.private_address': '10.0.0.1' };
  const lookup = (r: AttributeRef) => attrs[`${r.node}.${r.path.join('.')}`];

  test('IM list index picks the item of a list attribute', () => {
    expect(evaluateValue({ $ref: 'get_attribute', node: 'front', path: ['public_address'], index: 1 }, lookup)).toBe('5.6.7.8');
  });

  test('deferred concat, join and token are computed once references are known', () => {
    const ip: PlanValue = { $ref: 'get_attribute', node: 'front', path: ['public_address'], index: 0 };
    expect(evaluateValue({ $ref: 'concat', args: ['http://', ip, ':8080'] }, lookup)).toBe('http://1.2.3.4:8080');
    expect(evaluateValue({ $ref: 'join', args: [[ip, 'x'], ','] }, lookup)).toBe('1.2.3.4,x');
    expect(evaluateValue({ $ref: 'token', args: [ip, '.', 3] }, lookup)).toBe('4');
  });

  test('references inside maps and lists; plain values pass through', () => {
    expect(evaluateValue({ a: [{ $ref: 'get_attribute', node: 'front', path: ['private_address'] }], b: 1 }, lookup)).toEqual({ a: ['10.0.0.1'], b: 1 });
  });

  test('operation outputs go to their own lookup', () => {
    const v = evaluateValue({ $ref: 'get_operation_output', node: 'a', interface: 'Standard', operation: 'create', output: 'o' }, lookup, (r) => `${r.node}/${r.output}`);
    expect(v).toBe('a/o');
  });
});
