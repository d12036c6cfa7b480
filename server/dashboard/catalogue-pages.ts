/**
 * The catalogue: cards (GET /dashboard/), a template's form (GET /dashboard/catalogue/:id, with
 * ?with=fragment to merge a fragment in), and the launch (POST), which checks every value again,
 * sets the inputs' defaults to them and creates the infrastructure with the chosen credential.
 */
import * as path from 'node:path';
import { Router } from 'express';
import { formTabs, withInputValues, type Tab } from './catalogue';
import { handler, PageError, type Ctx, type Shared } from './context';
import { form, html, raw } from './html';
import { checkValues, type Field } from './inputs';

export function catalogueRoutes(shared: Shared): Router {
  const r = Router();
  const { catalogue } = shared;

  r.get('/dashboard/', handler(shared, async (ctx) => {
    const cards = catalogue.cards();
    ctx.render('Catalogue', cards.length ? html`<ul class="cards">${cards.map((t) => html`<li class="card">
        <img src="${catalogue.iconPath(t.id) ? `/dashboard/catalogue/${t.id}/icon` : '/dashboard/assets/template.svg'}" alt="" width="48" height="48">
        <h2>${t.name}</h2><p>${t.description}</p>
        <p><a class="button" href="/dashboard/catalogue/${t.id}" aria-label="Configure ${t.name}">Configure</a></p>
        ${catalogue.fragmentsOf(t.id).map((f) => html`<p class="fragment"><a href="/dashboard/catalogue/${t.id}?with=${f.id}">+ ${f.name}</a></p>`)}
      </li>`)}</ul>` : html`<p>The catalogue is empty: start the server with <code>--templates DIR</code>.</p>`, 'catalogue');
  }));

  r.get('/dashboard/catalogue/:id/icon', handler(shared, async (ctx) => {
    const file = catalogue.iconPath(ctx.req.params.id);
    if (!file) throw new PageError(404, 'No icon');
    ctx.res.sendFile(path.resolve(file));
  }));

  r.get('/dashboard/catalogue/:id', handler(shared, async (ctx) => {
    const { entry, withIds, tabs } = resolve(ctx);
    ctx.render(entry.name, launchForm(ctx, entry.id, withIds, tabs, entry.description), 'catalogue');
  }));

  r.post('/dashboard/catalogue/:id', handler(shared, async (ctx) => {
    const { entry, withIds, tabs, doc } = resolve(ctx);
    const { values, errors } = checkValues(tabs.flatMap((t) => t.fields), ctx.form);
    const credId = ctx.form.get('credential') ?? '';
    const cred = shared.store.cloudCredential(ctx.user.owner, credId);
    if (!cred) errors.push('Cloud credential: choose one of yours');
    if (errors.length) {
      ctx.res.status(400);
      return ctx.render(entry.name, launchForm(ctx, entry.id, withIds, tabs, entry.description, errors, ctx.form), 'catalogue');
    }
    const caller = { ...ctx.caller(), credentials: [cred!] };
    const infId = await shared.service.create(caller, withInputValues(doc, values), { async: true });
    shared.store.recordLaunch(ctx.user.owner, { infId, template: entry.name, credentialId: credId, createdAt: new Date().toISOString() });
    ctx.redirect(`/dashboard/infrastructures/${infId}`, `Launched "${entry.name}".`);
  }));
  return r;
}

function resolve(ctx: Ctx) {
  const entry = ctx.shared.catalogue.get(ctx.req.params.id);
  const raw = ctx.req.method === 'POST' ? ctx.form.getAll('with') : [ctx.req.query.with].flat();
  const withIds = raw.filter((x): x is string => typeof x === 'string' && x !== '');
  const doc = ctx.shared.catalogue.compose(entry.id, withIds);
  return { entry, withIds, doc, tabs: formTabs(doc) };
}

function launchForm(ctx: Ctx, id: string, withIds: string[], tabs: Tab[], description: string, errors: string[] = [], given?: URLSearchParams) {
  const creds = ctx.shared.store.person(ctx.user.owner, ctx.user.name).credentials;
  return html`<p>${description}</p>
    ${errors.length ? html`<div class="error" role="alert"><p>Please fix:</p><ul>${errors.map((e) => html`<li>${e}</li>`)}</ul></div>` : ''}
    ${form(ctx, `/dashboard/catalogue/${id}`, html`
      ${withIds.map((w) => html`<input type="hidden" name="with" value="${w}">`)}
      <div class="tabs" data-tabs>${tabs.map((t, i) => html`<fieldset class="tab" id="tab-${i}" data-tab-name="${t.name}"><legend>${t.name}</legend>
        ${t.fields.map((f) => fieldHtml(f, given))}</fieldset>`)}</div>
      <fieldset><legend>Launch on</legend>
        ${creds.length ? html`<label for="credential">Cloud credential</label><select id="credential" name="credential" required>
          ${creds.map((c) => html`<option value="${c.id}"${given?.get('credential') === c.id ? raw(' selected') : ''}>${c.name} (${c.type})</option>`)}</select>`
          : html`<p class="error">You have no cloud credential: <a href="/dashboard/credentials">add one</a> first.</p>`}
      </fieldset>
      <button type="submit">Launch</button>`, 'class="launch" novalidate data-validate')}`;
}

function fieldHtml(f: Field, given?: URLSearchParams) {
  const id = `in-${f.name}`;
  const help = f.description ? html`<small id="${id}-help">${f.description}</small>` : '';
  const describedBy = f.description ? raw(` aria-describedby="${id}-help"`) : '';
  const value = given?.get(f.name) ?? (f.default === undefined || f.default === null ? '' : typeof f.default === 'object' ? JSON.stringify(f.default) : String(f.default));
  const req = f.required ? raw(' required') : '';
  const enabled = f.enabledBy ? raw(` data-enabled-by="in-${f.enabledBy}"`) : '';
  if (f.type === 'boolean') {
    const on = given ? given.get(f.name) === 'true' : f.default === true;
    return html`<div class="check"${enabled}><input type="checkbox" id="${id}" name="${f.name}" value="true"${on ? raw(' checked') : ''}${describedBy}>
      <label for="${id}">${f.label}</label>${help}</div>`;
  }
  let control;
  if (f.choices) {
    control = html`<select id="${id}" name="${f.name}"${req}${describedBy}>${f.required && !value ? html`<option value="">choose…</option>` : ''}
      ${f.choices.map((c) => html`<option${c === value ? raw(' selected') : ''}>${c}</option>`)}</select>`;
  } else if (f.type === 'integer' || f.type === 'float') {
    const step = f.type === 'integer' ? '1' : 'any';
    const min = f.min === undefined ? '' : f.minExclusive ? f.min + (f.type === 'integer' ? 1 : 0) : f.min;
    const max = f.max === undefined ? '' : f.maxExclusive ? f.max - (f.type === 'integer' ? 1 : 0) : f.max;
    control = html`<input type="number" id="${id}" name="${f.name}" step="${step}" value="${value}"${min !== '' ? html` min="${min}"` : ''}${max !== '' ? html` max="${max}"` : ''}${req}${describedBy}>`;
  } else {
    control = html`<input type="${f.secret ? 'password' : 'text'}" id="${id}" name="${f.name}" value="${value}"${f.pattern ? html` pattern="${f.pattern}"` : ''}${f.minLength !== undefined ? html` minlength="${f.minLength}"` : ''}${f.maxLength !== undefined ? html` maxlength="${f.maxLength}"` : ''}${req}${describedBy}${f.secret ? raw(' autocomplete="off"') : ''}>`;
  }
  return html`<div class="field"${enabled}><label for="${id}">${f.label}</label>${control}${help}<span class="field-error" id="${id}-error" aria-live="polite"></span></div>`;
}
