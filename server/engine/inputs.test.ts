/** IM accepts a TOSCA input default outside its own constraints: so do we, with a warning in contmsg; --strict-inputs refuses it. */
import * as path from 'path';
import { openStore, type Store } from '../store';
import { createEngine, type Engine } from '.';
import { clusterTemplate, dummyCaller, TEST_SECRET_KEY, tempDir } from '../../test/engine-fixtures';
import { InvalidInputError } from '../errors';

const alice = dummyCaller('alice');
const template = clusterTemplate(1).replace('topology_template:\n', `topology_template:
  inputs:
    cpus:
      type: integer
      default: 0
      constraints:
        - greater_or_equal: 1
`);
let store: Store;
const engines: Engine[] = [];

beforeEach(async () => { store = await openStore('sqlite:' + path.join(tempDir(), 'inputs.db')); });
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  await store.close();
});

test('the template is created and contmsg names the input and where its default is', async () => {
  const engine = await createEngine({ store, secretKey: TEST_SECRET_KEY });
  engines.push(engine);
  const id = await engine.service.create(alice, template, { async: false });
  expect(await engine.service.contmsg(alice, id, false)).toMatch(/Warning: .*:\d+:\d+ topology_template\.inputs\.cpus\.default: .*greater_or_equal violated/);
});

test('under strictInputs the same template is a 400 naming the input', async () => {
  const engine = await createEngine({ store, secretKey: TEST_SECRET_KEY, strictInputs: true });
  engines.push(engine);
  await expect(engine.service.create(alice, template, { async: false })).rejects.toThrow(InvalidInputError);
  await expect(engine.service.create(alice, template, { async: false })).rejects.toThrow(/inputs\.cpus\.default: .*greater_or_equal violated/);
});
