// SMART on FHIR scope grammar, shared by the authorization server (which
// scopes it may grant) and the FHIR server (what a token permits).
//
// Supported: `<context>/<Type|*>.<permissions>` with context patient|user|system,
// v1 permissions read|write|* and v2 permissions: any ordered subset of "cruds".
// Not supported: v2 granular scopes with a query (`patient/Observation.rs?category=...`).

const V2_PERMS = /^c?r?u?d?s?$/;

/** Parses one scope; returns undefined if it is not a SMART resource scope. */
export function parseResourceScope(scope) {
  const m = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]+)\.([a-z*]+)$/.exec(scope);
  if (!m) return undefined;
  const [, context, type, perm] = m;
  let letters;
  if (perm === 'read') letters = 'rs';
  else if (perm === 'write') letters = 'cud';
  else if (perm === '*') letters = 'cruds';
  else if (V2_PERMS.test(perm) && perm.length > 0) letters = perm;
  else return undefined;
  return { context, type, letters };
}

// The letter a FHIR interaction needs (SMART v2 semantics; v1 maps onto them).
export const INTERACTION_LETTER = {
  read: 'r',
  vread: 'r',
  'history-instance': 'r',
  'history-type': 'r',
  'search-type': 's',
  'search-system': 's',
  create: 'c',
  update: 'u',
  patch: 'u',
  delete: 'd',
};

/**
 * True if the granted scope string permits `letter` on `resourceType`.
 * A patient/ scope is checked at the type level only: the sandbox does not
 * restrict results to the patient compartment (see README, "Limits").
 */
export function permits(scopeString, resourceType, letter) {
  for (const s of (scopeString ?? '').split(' ')) {
    const p = parseResourceScope(s);
    if (p && (p.type === '*' || p.type === resourceType) && p.letters.includes(letter)) {
      return true;
    }
  }
  return false;
}

const V2_SUBSETS = (() => {
  const out = [];
  const letters = 'cruds';
  for (let mask = 1; mask < 32; mask++) {
    let s = '';
    for (let i = 0; i < 5; i++) if (mask & (1 << i)) s += letters[i];
    out.push(s);
  }
  return out;
})();

/**
 * Every resource scope the authorization server recognises for the given
 * resource types. oidc-provider filters requested resource scopes by exact
 * membership in a resource server's `scope` string, so the set is enumerated.
 */
export function enumerateResourceScopes(resourceTypes, contexts = ['patient', 'user', 'system']) {
  const out = [];
  for (const context of contexts) {
    for (const type of ['*', ...resourceTypes]) {
      for (const perm of ['read', 'write', '*', ...V2_SUBSETS]) out.push(`${context}/${type}.${perm}`);
    }
  }
  return out;
}
