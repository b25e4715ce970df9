// Generates the test clients of the sandbox into a run directory:
//   keys/<client>.pem      PKCS#8 private keys (ES384: P-384, RS384: RSA 2048)
//   clients.json           client metadata for the authorization server (public JWKS, secrets)
//   clients.env            `export VAR=...` lines naming ids, secrets, key paths and kids
// Private keys live only in the (gitignored) run directory and are made anew
// on every start, so none is ever committed.
//
// Usage: node src/make-clients.js <run-dir>

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { calculateJwkThumbprint, exportJWK } from 'jose';

const runDir = resolve(process.argv[2] ?? '.run');
const keyDir = join(runDir, 'keys');
mkdirSync(keyDir, { recursive: true });

// Registered redirect URI of the app clients. The tests never need to serve it:
// they read the code from the Location header of the last redirect.
const REDIRECT_URI = process.env.SANDBOX_REDIRECT_URI ?? 'http://127.0.0.1:9999/callback';

async function makeKey(name, alg) {
  const { privateKey, publicKey } =
    alg === 'ES384'
      ? generateKeyPairSync('ec', { namedCurve: 'P-384' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = await exportJWK(publicKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = alg;
  jwk.use = 'sig';
  const path = join(keyDir, `${name}.pem`);
  writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  chmodSync(path, 0o600);
  return { jwk, path };
}

const secret = () => randomBytes(32).toString('base64url');
const env = {};
const clients = [];

// Backend Services (SMART "system" scopes), one per asymmetric algorithm.
for (const alg of ['ES384', 'RS384']) {
  const id = `backend-${alg.toLowerCase()}`;
  const { jwk, path } = await makeKey(id, alg);
  clients.push({
    client_id: id,
    client_name: `Backend service (${alg})`,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: alg,
    jwks: { keys: [jwk] },
  });
  env[`SMART_BACKEND_${alg}_CLIENT_ID`] = id;
  env[`SMART_BACKEND_${alg}_KEY_PATH`] = path;
  env[`SMART_BACKEND_${alg}_KID`] = jwk.kid;
}

// Backend service with a shared secret (client_secret_basic).
const backendSecret = secret();
clients.push({
  client_id: 'backend-secret',
  client_name: 'Backend service (client_secret_basic)',
  client_secret: backendSecret,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: 'client_secret_basic',
});
env.SMART_BACKEND_SECRET_CLIENT_ID = 'backend-secret';
env.SMART_BACKEND_SECRET_CLIENT_SECRET = backendSecret;

// Apps using the authorization code flow (standalone and EHR launch).
const appBase = {
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: [REDIRECT_URI],
};
// Public app: no client authentication; a native app may use any port on 127.0.0.1.
clients.push({
  ...appBase,
  client_id: 'app-public',
  client_name: 'SMART app (public)',
  application_type: 'native',
  token_endpoint_auth_method: 'none',
});
env.SMART_PUBLIC_CLIENT_ID = 'app-public';

// Confidential symmetric app (client_secret_basic).
const appSecret = secret();
clients.push({
  ...appBase,
  client_id: 'app-confidential',
  client_name: 'SMART app (confidential symmetric)',
  client_secret: appSecret,
  token_endpoint_auth_method: 'client_secret_basic',
});
env.SMART_CONFIDENTIAL_CLIENT_ID = 'app-confidential';
env.SMART_CONFIDENTIAL_CLIENT_SECRET = appSecret;

// Confidential asymmetric app (private_key_jwt, ES384).
{
  const { jwk, path } = await makeKey('app-asymmetric', 'ES384');
  clients.push({
    ...appBase,
    client_id: 'app-asymmetric',
    client_name: 'SMART app (confidential asymmetric, ES384)',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES384',
    jwks: { keys: [jwk] },
  });
  env.SMART_ASYMMETRIC_CLIENT_ID = 'app-asymmetric';
  env.SMART_ASYMMETRIC_KEY_PATH = path;
  env.SMART_ASYMMETRIC_KID = jwk.kid;
}
env.SMART_REDIRECT_URI = REDIRECT_URI;

// The default client for programs that take one set of SMART_* variables
// (e.g. the quickstart run against this server): Backend Services with ES384.
// The names fhir-smart's `SmartEnv` reads: `. sandbox/.run/env` then any program runs as is.
env.SMART_CLIENT_ID = env.SMART_BACKEND_ES384_CLIENT_ID;
env.SMART_PRIVATE_KEY = env.SMART_BACKEND_ES384_KEY_PATH;
env.SMART_KID = env.SMART_BACKEND_ES384_KID;
env.SMART_ALG = 'ES384';
env.SMART_SCOPE = 'system/*.cruds';
// Earlier names of the same values, kept for scripts that use them.
env.SMART_PRIVATE_KEY_PATH = env.SMART_PRIVATE_KEY;
env.SMART_KEY_ID = env.SMART_KID;
env.SMART_SIGNING_ALG = env.SMART_ALG;

writeFileSync(join(runDir, 'clients.json'), `${JSON.stringify(clients, null, 2)}\n`, { mode: 0o600 });
const quote = (v) => `'${String(v).replace(/'/g, `'\\''`)}'`;
writeFileSync(
  join(runDir, 'clients.env'),
  Object.entries(env)
    .map(([k, v]) => `export ${k}=${quote(v)}`)
    .join('\n') + '\n',
  { mode: 0o600 },
);
console.log(`make-clients: ${clients.length} clients written to ${join(runDir, 'clients.json')}`);
