/**
 * Cloud credentials per person: list, add, edit, delete, test. Secrets are write-only: the edit form
 * leaves them empty ("unchanged"), and nothing sealed is ever rendered. Testing lists the cloud's
 * images through the connector: a cheap call that needs a valid login.
 */
import { Router } from 'express';
import { handler, PageError, type Ctx, type Shared } from './context';
import { form, html, raw } from './html';
import { CLOUD_TYPES, type StoredCredential } from './store';

const HELP: Record<string, string> = {
  host: 'Keystone URL, e.g. https://keystone.example.org:5000',
  auth_version: 'e.g. 3.x_password',
  tenant: 'project name',
};

export function credentialRoutes(shared: Shared): Router {
  const r = Router();
  const base = '/dashboard/credentials';

  r.get(base, handler(shared, async (ctx) => {
    const creds = shared.store.person(ctx.user.owner, ctx.user.name).credentials;
    ctx.render('Cloud credentials', html`
      ${creds.length ? html`<table><caption>Your credentials (secrets are stored sealed and never shown)</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Cloud</th><th scope="col">Endpoint / user</th><th scope="col">Actions</th></tr></thead>
        <tbody>${creds.map((c) => html`<tr data-credential="${c.name}"><td>${c.name}</td><td>${c.type}</td><td>${c.fields.host ?? c.fields.region ?? ''} ${c.fields.username ?? ''}</td>
          <td class="actions">${form(ctx, `${base}/${c.id}/test`, html`<button type="submit">Test</button>`, 'class="inline"')}
          <a class="button" href="${base}/${c.id}/edit">Edit</a>
          ${form(ctx, `${base}/${c.id}/delete`, html`<button type="submit" class="danger">Delete</button>`, 'class="inline"')}</td></tr>`)}
        </tbody></table>` : html`<p>No cloud credential yet: add one to launch infrastructures.</p>`}
      <h2>Add a credential</h2>
      <p>${Object.keys(CLOUD_TYPES).map((t) => html`<a class="button" href="${base}/new?type=${t}">Add ${t}</a> `)}</p>`, 'credentials');
  }));

  r.get(`${base}/new`, handler(shared, async (ctx) => {
    const type = String(ctx.req.query.type ?? 'OpenStack');
    if (!CLOUD_TYPES[type]) throw new PageError(400, `Unknown cloud type "${type}"`);
    ctx.render(`Add ${type} credential`, credentialForm(ctx, type), 'credentials');
  }));

  r.get(`${base}/:id/edit`, handler(shared, async (ctx) => {
    const c = find(ctx, ctx.req.params.id);
    ctx.render(`Edit ${c.name}`, credentialForm(ctx, c.type, c), 'credentials');
  }));

  r.post(base, handler(shared, async (ctx) => {
    const type = ctx.form.get('type') ?? '';
    const values = Object.fromEntries([...ctx.form.entries()].filter(([k]) => !k.startsWith('_')));
    const c = shared.store.saveCredential(ctx.user.owner, { id: ctx.form.get('id') || undefined, name: ctx.form.get('name') ?? '', type, values });
    ctx.redirect(base, `Saved the credential "${c.name}".`);
  }));

  r.post(`${base}/:id/delete`, handler(shared, async (ctx) => {
    const c = find(ctx, ctx.req.params.id);
    shared.store.deleteCredential(ctx.user.owner, c.id);
    ctx.redirect(base, `Deleted the credential "${c.name}".`);
  }));

  r.post(`${base}/:id/test`, handler(shared, async (ctx) => {
    const c = find(ctx, ctx.req.params.id);
    const caller = ctx.caller(c.id);
    if (!shared.service.cloudImages) throw new PageError(400, 'This server cannot test credentials.');
    try {
      const images = await shared.service.cloudImages(caller, c.name);
      ctx.redirect(base, `"${c.name}" works: the cloud lists ${images.length} image(s).`);
    } catch (err) {
      ctx.redirect(base, `"${c.name}" does not work: ${(err as Error).message}`);
    }
  }));
  return r;
}

function find(ctx: Ctx, id: string): StoredCredential {
  const c = ctx.shared.store.person(ctx.user.owner, ctx.user.name).credentials.find((x) => x.id === id);
  if (!c) throw new PageError(404, 'No such credential.');
  return c;
}

function credentialForm(ctx: Ctx, type: string, c?: StoredCredential) {
  const spec = CLOUD_TYPES[type];
  return form(ctx, '/dashboard/credentials', html`
    <input type="hidden" name="type" value="${type}">${c ? html`<input type="hidden" name="id" value="${c.id}">` : ''}
    <label for="cred-name">Name</label>
    <input id="cred-name" name="name" required pattern="[A-Za-z0-9_.\\-]{1,40}" value="${c?.name ?? ''}" aria-describedby="cred-name-help">
    <small id="cred-name-help">Letters, digits, "_", "." or "-"; the id of the cloud in your infrastructures.</small>
    ${spec.fields.map((k) => {
      const secret = spec.secret.includes(k);
      const required = secret ? !c : k === 'host' || k === 'username';
      return html`<label for="cred-${k}">${k.replace(/_/g, ' ')}</label>
        <input id="cred-${k}" name="${k}" ${raw(secret ? 'type="password" autocomplete="new-password"' : '')}${required ? html` required` : ''}
          value="${secret ? '' : c?.fields[k] ?? ''}"${HELP[k] || (secret && c) ? html` aria-describedby="cred-${k}-help"` : ''}>
        ${secret && c ? html`<small id="cred-${k}-help">Stored; leave empty to keep it.</small>` : HELP[k] ? html`<small id="cred-${k}-help">${HELP[k]}</small>` : ''}`;
    })}
    <button type="submit">Save</button> <a href="/dashboard/credentials">Cancel</a>`, 'class="narrow"');
}
