/**
 * The infrastructure list and an infrastructure's page: state, VM table, outputs, contmsg (kept
 * live by the page's script polling …/live), the actions, sharing and, for elastic clusters, the
 * policy knobs and a chart of the manager's view over time.
 */
import { Router } from 'express';
import { handler, type Ctx, type Shared } from './context';
import { form, html, raw } from './html';
import { liveView, scalableNodes, type LiveView, type VmRow } from './infra-view';

export function infrastructurePages(shared: Shared): Router {
  const r = Router();
  const { service } = shared;

  r.get('/dashboard/infrastructures', handler(shared, async (ctx) => {
    const caller = ctx.caller();
    const ids = await service.list(caller);
    const launches = new Map(shared.store.person(ctx.user.owner, ctx.user.name).launches.map((l) => [l.infId, l]));
    const rows = await Promise.all(ids.map(async (id) => {
      const [state, vmIds] = await Promise.all([service.state(caller, id), service.vmIds(caller, id)]);
      const first = vmIds.length ? await service.vmInfo(caller, id, vmIds[0]).catch(() => undefined) : undefined;
      return { id, state: state.state, nodes: vmIds.length, cloud: first ? `${first.cloudId} (${first.cloudType})` : '', launch: launches.get(id) };
    }));
    ctx.render('Infrastructures', rows.length ? html`<table class="infras"><caption>Your infrastructures and those shared with you</caption>
      <thead><tr><th scope="col">Infrastructure</th><th scope="col">State</th><th scope="col">Cloud</th><th scope="col">Created</th><th scope="col">Nodes</th></tr></thead>
      <tbody>${rows.map((x) => html`<tr data-inf="${x.id}"><td><a href="/dashboard/infrastructures/${x.id}">${x.launch?.template ?? 'infrastructure'}</a><br><small>${x.id}</small></td>
        <td><span class="state state-${x.state}">${x.state}</span></td><td>${x.cloud}</td>
        <td>${x.launch ? html`<time datetime="${x.launch.createdAt}">${x.launch.createdAt.replace('T', ' ').slice(0, 19)}</time>` : '—'}</td><td>${x.nodes}</td></tr>`)}
      </tbody></table>` : html`<p>No infrastructure yet. <a href="/dashboard/">Launch one from the catalogue.</a></p>`, 'infrastructures');
  }));

  r.get('/dashboard/infrastructures/:id', handler(shared, async (ctx) => {
    const id = ctx.req.params.id;
    const caller = ctx.caller();
    const [live, outputs, tosca] = await Promise.all([
      liveView(service, shared.series, caller, id), service.outputs(caller, id), service.tosca(caller, id),
    ]);
    const launch = shared.store.person(ctx.user.owner, ctx.user.name).launches.find((l) => l.infId === id);
    ctx.render(launch?.template ?? `Infrastructure ${id}`, detail(ctx, id, live, outputs, scalableNodes(tosca)), 'infrastructures');
  }));
  return r;
}

function detail(ctx: Ctx, id: string, live: LiveView, outputs: Record<string, unknown>, nodes: string[]) {
  const base = `/dashboard/infrastructures/${id}`;
  const act = (action: string, label: string, cls = '') => form(ctx, `${base}/${action}`, html`<button type="submit"${cls ? raw(` class="${cls}"`) : ''}>${label}</button>`, 'class="inline"');
  return html`<div id="live" data-live="${base}/live">
    <p>State: <strong id="inf-state" class="state state-${live.state}" aria-live="polite">${live.state}</strong> <small>${id}</small></p>
    <section aria-labelledby="vms-h"><h2 id="vms-h">Virtual machines</h2>
      <table><thead><tr><th scope="col">VM</th><th scope="col">Node</th><th scope="col">State</th><th scope="col">Private IP</th><th scope="col">Public IP</th><th scope="col">Cloud id</th></tr></thead>
      <tbody id="vm-rows">${live.vms.map(vmRowHtml)}</tbody></table>
      <p><a class="button" href="${base}/ssh-key" download>Download the SSH key</a></p>
    </section>
    <section aria-labelledby="act-h"><h2 id="act-h">Actions</h2>
      <div class="actions">${act('start', 'Start')} ${act('stop', 'Stop')} ${act('reboot', 'Reboot')} ${act('reconfigure', 'Reconfigure')}
        <a class="button danger" href="${base}/delete">Delete…</a></div>
      ${nodes.length ? form(ctx, `${base}/add`, html`<label for="add-node">Node type</label>
        <select id="add-node" name="node">${nodes.map((n) => html`<option>${n}</option>`)}</select>
        <label for="add-count">How many</label><input id="add-count" name="count" type="number" min="1" max="20" value="1" required>
        <button type="submit">Add nodes</button>`, 'class="row"') : ''}
      ${live.vms.length > 1 ? form(ctx, `${base}/remove`, html`<label for="remove-vm">VM to remove</label>
        <select id="remove-vm" name="vm">${live.vms.slice(1).map((v) => html`<option value="${v.id}">${v.id} (${v.node})</option>`)}</select>
        <button type="submit">Remove node</button>`, 'class="row"') : ''}
      ${form(ctx, `${base}/share`, html`<label for="share-name">Share with (their dashboard name)</label>
        <input id="share-name" name="name" required><button type="submit">Share</button>`, 'class="row"')}
    </section>
    ${live.elastic ? elasticPanel(ctx, base, live.elastic) : ''}
    <section aria-labelledby="out-h"><h2 id="out-h">Outputs</h2>
      ${Object.keys(outputs).length ? html`<dl id="outputs">${Object.entries(outputs).map(([k, v]) => html`<dt>${k}</dt><dd>${typeof v === 'string' ? v : JSON.stringify(v)}</dd>`)}</dl>` : html`<p>None yet.</p>`}
    </section>
    <section aria-labelledby="log-h"><h2 id="log-h">Contextualization log</h2>
      <pre id="contmsg" tabindex="0" aria-live="off">${live.contmsg}</pre></section>
  </div>`;
}

export function vmRowHtml(v: VmRow) {
  return html`<tr><td>${v.id}</td><td>${v.node}</td><td><span class="state state-${v.state}">${v.state}</span></td>
    <td>${v.privateIps.join(', ')}</td><td>${v.publicIps.join(', ')}</td><td>${v.instanceId}</td></tr>`;
}

/** Knobs the panel offers; the full list stays available through the API. */
const KNOBS = ['min_nodes', 'max_nodes', 'slots_per_node', 'idle_before_scale_down_s'];

function elasticPanel(ctx: Ctx, base: string, e: NonNullable<LiveView['elastic']>) {
  return html`<section aria-labelledby="el-h"><h2 id="el-h">Elasticity</h2>
    <figure><svg id="elastic-chart" role="img" aria-labelledby="chart-title" viewBox="0 0 600 200" preserveAspectRatio="none" data-points="0">
      <title id="chart-title">Queue length and running, idle and booting nodes over time</title></svg>
      <figcaption><span class="key queue">queue</span> <span class="key running">running</span> <span class="key idle">idle</span> <span class="key booting">booting</span> <span class="key decision">decision</span></figcaption></figure>
    <h3>Decisions</h3><ol id="elastic-events" reversed>${e.events.slice().reverse().map((ev) => html`<li><time>${ev.at.slice(11, 19)}</time> ${ev.type}: ${ev.reason}</li>`)}</ol>
    ${form(ctx, `${base}/elasticity`, html`<fieldset><legend>Policy</legend>
      ${KNOBS.filter((k) => typeof e.policy[k] === 'number').map((k) => html`<label for="knob-${k}">${k.replace(/_/g, ' ')}</label>
        <input id="knob-${k}" name="${k}" type="number" min="0" value="${e.policy[k] as number}" required>`)}
      <div class="check"><input type="checkbox" id="knob-paused" name="paused" value="true"${e.policy.paused ? raw(' checked') : ''}><label for="knob-paused">paused</label></div>
      <button type="submit">Save policy</button></fieldset>`, 'class="knobs"')}
  </section>`;
}
