/**
 * What IM's own REST suite (grycap/im test/integration/TestREST*.py, v1.19.2) needs from a server: a
 * running tosca-im, its requests as `requests` sends them (no Content-Type unless the test sets one), and
 * its wait_inf_state loop (polling faster: the Dummy cloud needs no 5 s sleeps).
 */
import { readFileSync } from 'node:fs';
import { call, imAuth, type Reply } from '../api/http';
import { sharedPath } from '../shared-dir';

/** IM's test/auth.dat for the Dummy cloud, lines joined with the two characters \n as the suite does. */
export const AUTH = imAuth('test', 'tests', 'id = dummy; type = Dummy');

export function imTestFile(name: string): string {
  return readFileSync(sharedPath('radl-corpus', 'grycap__im', `test_files_${name}`), 'utf8');
}

export class ImSuite {
  infId = '0';
  constructor(private readonly url: () => string) {}

  /** create_request: the suite's AUTHORIZATION unless headers are given ({} sends none). */
  request(method: string, path: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
    const headers = opts.headers ?? {};
    const auth = opts.headers && Object.keys(opts.headers).length === 0 ? undefined : headers.AUTHORIZATION ?? AUTH;
    const rest = Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'AUTHORIZATION'));
    return call(this.url(), method, path, { auth, headers: rest, body: opts.body });
  }

  async vmIds(): Promise<string[]> {
    const resp = await this.request('GET', `/infrastructures/${this.infId}`);
    expect(resp.status).toBe(200);
    return resp.text.split('\n');
  }

  /** wait_inf_state: every VM reaches `state`; failed/unconfigured (and `incorrect`) end the wait as false. */
  async waitInfState(state: string, timeoutMs: number, incorrect: string[] = [], vmIds?: string[]): Promise<boolean> {
    const ids = vmIds ?? await this.vmIds();
    const errStates = ['failed', 'unconfigured', ...incorrect];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let allOk = true;
      for (const id of ids) {
        const resp = await this.request('GET', `${new URL(id, this.url()).pathname}/state`);
        expect(resp.status).toBe(200);
        expect(errStates).not.toContain(resp.text);
        if (resp.text !== state) allOk = false;
      }
      if (allOk) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
