/**
 * What a person does to an infrastructure from its page (POST forms with the CSRF token), its live
 * facts as JSON for the page's polling, the SSH key download and the delete confirmation.
 */
import { Router } from 'express';
import { templateWithCount } from '../elastic/ports';
import { handler, PageError, type Ctx, type Shared } from './context';
import { form, html } from './html';
import { liveView, scalableNodes } from './infra-view';

const POWER = ['start', 'stop', 'reboot'] as const;

export function infrastructureActions(shared: Shared): Router {
  const r = Router();
  const { service } = shared;
  const base = '/dashboard/infrastructures/:id';
  const page = (ctx: Ctx) => `/dashboard/infrastructures/${ctx.req.params.id}`;
  /** The person's Caller with the credential the infrastructure was launched with first. */
  const callerOf = (ctx: Ctx) => ctx.caller(shared.store.person(ctx.user.owner, ctx.user.name).launches.find((l) => l.infId === ctx.req.params.id)?.credentialId);

  r.get(`${base}/live`, handler(shared, async (ctx) => {
    ctx.res.json(await liveView(service, shared.series, callerOf(ctx), ctx.req.params.id));
  }));

  r.get(`${base}/ssh-key`, handler(shared, async (ctx) => {
    const caller = callerOf(ctx);
    const ids = await service.vmIds(caller, ctx.req.params.id);
    const key = ids.length ? (await service.vmInfo(caller, ctx.req.params.id, ids[0])).credentials?.privateKey : undefined;
    if (!key) throw new PageError(404, 'This infrastructure has no SSH key (yet).');
    ctx.res.attachment(`${ctx.req.params.id}.pem`).type('application/x-pem-file').send(key);
  }));

  for (const action of POWER) {
    r.post(`${base}/${action}`, handler(shared, async (ctx) => {
      await service.action(callerOf(ctx), ctx.req.params.id, action);
      ctx.redirect(page(ctx), `Asked the cloud to ${action} every VM.`);
    }));
  }

  r.post(`${base}/reconfigure`, handler(shared, async (ctx) => {
    await service.reconfigure(callerOf(ctx), ctx.req.params.id);
    ctx.redirect(page(ctx), 'Reconfiguration started.');
  }));

  r.post(`${base}/add`, handler(shared, async (ctx) => {
    const node = ctx.form.get('node') ?? '';
    const count = Number(ctx.form.get('count'));
    if (!Number.isInteger(count) || count < 1 || count > 20) throw new PageError(400, 'How many: a whole number from 1 to 20.');
    const caller = callerOf(ctx);
    const id = ctx.req.params.id;
    const [tosca, ids] = await Promise.all([service.tosca(caller, id), service.vmIds(caller, id)]);
    const vms = await Promise.all(ids.map((v) => service.vmInfo(caller, id, v)));
    const current = vms.filter((v) => v.nodeName === node && v.state !== 'deleting').length;
    if (!scalableNodes(tosca).includes(node)) throw new PageError(400, `No node type "${node}" in this infrastructure.`);
    // The same request as a user's AddResource with a larger count (what the elasticity manager sends).
    await service.addResources(caller, id, templateWithCount(tosca, node, current + count), true, { wait: false });
    ctx.redirect(page(ctx), `Adding ${count} ${node} node(s).`);
  }));

  r.post(`${base}/remove`, handler(shared, async (ctx) => {
    const vm = ctx.form.get('vm') ?? '';
    if (!/^\d+$/.test(vm)) throw new PageError(400, 'Choose a VM to remove.');
    await service.removeVms(callerOf(ctx), ctx.req.params.id, [vm], true);
    ctx.redirect(page(ctx), `Removing VM ${vm}.`);
  }));

  r.post(`${base}/share`, handler(shared, async (ctx) => {
    const name = (ctx.form.get('name') ?? '').trim();
    const people = shared.store.findByName(name).filter((p) => p.owner !== ctx.user.owner);
    if (people.length !== 1) throw new PageError(400, people.length ? `"${name}" names more than one person.` : `Nobody named "${name}" has signed in to this dashboard.`);
    if (!service.changeOwners) throw new PageError(400, 'This server cannot share infrastructures.');
    await service.changeOwners(callerOf(ctx), ctx.req.params.id, { owner: people[0].owner, username: people[0].name }, false);
    ctx.redirect(page(ctx), `Shared with ${name}.`);
  }));

  r.post(`${base}/elasticity`, handler(shared, async (ctx) => {
    const id = ctx.req.params.id;
    await service.vmIds(callerOf(ctx), id); // owner check, as the REST route does
    const knobs: Record<string, unknown> = { paused: ctx.form.get('paused') === 'true' };
    for (const [k, v] of ctx.form.entries()) {
      if (k.startsWith('_') || k === 'paused') continue;
      if (!/^\d+$/.test(v)) throw new PageError(400, `${k}: a whole number is required`);
      knobs[k] = Number(v);
    }
    await shared.elasticity.update(id, knobs);
    ctx.redirect(page(ctx), 'Policy saved.');
  }));

  r.get(`${base}/delete`, handler(shared, async (ctx) => {
    await service.vmIds(callerOf(ctx), ctx.req.params.id);
    ctx.render('Delete this infrastructure?', html`<p>Every VM of <code>${ctx.req.params.id}</code> is deleted at the cloud. This cannot be undone.</p>
      ${form(ctx, `${page(ctx)}/delete`, html`<button type="submit" class="danger">Delete it</button> <a href="${page(ctx)}">Cancel</a>`)}`, 'infrastructures');
  }));

  r.post(`${base}/delete`, handler(shared, async (ctx) => {
    const id = ctx.req.params.id;
    await service.destroy(callerOf(ctx), id, { force: false, async: true, releaseFloatingIps: false });
    shared.store.forgetLaunch(ctx.user.owner, id);
    shared.series.forget(id);
    ctx.redirect('/dashboard/infrastructures', `Deleting ${id}.`);
  }));
  return r;
}
