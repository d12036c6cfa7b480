// A real OpenID provider for the dashboard's browser test (oidc-provider, ESM-only, hence a child
// process): authorization code + PKCE, one confidential client, any login name accepted with any
// password, the login name as subject. Its sign-in and consent pages are the few lines below
// (oidc-provider's development pages load a web font from the Internet). Prints {"issuer": URL}
// once listening on 127.0.0.1; stops on SIGTERM. Usage: node provider.mjs CLIENT_ID CLIENT_SECRET REDIRECT_URI
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const [clientId, clientSecret, redirectUri] = process.argv.slice(2);
if (!redirectUri) {
  process.stderr.write('usage: node provider.mjs CLIENT_ID CLIENT_SECRET REDIRECT_URI\n');
  process.exit(2);
}
const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri],
    grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_post',
  }],
  pkce: { required: () => true },
  findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, preferred_username: id, email: `${id}@example.org` }) }),
  claims: { openid: ['sub'], profile: ['preferred_username'], email: ['email'] },
  // The dashboard reads the person's name from the ID token.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  cookies: { keys: ['tosca-im browser test only'] },
});
// Quiet: the test reads only the first stdout line.
provider.on('server_error', (_ctx, err) => process.stderr.write(`provider error: ${err.message}\n`));
const callback = provider.callback();
server.on('request', (req, res) => {
  if (!/^\/interaction\/[^/?]+/.test(req.url)) return callback(req, res);
  interaction(req, res).catch((err) => {
    process.stderr.write(`interaction error: ${err.stack}\n`);
    res.writeHead(400, { 'content-type': 'text/plain' }).end(err.message);
  });
});

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pageHtml = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>${body}</body></html>`;

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

/** GET: the sign-in or consent page of the interaction; POST: its answer. */
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const action = `/interaction/${details.uid}`;
  const prompt = details.prompt.name;
  if (req.method === 'GET') {
    const body = prompt === 'login'
      ? `<form method="post" action="${action}"><label for="login">Login</label><input id="login" name="login" required autofocus>
         <label for="password">Password</label><input id="password" name="password" type="password"><button type="submit">Sign in</button></form>`
      : `<p>${esc(details.params.client_id)} asks for your identity.</p><form method="post" action="${action}"><button type="submit">Continue</button></form>`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(pageHtml(prompt === 'login' ? 'Sign in' : 'Consent', body));
    return;
  }
  if (prompt === 'login') {
    const login = (await readForm(req)).get('login');
    if (!login) throw new Error('no login given');
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    return;
  }
  const { missingOIDCScope, missingOIDCClaims } = details.prompt.details;
  const grant = details.grantId ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
  await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
}
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
