/*
 * Lets a child process load our TypeScript sources directly (ts-node is not installed): the same
 * swc transform jest uses. Only for processes the lab starts inside a namespace from a test;
 * benches run the compiled dist/ and do not need it.
 */
const { transformSync } = require('@swc/core');
const fs = require('fs');

require.extensions['.ts'] = function compileTs(module, filename) {
  const out = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(out.code, filename);
};
