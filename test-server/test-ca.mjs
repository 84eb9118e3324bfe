// Makes a throw-away certificate authority and a server certificate it signed, with the openssl
// command line, for the TLS tests and the stand-in. Nothing here is ever trusted outside a test.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * @param {string[]} dnsNames  names the server certificate is valid for
 * @param {{caKeyBits?: number, keyBits?: number, digest?: string, ipAddresses?: string[]}} [strength]  RSA keys of
 *   these sizes instead of P-256 ones, and weaker
 *   keys and digests (RSA-1024, SHA-1) for the tests of certificates that OpenSSL refuses; and the
 *   addresses the certificate is valid for (127.0.0.1 and ::1 unless given)
 * @returns {{dir: string, caCert: string, caCertPath: string, key: string, cert: string}}
 */
export function createTestCa(dnsNames = ['localhost'], strength = {}) {
  const { caKeyBits, keyBits, digest = 'sha256', ipAddresses = ['127.0.0.1', '::1'] } = strength
  // P-256 unless RSA bits are asked for: an EC key is made in milliseconds, an RSA-2048 one in a
  // few hundred, and the TLS tests make a dozen CAs.
  const newKey = (bits) => (bits === undefined ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', `rsa:${bits}`])
  const dir = mkdtempSync(join(tmpdir(), 'runai-test-ca-'))
  const path = (name) => join(dir, name)
  const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  openssl(
    'req',
    '-x509',
    ...newKey(caKeyBits),
    '-nodes',
    '-keyout',
    path('ca.key'),
    '-out',
    path('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=runai-token-action test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign'
  )
  openssl(
    'req',
    ...newKey(keyBits),
    '-nodes',
    '-keyout',
    path('server.key'),
    '-out',
    path('server.csr'),
    '-subj',
    `/CN=${dnsNames[0] ?? ipAddresses[0]}`
  )
  const altNames = [...dnsNames.map((n) => `DNS:${n}`), ...ipAddresses.map((ip) => `IP:${ip}`)].join(',')
  writeFileSync(path('server.ext'), `subjectAltName=${altNames}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`)
  openssl(
    'x509',
    '-req',
    '-in',
    path('server.csr'),
    '-CA',
    path('ca.pem'),
    '-CAkey',
    path('ca.key'),
    '-CAcreateserial',
    '-out',
    path('server.pem'),
    '-days',
    '2',
    `-${digest}`,
    '-extfile',
    path('server.ext')
  )
  return {
    dir,
    caCert: readFileSync(path('ca.pem'), 'utf8'),
    caCertPath: path('ca.pem'),
    key: readFileSync(path('server.key'), 'utf8'),
    cert: readFileSync(path('server.pem'), 'utf8')
  }
}
