/**
 * The script that gets Ansible onto the master, run here with a PATH of fake tools (a package
 * manager, python3 -m venv + pip) that "install" a fake ansible-playbook: which way it takes, what
 * it reports, that a second run only finds it, and a clear failure when nothing works.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOOTSTRAP_SCRIPT, bootstrapOutcome } from '../../server/configure/ansible-bootstrap';
import { ConfigureError } from '../../server/configure/errors';

const FAKE_ANSIBLE = '#!/bin/sh\necho "ansible-playbook [core 9.9.9]"\n';

let root: string;
let bin: string;
let home: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ansible-bootstrap-'));
  bin = join(root, 'bin');
  home = join(root, 'home');
  for (const d of [bin, home]) mkdirSync(d);
  // only what the script needs from the system: no real ansible-playbook, apt-get or python3
  for (const tool of ['head', 'id', 'cat', 'mkdir', 'chmod']) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function tool(name: string, body: string): void {
  writeFileSync(join(bin, name), `#!/bin/sh\necho "$0 $*" >> "${root}/calls"\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
}
/** Shell lines that put the fake ansible-playbook into `dir`. */
const install = (dir: string) => `mkdir -p "${dir}" && printf '%s' '${FAKE_ANSIBLE}' > "${dir}/ansible-playbook" && chmod 755 "${dir}/ansible-playbook"`;

function runScript(): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', BOOTSTRAP_SCRIPT], { env: { PATH: bin, HOME: home } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}
const calls = () => (existsSync(join(root, 'calls')) ? readFileSync(join(root, 'calls'), 'utf8') : '');
const outcome = (r: { code: number; out: string }) => bootstrapOutcome('0', r.code, r.out).summary;

test('installs with the package manager (updating its lists after a first failure), then only finds it', async () => {
  tool('apt-get', `case "$*" in *update*) touch "${root}/updated" ;; *install*) [ -e "${root}/updated" ] || exit 100; ${install(bin)} ;; esac`);
  symlinkSync('/usr/bin/touch', join(bin, 'touch'));
  expect(outcome(await runScript())).toBe('installed ansible-playbook [core 9.9.9] with apt-get on the master');
  expect(calls()).toMatch(/apt-get install -y -q ansible-core\n.*apt-get update -q\n.*apt-get install -y -q ansible-core\n$/);
  expect(outcome(await runScript())).toBe('found ansible-playbook [core 9.9.9] on the master');
  expect(calls().split('\n').filter(Boolean)).toHaveLength(3); // the second run installed nothing
});

test('without a package manager: pip into a venv in the home, on the PATH of later commands', async () => {
  writeFileSync(join(root, 'fake-pip'), `#!/bin/sh\necho "pip $*" >> "${root}/calls"\n${install('${0%/*}')}\n`);
  tool('python3', `[ "$1 $2" = "-m venv" ] && mkdir -p "$3/bin" && cat "${root}/fake-pip" > "$3/bin/pip" && chmod 755 "$3/bin/pip"`);
  expect(outcome(await runScript())).toBe('installed ansible-playbook [core 9.9.9] with pip (in ~/.tosca-im/ansible-venv) on the master');
  expect(existsSync(join(home, '.tosca-im/ansible-venv/bin/ansible-playbook'))).toBe(true);
  expect(calls()).toMatch(/python3 -m venv .*\/home\/\.tosca-im\/ansible-venv\npip install -q ansible-core\n$/);
  expect(outcome(await runScript())).toBe('found ansible-playbook [core 9.9.9] on the master');
});

test('nothing works: a clear error that carries the output', async () => {
  tool('apt-get', 'echo "E: Unable to locate package" >&2; exit 100');
  const r = await runScript();
  expect(r.code).toBe(1);
  expect(() => bootstrapOutcome('0', r.code, r.out)).toThrow(new ConfigureError('Ansible is not available on the master VM 0: could not install ansible-core (no package manager or pip worked)'));
  try { bootstrapOutcome('0', r.code, r.out); } catch (e) { expect((e as { output: string }).output).toContain('Unable to locate package'); }
  expect(() => bootstrapOutcome('0', 255, 'Connection reset')).toThrow('Ansible is not available on the master VM 0: exit 255');
});
