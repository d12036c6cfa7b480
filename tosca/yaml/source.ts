/**
 * A parsed YAML file: its plain value, read with js-yaml (fast), and — only when an error needs a
 * line:column — a syntax tree from the `yaml` package (slow, but exact), built lazily. The happy path
 * never pays for locations.
 */
import { createHash } from 'crypto';
import * as jsyaml from 'js-yaml';
import { Document, isAlias, isMap, isScalar, isSeq, LineCounter, Node, parseDocument, Scalar } from 'yaml';
import { ToscaError, ToscaErrorCode } from '../errors';
import { isRecord } from '../util';

export type YamlPath = ReadonlyArray<string | number>;

export class SourceFile {
  private hashCache?: string;
  private tree?: { doc: Document; lines: LineCounter };
  constructor(
    /** Name used in error messages (file name or URL). */
    readonly name: string,
    readonly text: string,
    /** Plain JS value of the document (maps are objects, timestamps stay strings). */
    readonly value: unknown,
    /** Where relative imports and artifacts of this file are resolved from (a directory or a URL). */
    readonly base?: string,
    private readonly floats?: Map<number, string>,
  ) {}

  /** A float as written in this file ("7.10" rather than 7.1); cheap, no syntax tree needed. */
  numberText(v: number): string {
    return this.floats?.get(v) ?? String(v);
  }

  private get doc(): Document {
    return this.syntax().doc;
  }

  private get lines(): LineCounter {
    return this.syntax().lines;
  }

  /** The `yaml` syntax tree with positions, parsed on first use (duplicate keys tolerated here). */
  syntax(): { doc: Document; lines: LineCounter } {
    if (!this.tree) {
      const lines = new LineCounter();
      const doc = parseDocument(this.text, { lineCounter: lines, version: '1.1', uniqueKeys: false, merge: true, prettyErrors: false });
      this.tree = { doc, lines };
    }
    return this.tree;
  }

  get hash(): string {
    return (this.hashCache ??= createHash('sha1').update(this.text).digest('hex'));
  }

  /** Line and column of the deepest node on `path` (the key of a map entry when the path ends on one). */
  locate(path: YamlPath): { line: number; column: number } {
    if (this.text.length > EXACT_LOCATE_MAX) return approximateLocation(this.text, path);
    let node: unknown = this.doc?.contents;
    let offset = -1;
    for (const seg of path) {
      if (isAlias(node) && this.doc) node = node.resolve(this.doc);
      if (isMap(node)) {
        // by the key as written too: this tree reads `n`/`y` keys as YAML 1.1 booleans, js-yaml (and the path) as text
        const pair = node.items.find((p) => isScalar(p.key) && (String(p.key.value) === String(seg) || p.key.source === String(seg)));
        if (!pair) break;
        const key = pair.key as Scalar;
        offset = key.range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        node = node.items[seg];
        const r = (node as Node | null)?.range;
        if (r) offset = r[0];
      } else break;
    }
    if (offset < 0) {
      const r = (this.doc?.contents as Node | null)?.range;
      offset = r ? r[0] : 0;
    }
    const pos = this.lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  }

  error(code: ToscaErrorCode, detail: string, path: YamlPath): ToscaError {
    const { line, column } = this.locate(path);
    return new ToscaError(code, detail, this.name, line, column, path);
  }

  /** The path of the innermost map key / sequence item whose range contains `offset`. */
  pathAt(offset: number): (string | number)[] {
    const path: (string | number)[] = [];
    if (this.text.length > EXACT_LOCATE_MAX) return path;
    let node: unknown = this.doc?.contents;
    for (;;) {
      if (isMap(node)) {
        const pair = node.items.find((p) => {
          const k = p.key as Node | null;
          const v = p.value as Node | null;
          const start = k?.range?.[0] ?? v?.range?.[0];
          const end = v?.range?.[2] ?? k?.range?.[2];
          return start !== undefined && end !== undefined && start <= offset && offset <= end;
        });
        if (!pair || !isScalar(pair.key)) return path;
        path.push(String(pair.key.value));
        node = pair.value;
      } else if (isSeq(node)) {
        const i = node.items.findIndex((n) => {
          const r = (n as Node | null)?.range;
          return !!r && r[0] <= offset && offset <= r[2];
        });
        if (i < 0) return path;
        path.push(i);
        node = node.items[i];
      } else return path;
    }
  }
}

/** PyYAML's YAML 1.1 booleans (yes/no/on/off too); timestamps are left as strings for TOSCA to read. */
const bool11 = new jsyaml.Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (d: string) => /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/.test(d),
  construct: (d: string) => /^(?:yes|true|on)$/i.test(d),
  predicate: (v: unknown) => typeof v === 'boolean',
});
const T = (jsyaml as unknown as { types: Record<string, jsyaml.Type> }).types;

/** Floats whose text is not what String(n) prints ("7.10", "1e3"), recorded by the load in progress. */
let floatTexts: Map<number, string> | undefined;
const floatKeepingText = new jsyaml.Type('tag:yaml.org,2002:float', {
  kind: 'scalar',
  resolve: (d: string) => T.float.resolve!(d),
  construct: (d: string) => {
    const v = T.float.construct!(d) as number;
    if (floatTexts && String(v) !== d) floatTexts.set(v, d);
    return v;
  },
  predicate: T.float.predicate ?? undefined,
  represent: T.float.represent ?? undefined,
  defaultStyle: T.float.defaultStyle ?? undefined,
});
const SCHEMA = jsyaml.FAILSAFE_SCHEMA.extend({ implicit: [T.null, bool11, T.int, floatKeepingText, T.merge], explicit: [] });

/**
 * Parse YAML the way PyYAML (YAML 1.1) reads TOSCA files. Duplicate keys are errors unless `lastKeyWins`
 * (PyYAML's silent behaviour, needed for the published INDIGO type files that contain some).
 */
export function parseYaml(text: string, name: string, base?: string, lastKeyWins = false): SourceFile {
  refuseManyAliases(text, name);
  let value: unknown;
  const floats = new Map<number, string>();
  floatTexts = floats;
  try {
    value = jsyaml.load(text, { schema: SCHEMA, json: lastKeyWins, filename: name });
  } catch (e) {
    if (e instanceof RangeError) throw tooDeep(name); // the parser's own stack overflowed
    throw locatedSyntaxError(text, name, base, e, lastKeyWins);
  } finally {
    floatTexts = undefined;
  }
  // without aliases js-yaml's output is already plain data (no Date: the schema has no timestamp type)
  if (!ALIAS_RE.test(text)) return new SourceFile(name, text, checkDepth(value ?? null, name), base, floats);
  const maxBytes = Math.max(MAX_EXPANDED_BYTES, 2 * text.length);
  const budget = { left: MAX_EXPANDED_NODES, bytes: maxBytes };
  const plain = normalise(value, budget);
  if (budget.left < 0 || budget.bytes < 0) {
    // aliases can make a small file expand exponentially ("billion laughs"), or one big string repeat
    // 10,000 times: refuse before anyone walks, stores or re-serialises it
    throw new ToscaError('yaml-syntax', budget.left < 0
      ? `YAML document too large once aliases are expanded (over ${MAX_EXPANDED_NODES} nodes)`
      : `YAML document too large once aliases are expanded (over ${maxBytes} bytes of text)`, name, 1, 1, []);
  }
  return new SourceFile(name, text, checkDepth(plain, name), base, floats);
}

/**
 * Far deeper than any template needs; what is deeper parses, but the recursive walks after it
 * (evaluation, re-serialising the template for GET /tosca) overflow the stack at ~1,000 levels.
 */
const MAX_DEPTH = 100;

function tooDeep(name: string): ToscaError {
  return new ToscaError('yaml-syntax', `YAML nesting too deep (over ${MAX_DEPTH} levels)`, name, 1, 1, []);
}

/** The value, if no path in it is deeper than MAX_DEPTH (walked without recursion). */
function checkDepth(value: unknown, name: string): unknown {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_DEPTH) throw tooDeep(name);
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return value;
}

const MAX_EXPANDED_NODES = 1_000_000;
/** Text (keys and strings) a document may hold once its aliases are expanded: 8 MB, or twice its own size. */
const MAX_EXPANDED_BYTES = 8 * 1024 * 1024;
/** Something that may be an alias (`*name` after a separator); a false positive only costs a walk. */
const ALIAS_RE = /(?:^|[\s,[{:-])\*[^\s,\]}]/m;
const ALIAS_SCAN = new RegExp(ALIAS_RE.source, 'gm');
/** Far more aliases than any template uses; counted before parsing, which costs ~15 µs per alias. */
const MAX_ALIASES = 1000;

function refuseManyAliases(text: string, name: string): void {
  ALIAS_SCAN.lastIndex = 0;
  for (let n = 0; ALIAS_SCAN.exec(text); ) {
    if (++n > MAX_ALIASES) throw new ToscaError('yaml-syntax', `YAML document with too many aliases (over ${MAX_ALIASES})`, name, 1, 1, []);
  }
}

/**
 * The `yaml` syntax tree costs ~2 µs per byte on the event loop (0.6 s for a 300 KB template, more under load, during
 * which no other request is answered): bigger texts get their error positions by a linear scan.
 */
const EXACT_LOCATE_MAX = 32 * 1024;

/** Where `path` probably is: each key searched for after the previous one (exact for block-style YAML). */
function approximateLocation(text: string, path: YamlPath): { line: number; column: number } {
  let pos = 0;
  for (const seg of path) {
    if (typeof seg !== 'string') continue;
    const re = new RegExp(`(?:^|[\\s{,])["']?${seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?\\s*:`, 'g');
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) break;
    pos = m.index + m[0].search(/\S/);
  }
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return { line, column: pos - before.lastIndexOf('\n') };
}

/** js-yaml said no: ask the `yaml` parser for the exact spot and the path to it. */
function locatedSyntaxError(text: string, name: string, base: string | undefined, e: unknown, lastKeyWins: boolean): ToscaError {
  const file = new SourceFile(name, text, null, base);
  const lines = new LineCounter();
  let doc: Document | undefined;
  try {
    doc = text.length > EXACT_LOCATE_MAX ? undefined
      : parseDocument(text, { lineCounter: lines, version: '1.1', uniqueKeys: !lastKeyWins, merge: true, prettyErrors: false });
  } catch {
    doc = undefined;
  }
  const first = doc?.errors[0];
  if (first) {
    const pos = lines.linePos(first.pos[0]);
    const dup = first.code === 'DUPLICATE_KEY';
    const msg = first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    return new ToscaError(dup ? 'duplicate-key' : 'yaml-syntax', `${dup ? 'duplicate key' : 'YAML syntax error'}: ${msg}`,
      name, pos.line, pos.col, file.pathAt(first.pos[0]));
  }
  const mark = (e as { mark?: jsyaml.Mark }).mark;
  const reason = (e as { reason?: string }).reason ?? (e as Error).message ?? String(e);
  const dup = /duplicated mapping key/.test(reason);
  return new ToscaError(dup ? 'duplicate-key' : 'yaml-syntax', `${dup ? 'duplicate key' : 'YAML syntax error'}: ${reason}`,
    name, (mark?.line ?? 0) + 1, (mark?.column ?? 0) + 1, mark ? file.pathAt(mark.position) : []);
}

/** Plain JSON-like data only: Dates (explicit !!timestamp) back to text. Stops once `budget` (nodes or bytes) is spent. */
function normalise(v: unknown, budget: { left: number; bytes: number }): unknown {
  if (--budget.left < 0 || budget.bytes < 0) return null;
  if (v === undefined) return null;
  if (typeof v === 'string') budget.bytes -= v.length;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length && budget.left >= 0 && budget.bytes >= 0; i++) v[i] = normalise(v[i], budget);
    return v;
  }
  if (isRecord(v)) {
    for (const k in v) {
      if (budget.left < 0 || budget.bytes < 0) break;
      budget.bytes -= k.length;
      v[k] = normalise(v[k], budget);
    }
    return v;
  }
  return v;
}
