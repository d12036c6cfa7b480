/**
 * Server-rendered HTML: a tagged template that escapes every interpolated value unless it is
 * already Html, and the page layout (navigation, flash message, the one CSS and JS file).
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string { return this.text; }
}

/** Trusted markup (constant attribute text in the page code, never person input). */
export function raw(text: string): Html {
  return new Html(text);
}

export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

type Part = Html | string | number | boolean | null | undefined | Part[];

function render(v: Part): string {
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === null || v === undefined || v === false) return '';
  return esc(v);
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0];
  values.forEach((v, i) => { out += render(v) + strings[i + 1]; });
  return new Html(out);
}

export interface PageContext {
  title: string;
  user?: { name: string };
  csrf: string;
  flash?: string;
  /** Which navigation entry is current. */
  nav?: 'catalogue' | 'infrastructures' | 'credentials';
}

/** A POST form with the session's CSRF token. */
export function form(ctx: { csrf: string }, action: string, body: Html, attrs = ''): Html {
  return html`<form method="post" action="${action}" ${new Html(attrs)}><input type="hidden" name="_csrf" value="${ctx.csrf}">${body}</form>`;
}

export function page(ctx: PageContext, body: Html): string {
  const link = (href: string, label: string, key: PageContext['nav']) =>
    html`<a href="${href}"${new Html(ctx.nav === key ? ' aria-current="page"' : '')}>${label}</a>`;
  const nav = ctx.user ? html`<nav aria-label="Main">
      ${link('/dashboard/', 'Catalogue', 'catalogue')} ${link('/dashboard/infrastructures', 'Infrastructures', 'infrastructures')}
      ${link('/dashboard/credentials', 'Cloud credentials', 'credentials')}
      <span class="who">${ctx.user.name}</span>
      ${form(ctx, '/dashboard/logout', html`<button type="submit">Sign out</button>`, 'class="inline"')}
    </nav>` : html``;
  return `<!doctype html>
${html`<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${ctx.title} · tosca-im</title>
<link rel="icon" href="/dashboard/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/dashboard/assets/dashboard.css">
<script src="/dashboard/assets/dashboard.js" defer></script>
</head><body>
<header><a class="brand" href="/dashboard/">tosca-im</a>${nav}</header>
<main id="main"><h1>${ctx.title}</h1>
${ctx.flash ? html`<p class="flash" role="status">${ctx.flash}</p>` : ''}
${body}
</main></body></html>`.text}`;
}
