/**
 * The EC2 Query protocol's flat, 1-based dotted parameters (`InstanceId.1`, `Filter.2.Value.1`,
 * `TagSpecification.1.Tag.3.Key`) read back into lists and structures.
 */
import { missing } from './errors';

export interface Filter {
  name: string;
  values: string[];
}
export interface Tag {
  key: string;
  value: string;
}

export class Params {
  constructor(private readonly map: Map<string, string>) {}

  static fromForm(text: string): Params {
    return new Params(new Map(new URLSearchParams(text)));
  }

  get(name: string): string | undefined {
    return this.map.get(name);
  }

  required(name: string): string {
    const v = this.map.get(name);
    if (v === undefined || v === '') throw missing(name);
    return v;
  }

  int(name: string, fallback: number): number {
    const v = this.map.get(name);
    return v === undefined ? fallback : Number.parseInt(v, 10);
  }

  bool(name: string): boolean {
    return this.map.get(name)?.toLowerCase() === 'true';
  }

  /** `Prefix.N` values in index order. */
  list(prefix: string): string[] {
    const found: [number, string][] = [];
    for (const [k, v] of this.map) {
      const m = k.startsWith(prefix + '.') ? /^(\d+)$/.exec(k.slice(prefix.length + 1)) : null;
      if (m) found.push([Number(m[1]), v]);
    }
    return found.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  }

  /** `Prefix.N.Rest` grouped by N, each group a Params over `Rest`. */
  structs(prefix: string): Params[] {
    const groups = new Map<number, Map<string, string>>();
    for (const [k, v] of this.map) {
      const m = k.startsWith(prefix + '.') ? /^(\d+)\.(.+)$/.exec(k.slice(prefix.length + 1)) : null;
      if (!m) continue;
      const n = Number(m[1]);
      if (!groups.has(n)) groups.set(n, new Map());
      groups.get(n)!.set(m[2], v);
    }
    return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => new Params(g));
  }

  filters(): Filter[] {
    return this.structs('Filter').map((f) => ({ name: f.required('Name'), values: f.list('Value') }));
  }

  tags(prefix = 'Tag'): Tag[] {
    return this.structs(prefix).map((t) => ({ key: t.required('Key'), value: t.get('Value') ?? '' }));
  }

  /** Tags from `TagSpecification.N` for one resource type (others are accepted and ignored). */
  tagSpecs(resourceType: string): Tag[] {
    return this.structs('TagSpecification')
      .filter((s) => s.get('ResourceType') === resourceType)
      .flatMap((s) => s.tags());
  }

  entries(): [string, string][] {
    return [...this.map];
  }
}
