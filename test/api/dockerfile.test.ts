/**
 * The Dockerfile's shape, as the issue asks for it (there is no Docker daemon in CI to build it): a
 * multi-stage build that compiles everything tsconfig.build.json compiles, a runtime stage that runs
 * `tosca-im serve --host 0.0.0.0` as a non-root user with the data (SQLite file, server key) in a volume.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
// Dockerfile instructions, continuation lines joined
const lines = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const stages: string[][] = [];
for (const l of lines) {
  if (/^FROM\s/i.test(l)) stages.push([]);
  stages[stages.length - 1]?.push(l);
}
const runtime = stages[stages.length - 1];
const args = (instr: string, stage: string[]) => stage.filter((l) => l.toUpperCase().startsWith(`${instr} `)).map((l) => l.slice(instr.length + 1).trim());

describe('Dockerfile', () => {
  it('has a build stage and a runtime stage that copies only the build output from it', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = /^FROM\s+\S+\s+AS\s+(\S+)$/i.exec(stages[0][0])?.[1];
    expect(build).toBeDefined();
    expect(runtime[0]).toMatch(/^FROM node:20/);
    expect(args('COPY', runtime).filter((c) => !c.startsWith(`--from=${build} `))).toEqual([]);
    expect(args('COPY', runtime).join(' ')).toContain('/app/dist');
  });

  it('copies every source folder the build compiles (tsconfig.build.json include)', () => {
    const include: string[] = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')).include;
    const copied = args('COPY', stages[0]).flatMap((c) => c.split(/\s+/).slice(0, -1));
    const missing = include.filter((inc) => !copied.some((src) => inc === src || inc.startsWith(`${src}/`)));
    expect(missing).toEqual([]);
  });

  it('runs tosca-im serve --host 0.0.0.0 as a non-root user, with a volume for the data', () => {
    const user = args('USER', runtime);
    expect(user).toHaveLength(1);
    expect(user[0]).not.toMatch(/^(root|0)(:|$)/);
    const command = [...args('ENTRYPOINT', runtime), ...args('CMD', runtime)].map((j) => JSON.parse(j) as string[]).flat();
    expect(command).toEqual(['tosca-im', 'serve', '--host', '0.0.0.0']);
    const volume = args('VOLUME', runtime).map((v) => JSON.parse(v) as string[]).flat();
    expect(volume).toHaveLength(1);
    const env = args('ENV', runtime).join(' ');
    expect(env).toContain(`TOSCA_IM_DATA_DIR=${volume[0]}`);
    expect(env).toContain(`TOSCA_IM_DB=sqlite:${volume[0]}/`);
    // the unprivileged user may write the volume
    expect(args('RUN', runtime).join(' ')).toMatch(new RegExp(`chown ${user[0].split(':')[0]}(:\\S+)? ${volume[0]}`));
  });
});
