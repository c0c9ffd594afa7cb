import {generateKeyPairSync, type KeyObject, randomUUID} from 'node:crypto'

/**
 * A throwaway Coinbase CDP API key for the loopback server: the shape Coinbase issues (key name
 * `organizations/<org>/apiKeys/<id>`, an EC P-256 private key in SEC1 PEM) and the only shape ccxt signs
 * with ES256. ccxt refuses a PKCS#8 PEM with a plain Error, so the encoding matters.
 */
export interface TestKey {
  /** The key name: ccxt's `apiKey`, the JWT's `kid` and `sub`. */
  name: string
  /** `-----BEGIN EC PRIVATE KEY-----` PEM: ccxt's `secret`. */
  privateKeyPem: string
  /** What the server verifies signatures with. */
  publicKey: KeyObject
}

export function testKey(org = 'test-org'): TestKey {
  const {privateKey, publicKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
  return {
    name: `organizations/${org}/apiKeys/${randomUUID()}`,
    privateKeyPem: privateKey.export({type: 'sec1', format: 'pem'}).toString(),
    publicKey,
  }
}
