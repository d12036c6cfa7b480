/**
 * A TOSCA input as a form field, and the server's check of a submitted value: the same rules the
 * page enforces with HTML attributes (required, min/max, pattern, choices), applied again here.
 */
export interface Field {
  name: string;
  type: string;
  label: string;
  description?: string;
  default?: unknown;
  required: boolean;
  choices?: string[];
  min?: number;
  max?: number;
  /** Exclusive bounds (greater_than / less_than). */
  minExclusive?: boolean;
  maxExclusive?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  /** Rendered as a password box (tab option tag_type: password, or a name that says secret). */
  secret?: boolean;
  /** The field is used only when this boolean field is on (tab option enabled_by). */
  enabledBy?: string;
}

export class FieldError extends Error {}


export function fieldFromInput(name: string, input: Record<string, unknown>, tabOptions: Record<string, unknown> = {}): Field {
  const f: Field = {
    name,
    type: String(input.type ?? 'string'),
    label: name.replace(/_/g, ' '),
    description: typeof input.description === 'string' ? input.description : undefined,
    default: input.default,
    required: input.required !== false && input.default === undefined,
  };
  for (const c of (Array.isArray(input.constraints) ? input.constraints : []) as Record<string, unknown>[]) {
    if (!c || typeof c !== 'object') continue;
    if (Array.isArray(c.valid_values)) f.choices = c.valid_values.map(String);
    if (Array.isArray(c.in_range)) [f.min, f.max] = c.in_range.map(Number);
    if (c.greater_or_equal !== undefined) f.min = Number(c.greater_or_equal);
    if (c.less_or_equal !== undefined) f.max = Number(c.less_or_equal);
    if (c.greater_than !== undefined) { f.min = Number(c.greater_than); f.minExclusive = true; }
    if (c.less_than !== undefined) { f.max = Number(c.less_than); f.maxExclusive = true; }
    if (c.min_length !== undefined) f.minLength = Number(c.min_length);
    if (c.max_length !== undefined) f.maxLength = Number(c.max_length);
    if (c.length !== undefined) f.minLength = f.maxLength = Number(c.length);
    if (c.pattern !== undefined) f.pattern = String(c.pattern);
    if (c.equal !== undefined) f.choices = [String(c.equal)];
  }
  if (typeof tabOptions.pattern === 'string') f.pattern = tabOptions.pattern;
  if (typeof tabOptions.enabled_by === 'string') f.enabledBy = tabOptions.enabled_by;
  f.secret = tabOptions.tag_type === 'password' || /(password|secret|token)$/i.test(name);
  return f;
}

/** The value as TOSCA wants it, or a FieldError naming the field and the rule. */
export function checkValue(f: Field, raw: string | undefined): unknown {
  const text = (raw ?? '').trim();
  if (f.type === 'boolean') return text === 'true' || text === 'on';
  if (text === '') {
    if (f.required) throw new FieldError(`${f.label}: a value is required`);
    return f.default;
  }
  if (f.choices && !f.choices.includes(text)) throw new FieldError(`${f.label}: choose one of ${f.choices.join(', ')}`);
  if (f.type === 'integer' && !/^-?\d+$/.test(text)) throw new FieldError(`${f.label}: a whole number is required`);
  if (f.type === 'float' && !Number.isFinite(Number(text))) throw new FieldError(`${f.label}: a number is required`);
  if (f.type === 'integer' || f.type === 'float') {
    const n = Number(text);
    if (f.min !== undefined && (f.minExclusive ? n <= f.min : n < f.min)) throw new FieldError(`${f.label}: must be ${f.minExclusive ? 'more than' : 'at least'} ${f.min}`);
    if (f.max !== undefined && (f.maxExclusive ? n >= f.max : n > f.max)) throw new FieldError(`${f.label}: must be ${f.maxExclusive ? 'less than' : 'at most'} ${f.max}`);
    return n;
  }
  if (f.minLength !== undefined && text.length < f.minLength) throw new FieldError(`${f.label}: at least ${f.minLength} characters`);
  if (f.maxLength !== undefined && text.length > f.maxLength) throw new FieldError(`${f.label}: at most ${f.maxLength} characters`);
  if (f.pattern !== undefined && !safeFullMatch(f.pattern, text)) throw new FieldError(`${f.label}: does not match the pattern ${f.pattern}`);
  return text;
}

/** Patterns come from the operator's templates; a bad one is reported, not thrown at the person. */
function safeFullMatch(pattern: string, text: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`).test(text);
  } catch {
    return true;
  }
}

/** Every field's checked value; all problems at once, so the page can show them together. */
export function checkValues(fields: Field[], form: URLSearchParams): { values: Record<string, unknown>; errors: string[] } {
  const values: Record<string, unknown> = {};
  const errors: string[] = [];
  const on = (name: string) => form.get(name) === 'true' || form.get(name) === 'on';
  for (const f of fields) {
    if (f.enabledBy && !on(f.enabledBy)) continue;
    try {
      values[f.name] = checkValue(f, form.get(f.name) ?? undefined);
    } catch (err) {
      if (err instanceof FieldError) errors.push(err.message);
      else throw err;
    }
  }
  return { values, errors };
}
