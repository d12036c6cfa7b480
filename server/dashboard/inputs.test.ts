import { checkValue, checkValues, fieldFromInput, FieldError } from './inputs';
import { formTabs, withInputValues } from './catalogue';
import { parse } from 'yaml';

describe('a TOSCA input as a field, checked on the server', () => {
  it('reads valid_values, in_range, exclusive bounds, lengths and pattern', () => {
    expect(fieldFromInput('n', { type: 'integer', constraints: [{ in_range: [1, 16] }] })).toMatchObject({ min: 1, max: 16, required: true });
    expect(fieldFromInput('s', { type: 'string', default: 'a', constraints: [{ valid_values: ['a', 'b'] }] })).toMatchObject({ choices: ['a', 'b'], required: false });
    const f = fieldFromInput('x', { type: 'float', constraints: [{ greater_than: 0 }, { less_than: 1 }] });
    expect(() => checkValue(f, '0')).toThrow('must be more than 0');
    expect(() => checkValue(f, '1')).toThrow('must be less than 1');
    expect(checkValue(f, '0.5')).toBe(0.5);
    const p = fieldFromInput('path', { type: 'string', constraints: [{ pattern: '/[a-z]+' }, { max_length: 5 }] });
    expect(() => checkValue(p, 'abc')).toThrow(FieldError);
    expect(() => checkValue(p, '/abcdef')).toThrow('at most 5 characters');
    expect(checkValue(p, '/abc')).toBe('/abc');
  });

  it('keeps the default for an empty optional value, refuses an empty required one, reads booleans', () => {
    expect(checkValue(fieldFromInput('a', { type: 'integer', default: 3 }), '')).toBe(3);
    expect(() => checkValue(fieldFromInput('a', { type: 'integer' }), ' ')).toThrow('a value is required');
    expect(() => checkValue(fieldFromInput('a', { type: 'integer' }), '1.5')).toThrow('whole number');
    expect(checkValue(fieldFromInput('b', { type: 'boolean', default: true }), undefined)).toBe(false);
    expect(checkValue(fieldFromInput('b', { type: 'boolean' }), 'true')).toBe(true);
  });

  it('skips a field whose enabled_by switch is off, and reports every problem at once', () => {
    const fields = [fieldFromInput('on', { type: 'boolean' }), fieldFromInput('email', { type: 'string' }, { enabled_by: 'on' }), fieldFromInput('n', { type: 'integer' })];
    expect(checkValues(fields, new URLSearchParams('n=x'))).toEqual({ values: { on: false }, errors: ['n: a whole number is required'] });
    expect(checkValues(fields, new URLSearchParams('on=true&n=2')).errors).toEqual(['email: a value is required']);
  });
});

describe('the form of a template', () => {
  const doc = parse(`
tosca_definitions_version: tosca_simple_yaml_1_0
metadata:
  tabs:
    FE: fe_.*
    Data:
      - token
      - cidr: { pattern: '[0-9.]+/[0-9]+' }
topology_template:
  inputs:
    fe_cpus: { type: integer, default: 1 }
    fe_mem: { type: string, default: 1 GB }
    token: { type: string }
    cidr: { type: string, default: 0.0.0.0/0 }
    other: { type: string, default: x }
`);

  it('groups inputs by metadata.tabs (regular expression or list with options), the rest under Other', () => {
    const tabs = formTabs(doc);
    expect(tabs.map((t) => [t.name, t.fields.map((f) => f.name)])).toEqual([['FE', ['fe_cpus', 'fe_mem']], ['Data', ['token', 'cidr']], ['Other', ['other']]]);
    expect(tabs[1].fields[0].secret).toBe(true);
    expect(tabs[1].fields[1].pattern).toBe('[0-9.]+/[0-9]+');
  });

  it('launches with each input default set to the value given', () => {
    const text = withInputValues(doc, { fe_cpus: 4, token: 't' });
    const out = parse(text);
    expect(out.topology_template.inputs.fe_cpus.default).toBe(4);
    expect(out.topology_template.inputs.token.default).toBe('t');
    expect(out.topology_template.inputs.other.default).toBe('x');
  });
});
