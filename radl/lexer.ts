/**
 * RADL tokens as grycap/RADL's PLY lexer produces them (radl_parse.py): three states (top level, inside
 * parentheses where `= <= >= < > [ ] ,` exist, and an Ansible recipe between `@begin` and `@end` read line by
 * line), `#` comments, `'…'` strings where only `\'` is an escape, numbers with an optional unit word after
 * them. Characters the reference does not know are skipped as it skips them, so IM's documents read the same.
 * Every token carries its line and column (the reference counts no newlines inside strings; we do).
 */
import { RadlError } from './errors';

export type TokenType =
  | 'LPAREN' | 'RPAREN' | 'LBRACK' | 'RBRACK' | 'COMMA' | 'NUMBER' | 'AND' | 'EQ' | 'LT' | 'GT' | 'GE' | 'LE'
  | 'SOFT' | 'STRING' | 'VAR' | 'CONTAINS' | 'DEPLOY' | 'CONFIGURE' | 'SYSTEM' | 'NETWORK' | 'ANSIBLE'
  | 'RECIPE_LINE' | 'RECIPE_BEGIN' | 'RECIPE_END' | 'CONTEXTUALIZE' | 'STEP' | 'WITH' | 'OPTION' | 'DESCRIPTION'
  | 'RANDOM';

export interface Token { type: TokenType; value: string | number; line: number; column: number }

const RESERVED = new Map<string, TokenType>(Object.entries({
  network: 'NETWORK', ansible: 'ANSIBLE', system: 'SYSTEM', soft: 'SOFT', and: 'AND', contains: 'CONTAINS',
  deploy: 'DEPLOY', configure: 'CONFIGURE', contextualize: 'CONTEXTUALIZE', step: 'STEP', with: 'WITH',
  option: 'OPTION', description: 'DESCRIPTION',
}) as Array<[string, TokenType]>);
const BODY_OPS: Array<[string, TokenType]> = [['<=', 'LE'], ['>=', 'GE'], ['=', 'EQ'], ['>', 'GT'], ['<', 'LT'], ['[', 'LBRACK'], [']', 'RBRACK'], [',', 'COMMA']];
const NUMBER = /\d+\.?\d*/y;
const VAR = /[a-zA-Z_.][\p{L}\p{N}_.-]*/uy;
const STRING = /'(?:[^\\']|\\[^\n])*'/y;
const RANDOM = /'random\((\d+)\)'/y;

type State = 'initial' | 'body' | 'recipe';

export function tokenize(text: string, file: string): Token[] {
  const out: Token[] = [];
  const stack: State[] = [];
  let state: State = 'initial';
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const n = text.length;
  const sticky = (re: RegExp): RegExpExecArray | null => { re.lastIndex = i; return re.exec(text); };
  const push = (type: TokenType, value: string | number, at: number): void => {
    out.push({ type, value, line, column: at - lineStart + 1 });
  };
  const pop = (at: number): void => {
    const prev = stack.pop();
    if (prev === undefined) throw new RadlError('syntax', "unbalanced ')'", file, line, at - lineStart + 1);
    state = prev;
  };
  while (i < n) {
    const c = text[i];
    if (state === 'recipe') {
      if (text.startsWith('@end', i)) { push('RECIPE_END', '@end', i); i += 4; pop(i); continue; }
      const nl = text.indexOf('\n', i);
      if (nl < 0) { i = n; break; }
      push('RECIPE_LINE', text.slice(i, nl + 1), i);
      i = nl + 1; line++; lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t') { i++; continue; }
    if (c === '\n') { i++; line++; lineStart = i; continue; }
    if (c === '#') { const nl = text.indexOf('\n', i); i = nl < 0 ? n : nl; continue; }
    if (c === '(') { push('LPAREN', c, i); stack.push(state); state = 'body'; i++; continue; }
    if (c === ')') { push('RPAREN', c, i); i++; pop(i - 1); continue; }
    if (state === 'body') {
      const op = BODY_OPS.find(([s]) => text.startsWith(s, i));
      if (op) { push(op[1], op[0], i); i += op[0].length; continue; }
    }
    let m: RegExpExecArray | null;
    if (c === "'") {
      if ((m = sticky(RANDOM))) {
        if (m[1].length !== 1) throw new RadlError('syntax', `'random(N)' takes one digit, not ${m[1]}`, file, line, i - lineStart + 1);
        push('RANDOM', Number(m[1]), i); i += m[0].length; continue;
      }
      if ((m = sticky(STRING))) {
        push('STRING', m[0].slice(1, -1).replace(/\\'/g, "'"), i);
        for (let k = i; k < i + m[0].length; k++) if (text[k] === '\n') { line++; lineStart = k + 1; }
        i += m[0].length;
        continue;
      }
    }
    if ((m = sticky(NUMBER))) { push('NUMBER', Number(m[0]), i); i += m[0].length; continue; }
    if ((m = sticky(VAR))) { push(RESERVED.get(m[0]) ?? 'VAR', m[0], i); i += m[0].length; continue; }
    if (text.startsWith('@begin', i)) { push('RECIPE_BEGIN', '@begin', i); i += 6; stack.push(state); state = 'recipe'; continue; }
    i++; // a character the reference lexer skips (its t_ANY_error)
  }
  return out;
}
