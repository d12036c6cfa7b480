/**
 * RADL text → Radl, following grycap/RADL's grammar (radl_parse.py) rule for rule, as a recursive descent
 * over the tokens of lexer.ts. Every rejection is a RadlError at the offending token's line and column.
 */
import { randomBytes } from 'crypto';
import { RadlError, type Loc } from './errors';
import { tokenize, type Token, type TokenType } from './lexer';
import {
  Configure, Contextualize, Deploy, Feature, FeatureAspect, Features, Radl, SOFT, SoftFeatures,
  type ContextItem, type FeatureValue, type Operator,
} from './model';

const COMPARATORS: Partial<Record<TokenType, Operator>> = { EQ: '=', LT: '<', GT: '>', GE: '>=', LE: '<=' };
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Errors raised by the model carry no file name; give them this document's. */
export function inFile(e: unknown, file: string): unknown {
  if (e instanceof RadlError && !e.file) return new RadlError(e.code, e.detail, file, e.line, e.column, e.path);
  return e;
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[], private readonly file: string, private readonly eof: Loc) {}

  private peek(k = 0): Token | undefined { return this.toks[this.i + k]; }
  private at(type: TokenType): boolean { return this.peek()?.type === type; }

  private fail(expected: string): never {
    const t = this.peek();
    const where = t ?? { line: this.eof.line, column: this.eof.column };
    const got = t ? `${t.type.toLowerCase()} ${JSON.stringify(t.value)}` : 'end of document';
    throw new RadlError('syntax', `expected ${expected}, found ${got}`, this.file, where.line, where.column);
  }

  private expect(type: TokenType, what = type.toLowerCase()): Token {
    const t = this.peek();
    if (!t || t.type !== type) this.fail(what);
    this.i++;
    return t;
  }

  private name(what: string): string { return String(this.expect('VAR', what).value); }

  parse(): Radl {
    const radl = new Radl();
    const descriptions: FeatureAspect[] = [];
    while (this.at('DESCRIPTION')) descriptions.push(this.featureAspect('description'));
    do radl.add(this.sentence()); while (this.peek());
    for (const d of descriptions) radl.add(d);
    return radl;
  }

  private sentence(): FeatureAspect | Configure | Deploy | Contextualize {
    switch (this.peek()?.type) {
      case 'NETWORK': return this.featureAspect('network');
      case 'SYSTEM': return this.featureAspect('system');
      case 'ANSIBLE': return this.featureAspect('ansible');
      case 'CONFIGURE': return this.configure();
      case 'CONTEXTUALIZE': return this.contextualize();
      case 'DEPLOY': return this.deploy();
      default: return this.fail("'network', 'system', 'ansible', 'configure', 'contextualize' or 'deploy'");
    }
  }

  private featureAspect(cls: FeatureAspect['cls']): FeatureAspect {
    const kw = this.expect(this.peek()!.type);
    const id = this.name(`a ${cls} name`);
    if (cls !== 'ansible' && !this.at('LPAREN')) return new FeatureAspect(cls, id, [], true, kw);
    this.expect('LPAREN', "'('");
    const feats = this.features();
    this.expect('RPAREN', "')' or 'and'");
    return new FeatureAspect(cls, id, feats, false, kw);
  }

  private features(): Feature[] {
    const list: Feature[] = [];
    if (!this.at('RPAREN') && !this.at('AND')) list.push(this.feature());
    while (this.at('AND')) { this.i++; list.push(this.feature()); }
    return list;
  }

  private group(): Feature[] {
    this.expect('LPAREN', "'('");
    const feats = this.features();
    this.expect('RPAREN', "')' or 'and'");
    return feats;
  }

  private feature(): Feature {
    const t = this.peek();
    if (t?.type === 'SOFT') {
      this.i++;
      const weight = Number(this.expect('NUMBER', 'a weight').value);
      const soft = new SoftFeatures(weight, this.group(), t);
      return new Feature(SOFT, 'contains', soft, '', t);
    }
    const prop = this.name('a feature name');
    if (this.at('CONTAINS')) { this.i++; return new Feature(prop, 'contains', new Features(this.group()), '', t!); }
    const op = this.comparator();
    const v = this.peek();
    if (v?.type === 'NUMBER') {
      this.i++;
      const unit = this.at('VAR') ? String(this.expect('VAR').value) : '';
      return new Feature(prop, op, v.value as number, unit, t!);
    }
    if (v?.type === 'STRING') { this.i++; return new Feature(prop, op, v.value as string, '', t!); }
    if (v?.type === 'RANDOM') {
      this.i++;
      const bytes = randomBytes(v.value as number);
      return new Feature(prop, op, [...bytes].map((b) => ALNUM[b % ALNUM.length]).join(''), '', t!);
    }
    if (v?.type === 'LBRACK') { this.i++; return new Feature(prop, op, this.stringList(), '', t!); }
    return this.fail('a number, a quoted string or a [list]');
  }

  private comparator(): Operator {
    const op = COMPARATORS[this.peek()?.type as TokenType];
    if (!op) this.fail("'=', '<=', '>=', '<', '>' or 'contains'");
    this.i++;
    return op;
  }

  private stringList(): FeatureValue {
    const list: string[] = [];
    if (this.at('STRING')) list.push(String(this.expect('STRING').value));
    while (this.at('COMMA')) { this.i++; list.push(String(this.expect('STRING', 'a quoted string').value)); }
    this.expect('RBRACK', "']' or ','");
    return list;
  }

  private configure(): Configure {
    const kw = this.expect('CONFIGURE');
    const name = this.name('a configure name');
    if (!this.at('LPAREN')) return new Configure(name, null, true, kw);
    this.i++;
    if (this.at('RPAREN')) { this.i++; return new Configure(name, null, false, kw); }
    this.expect('RECIPE_BEGIN', "'@begin' or ')'");
    let recipe = String(this.expect('RECIPE_LINE', 'recipe lines after @begin').value);
    while (this.at('RECIPE_LINE')) recipe += String(this.expect('RECIPE_LINE').value);
    this.expect('RECIPE_END', "'@end' at the start of a line");
    this.expect('RPAREN', "')'");
    return new Configure(name, recipe, false, kw);
  }

  private contextualize(): Contextualize {
    this.expect('CONTEXTUALIZE');
    const maxTime = this.at('NUMBER') ? Number(this.expect('NUMBER').value) : 0;
    this.expect('LPAREN', "'(' or a maximum time");
    const options: Feature[] = [];
    while (this.at('OPTION')) {
      const kw = this.expect('OPTION');
      const prop = this.name('an option name');
      const op = this.comparator();
      const v = this.peek();
      if (v?.type !== 'STRING' && v?.type !== 'NUMBER') this.fail('a quoted string or a number');
      this.i++;
      options.push(new Feature(prop, op, v.value, '', kw));
    }
    const items: ContextItem[] = [];
    while (this.at('SYSTEM')) {
      const kw = this.expect('SYSTEM');
      const system = this.name('a system name');
      this.expect('CONFIGURE', "'configure'");
      const configure = this.name('a configure name');
      const item: ContextItem = { system, configure, step: 0, loc: { line: kw.line, column: kw.column } };
      if (this.at('STEP')) { this.i++; item.step = Number(this.expect('NUMBER', 'a step number').value); }
      else if (this.at('WITH')) { this.i++; item.ctxtTool = this.name('a tool name'); }
      items.push(item);
    }
    this.expect('RPAREN', "'system', 'option' or ')'");
    return Contextualize.of(items, maxTime, options);
  }

  private deploy(): Deploy {
    const kw = this.expect('DEPLOY');
    const system = this.name('a system name');
    const n = Number(this.expect('NUMBER', 'a number of VMs').value);
    const cloud = this.at('VAR') ? String(this.expect('VAR').value) : undefined;
    return new Deploy(system, n, cloud, kw);
  }
}

/** Parse RADL text. `file` names the document in error locations. An empty document is an empty RADL. */
export function parseRadl(text: string, file = 'radl'): Radl {
  if (text.trim() === '') return new Radl();
  const lines = text.split('\n');
  const eof = { line: lines.length, column: lines[lines.length - 1].length + 1 };
  try {
    return new Parser(tokenize(text + '\n', file), file, eof).parse();
  } catch (e) {
    throw inFile(e, file);
  }
}
