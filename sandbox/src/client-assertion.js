// Prints a SMART Backend Services / private_key_jwt client assertion (RFC 7523).
// Usage: node src/client-assertion.js <client_id> <private-key.pem> <kid> <ES384|RS384> <token_endpoint_url>
import { randomUUID, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';

const [clientId, keyPath, kid, alg, aud] = process.argv.slice(2);
if (!aud) {
  console.error('usage: node src/client-assertion.js <client_id> <key.pem> <kid> <alg> <token_url>');
  process.exit(2);
}
const key = createPrivateKey(readFileSync(keyPath));
const jwt = await new SignJWT({})
  .setProtectedHeader({ alg, kid, typ: 'JWT' })
  .setIssuer(clientId)
  .setSubject(clientId)
  .setAudience(aud)
  .setJti(randomUUID())
  .setIssuedAt()
  .setExpirationTime('5m') // SMART: no more than five minutes in the future
  .sign(key);
process.stdout.write(jwt);
