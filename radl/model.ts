/**
 * The RADL model with grycap/RADL's semantics (radl.py), so a document means here what it means to IM:
 * numeric features narrow an interval (`cpu.count >= 1 and cpu.count <= 4`), `contains` groups merge by
 * their `name`, `soft N (…)` groups are kept in order, other features are set once (a different second value
 * is a conflict), and aspects with the same id are an error.
 */
import { RadlError, type Loc } from './errors';
import { unitToValue } from './units';

export type Operator = '=' | '<=' | '>=' | '<' | '>' | 'contains';
/** A reference to another aspect (JSON RADL `{"class": "network", "id": …}` inside a feature). */
export interface AspectRef { refClass: string; id: string }
export type FeatureValue = number | boolean | string | string[] | Features | AspectRef;

export class Feature {
  constructor(
    readonly prop: string,
    readonly op: Operator,
    public value: FeatureValue,
    public unit = '',
    readonly loc: Loc = { line: 0, column: 0 },
  ) {}

  /** The value in base units (radl.Feature.getValue): `512m` → 512000000. */
  numeric(): number {
    const v = Number(this.value);
    if (!this.unit) return v;
    const r = v * unitToValue(this.unit);
    return Number.isInteger(v) ? Math.round(r) : r;
  }

  clone(): Feature {
    const v = this.value;
    const value = v instanceof Features ? v.clone() : Array.isArray(v) ? [...v] : v;
    return new Feature(this.prop, this.op, value, this.unit, this.loc);
  }
}

export function isNumeric(v: FeatureValue): v is number | boolean {
  return typeof v === 'number' || typeof v === 'boolean';
}

export type Prop =
  | { kind: 'interval'; min: Feature | null; max: Feature | null }
  | { kind: 'single'; f: Feature }
  | { kind: 'contains'; items: Map<string, Feature> }
  | { kind: 'soft'; list: SoftFeatures[] };

export type Conflict = 'error' | 'ignore' | 'me' | 'other';
export const SOFT = '__soft__';
const MIN = -(2 ** 63);

/** The key `contains` groups merge on: the group's `name` value (None when it has none, as in Python). */
function containsKey(v: FeatureValue): string {
  if (!(v instanceof Features)) return 'none';
  const name = v.getValue('name');
  if (name === undefined) return 'none';
  return typeof name === 'string' ? `s:${name}` : `n:${JSON.stringify(name)}`;
}

function describe(f: Feature | null): string {
  return f ? `${f.prop} ${f.op} ${String(f.value)}${f.unit}` : 'None';
}

export class Features {
  readonly props = new Map<string, Prop>();

  constructor(features: Iterable<Feature> = []) {
    for (const f of features) this.addFeature(f);
  }

  addFeature(f: Feature, conflict: Conflict = 'error'): void {
    const prev = this.props.get(f.prop);
    if (isNumeric(f.value) && f.op !== 'contains') {
      const next: [Feature | null, Feature | null] = f.op === '=' ? [f, f] : f.op[0] === '<' ? [null, f] : [f, null];
      const cur: [Feature | null, Feature | null] = prev?.kind === 'interval' ? [prev.min, prev.max] : [null, null];
      const res = applyInterval(cur, next, conflict);
      if (res === 'disjoint') {
        throw new RadlError('conflict', `Disjoint intervals!. Involved features: [${cur.map(describe).join(', ')}]`, '', f.loc.line, f.loc.column, [f.prop]);
      }
      if (res) this.props.set(f.prop, { kind: 'interval', min: res[0], max: res[1] });
      else this.props.delete(f.prop);
    } else if (f.prop === SOFT && f.value instanceof SoftFeatures) {
      if (prev?.kind === 'soft') prev.list.push(f.value);
      else this.props.set(f.prop, { kind: 'soft', list: [f.value] });
    } else if (f.op === 'contains') {
      if (isNumeric(f.value) || typeof f.value === 'string' || Array.isArray(f.value)) {
        throw new RadlError('invalid', `'contains' needs a group of features, not ${JSON.stringify(f.value)}`, '', f.loc.line, f.loc.column, [f.prop]);
      }
      const key = containsKey(f.value);
      const items = prev?.kind === 'contains' ? prev.items : new Map<string, Feature>();
      const old = items.get(key);
      if (old && old.value instanceof Features && f.value instanceof Features) {
        const merged = old.clone();
        for (const f0 of f.value.features()) (merged.value as Features).addFeature(f0, conflict);
        items.set(key, merged);
      } else {
        items.set(key, f);
      }
      this.props.set(f.prop, { kind: 'contains', items });
    } else {
      if (!prev || prev.kind !== 'single' || conflict === 'other') {
        this.props.set(f.prop, { kind: 'single', f });
      } else if (!sameValue(prev.f.value, f.value) && conflict === 'error') {
        throw new RadlError('conflict', `Conflict adding \`${describe(f)}\` because \`${describe(prev.f)}\` is already set`, '', f.loc.line, f.loc.column, [f.prop]);
      }
    }
  }

  /** Every feature in order (radl.Features.features): an `=` interval counts once. */
  features(): Feature[] {
    const r: Feature[] = [];
    for (const p of this.props.values()) {
      if (p.kind === 'interval') {
        if (p.min && p.max && p.min.numeric() === p.max.numeric() && p.min.op === '=' && p.max.op === '=') r.push(p.min);
        else for (const f of [p.min, p.max]) if (f) r.push(f);
      } else if (p.kind === 'single') r.push(p.f);
      else if (p.kind === 'contains') r.push(...p.items.values());
      else r.push(...p.list.map((s) => new Feature(SOFT, 'contains', s, '', s.loc)));
    }
    return r;
  }

  /** The feature's value (radl.Features.getValue): an interval gives its lower end, else its upper. */
  getValue(prop: string): FeatureValue | undefined {
    const p = this.props.get(prop);
    if (!p) return undefined;
    if (p.kind === 'single') return p.f.value;
    if (p.kind === 'interval') return (p.min ?? p.max)?.numeric();
    return undefined;
  }

  /** Like getValue, for string features only. */
  getString(prop: string): string | undefined {
    const v = this.getValue(prop);
    return typeof v === 'string' ? v : undefined;
  }

  /** Set a feature's current value, replacing any constraint (radl.Features.setValue). */
  setValue(prop: string, value: number | string, unit = ''): void {
    const f = new Feature(prop, '=', value, unit);
    this.props.set(prop, typeof value === 'number' ? { kind: 'interval', min: f, max: f } : { kind: 'single', f });
  }

  clone(): this {
    const c = Object.create(Object.getPrototypeOf(this) as object) as this;
    Object.assign(c, this);
    (c as { props: Map<string, Prop> }).props = new Map();
    for (const [k, p] of this.props) {
      if (p.kind === 'interval') c.props.set(k, { kind: 'interval', min: p.min?.clone() ?? null, max: p.max?.clone() ?? null });
      else if (p.kind === 'single') c.props.set(k, { kind: 'single', f: p.f.clone() });
      else if (p.kind === 'contains') c.props.set(k, { kind: 'contains', items: new Map([...p.items].map(([n, f]) => [n, f.clone()])) });
      else c.props.set(k, { kind: 'soft', list: p.list.map((s) => s.clone()) });
    }
    return c;
  }
}

function sameValue(a: FeatureValue, b: FeatureValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

type Interval = [Feature | null, Feature | null];

/** radl.Features._applyInter: the restriction of one interval by another, or 'disjoint'. */
function applyInterval(f0: Interval, f1: Interval, conflict: Conflict): Interval | null | 'disjoint' {
  const v = (f: Feature | null) => (f ? f.numeric() : MIN);
  const i0 = [v(f0[0]), v(f0[1])];
  const i1 = [v(f1[0]), v(f1[1])];
  const le00 = i0[0] <= i1[0];
  const le01 = i1[1] === MIN || i0[0] <= i1[1];
  const le11 = i1[1] === MIN || (i0[1] !== MIN && i0[1] <= i1[1]);
  const ge00 = !le00 || i0[0] === i1[0];
  const ge10 = i0[1] === MIN || i0[1] >= i1[0];
  if (le00 && ge10 && le11) return [f1[0], f0[1]];
  if (le00 && ge10 && !le11) return f1;
  if (ge00 && le01 && le11) return f0;
  if (ge00 && le01 && !le11) return [f0[0], f1[1]];
  if (conflict === 'me') return f0;
  if (conflict === 'other') return f1;
  if (conflict === 'error') return 'disjoint';
  return null;
}

export class SoftFeatures extends Features {
  constructor(readonly weight: number, features: Iterable<Feature>, readonly loc: Loc = { line: 0, column: 0 }) {
    super(features);
  }
}

/** network, system, ansible and description: a named group of features, or a bare reference. */
export class FeatureAspect extends Features {
  constructor(
    readonly cls: 'network' | 'system' | 'ansible' | 'description',
    readonly id: string,
    features: Iterable<Feature> = [],
    readonly reference = false,
    readonly loc: Loc = { line: 0, column: 0 },
  ) {
    super(features);
  }
}

export class Configure {
  constructor(readonly name: string, readonly recipes: string | null, readonly reference = false, readonly loc: Loc = { line: 0, column: 0 }) {}
}

export class Deploy {
  constructor(readonly system: string, readonly vmNumber: number, readonly cloud?: string, readonly loc: Loc = { line: 0, column: 0 }) {}
}

export interface ContextItem { system: string; configure: string; step: number; ctxtTool?: string; loc: Loc }

export class Contextualize {
  maxTime = 0;
  /** null: no `contextualize` at all (IM then runs every configure); empty: `contextualize ()` (runs none). */
  items: Map<string, ContextItem> | null = null;
  options: Map<string, Feature> | null = null;

  static of(items: ContextItem[], maxTime: number, options: Feature[]): Contextualize {
    const c = new Contextualize();
    c.maxTime = maxTime;
    c.items = new Map(items.map((i) => [`${i.system}\u0000${i.configure}`, i]));
    c.options = new Map(options.map((o) => [o.prop, o]));
    return c;
  }

  update(other: Contextualize): void {
    this.maxTime = Math.max(this.maxTime, other.maxTime);
    if (other.items) this.items = new Map([...(this.items ?? []), ...other.items]);
    if (other.options) this.options = new Map([...(this.options ?? []), ...other.options]);
  }
}

export type Aspect = FeatureAspect | Configure | Deploy | Contextualize;

export class Radl {
  readonly networks: FeatureAspect[] = [];
  readonly ansibleHosts: FeatureAspect[] = [];
  readonly systems: FeatureAspect[] = [];
  readonly configures: Configure[] = [];
  readonly deploys: Deploy[] = [];
  description: FeatureAspect | null = null;
  readonly contextualize = new Contextualize();

  /** radl.RADL.add with ifpresent="error": a second aspect with the same id is refused. */
  add(a: Aspect): void {
    if (a instanceof Contextualize) return this.contextualize.update(a);
    if (a instanceof Deploy) { this.deploys.push(a); return; }
    if (a instanceof FeatureAspect && a.cls === 'description') {
      if (this.description) throw new RadlError('duplicate', 'Description can only be defined once.', '', a.loc.line, a.loc.column);
      this.description = a;
      return;
    }
    const list: Array<FeatureAspect | Configure> = a instanceof Configure ? this.configures
      : a.cls === 'network' ? this.networks : a.cls === 'system' ? this.systems : this.ansibleHosts;
    const id = a instanceof Configure ? a.name : a.id;
    if (list.some((x) => (x instanceof Configure ? x.name : x.id) === id)) {
      throw new RadlError('duplicate', `Aspect with the same id was found: ${id}`, '', a.loc.line, a.loc.column, [id]);
    }
    (list as Array<typeof a>).push(a);
  }

  getSystem(name: string): FeatureAspect | undefined { return this.systems.find((s) => s.id === name); }
  getNetwork(id: string): FeatureAspect | undefined { return this.networks.find((n) => n.id === id); }
  getConfigure(name: string): Configure | undefined { return this.configures.find((c) => c.name === name); }
}
