/**
 * Malformed RADL: each case is rejected by the reference too, and ours names the line and column of the
 * offending token. A property test: any text either parses or yields our RadlError (never another throw).
 */
import fc from 'fast-check';
import { RadlError, parseRadl, parseRadlJson, dumpRadlText, radlToSimple } from '../../radl';
import { judgeTexts, oracleTest } from './oracle';

const CASES: Array<{ name: string; text: string; line: number; column: number; code?: string }> = [
  { name: 'system without a closing parenthesis', text: "system front (\ncpu.count >= 1\n", line: 3, column: 1 },
  { name: 'feature without a value', text: "system front (\ncpu.count >=\n)", line: 3, column: 1 },
  { name: 'feature without an operator', text: "system front (\n  cpu.count 1\n)", line: 2, column: 13 },
  { name: 'two features without and', text: "system front (\ncpu.count >= 1\nmemory.size >= 1g\n)", line: 3, column: 13 },
  { name: 'deploy without a count', text: "system front ()\ndeploy front\n", line: 3, column: 1 },
  { name: 'unknown sentence', text: "system front ()\nmachine front ()\n", line: 2, column: 1 },
  { name: 'keyword as a name', text: "system deploy ()\n", line: 1, column: 8 },
  { name: 'configure without @end', text: "configure c (\n@begin\n- hosts: all\n", line: 4, column: 1 },
  { name: 'contextualize item without configure', text: "contextualize (\n  system front c\n)", line: 2, column: 16 },
  { name: 'duplicated system', text: "system front ()\nsystem front ( cpu.count = 1 )", line: 2, column: 1, code: 'duplicate' },
  { name: 'disjoint interval', text: "system front (\ncpu.count >= 4 and\ncpu.count <= 2\n)", line: 3, column: 1, code: 'conflict' },
  { name: 'conflicting values', text: "system front (\ndisk.0.os.name = 'linux' and\ndisk.0.os.name = 'windows'\n)", line: 3, column: 1, code: 'conflict' },
  { name: 'unbalanced parenthesis', text: "system front ())\n", line: 1, column: 16 },
  { name: 'list without closing bracket', text: "system front (\n app = ['a', 'b'\n)", line: 3, column: 1 },
  { name: 'only a description', text: "description d (name = 'x')\n", line: 2, column: 1 },
];

describe('malformed RADL gives located errors', () => {
  for (const c of CASES) {
    test(c.name, () => {
      let err: unknown;
      try { parseRadl(c.text, 'bad.radl'); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(RadlError);
      const e = err as RadlError;
      expect({ file: e.file, line: e.line, column: e.column }).toEqual({ file: 'bad.radl', line: c.line, column: c.column });
      expect(e.code).toBe(c.code ?? 'syntax');
      expect(e.message.startsWith(`bad.radl:${c.line}:${c.column} `)).toBe(true);
    });
  }

  oracleTest('the reference rejects every one of them too', () => {
    const answers = judgeTexts(CASES.map((c) => c.text));
    expect(answers.map((a, i) => `${CASES[i].name}: ${a.ok ? 'accepted' : 'rejected'}`))
      .toEqual(CASES.map((c) => `${c.name}: rejected`));
  });

  test('malformed JSON RADL names the path', () => {
    expect(() => parseRadlJson('[{"class": "deploy", "system": "front", "vm_number": "x"}]', 'r.json'))
      .toThrow(/^r\.json:0:0 0\.vm_number: expected a number/);
    expect(() => parseRadlJson('{"class": "system"}')).toThrow(RadlError);
    expect(() => parseRadlJson('[{"class": "system", "id": "s", "x": null}]')).toThrow(/0\.x: expected/);
    expect(() => parseRadlJson('[nope')).toThrow(RadlError);
  });
});

const TOKENS = ['constructor', 'toString', '__proto__', 'network', 'system', 'configure', 'contextualize', 'deploy', 'description', 'ansible', 'soft',
  'contains', 'and', 'step', 'with', 'option', '(', ')', '[', ']', ',', '=', '>=', '<=', '<', '>', "'x'", "'a\\'b'",
  '1', '2.5', '512m', 'front', 'cpu.count', '@begin', '@end', '\n', ' ', '#c', "'random(3)'"];

function onlyRadlErrors(text: string): void {
  try {
    parseRadl(text);
  } catch (e) {
    if (!(e instanceof RadlError)) throw e;
  }
}

describe('property: random text only ever yields a RadlError', () => {
  test('random characters', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), onlyRadlErrors), { numRuns: 2000 });
  });

  test('random token soup', () => {
    const soup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((t) => t.join(' '));
    fc.assert(fc.property(soup, onlyRadlErrors), { numRuns: 3000 });
  });

  test('random JSON only ever yields a RadlError', () => {
    fc.assert(fc.property(fc.json(), (j) => {
      try { parseRadlJson(j); } catch (e) { if (!(e instanceof RadlError)) throw e; }
    }), { numRuns: 1000 });
  });

  test('what parses reads back from our text as the same model', () => {
    const soup = fc.array(fc.constantFrom(...TOKENS.filter((t) => !t.includes('random'))), { maxLength: 40 }).map((t) => t.join(' '));
    fc.assert(fc.property(soup, (text) => {
      let radl;
      try { radl = parseRadl(text); } catch { return; }
      expect(radlToSimple(parseRadl(dumpRadlText(radl)))).toEqual(radlToSimple(radl));
    }), { numRuns: 2000 });
  });
});
