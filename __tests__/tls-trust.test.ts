import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { extraAuthorities, parseCaInput } from '../src/tls-trust.js'
import { createTestCa } from '../test-server/test-ca.mjs'

let ca: ReturnType<typeof createTestCa>
beforeAll(() => {
  ca = createTestCa()
})
afterAll(() => rmSync(ca.dir, { recursive: true, force: true }))

describe('parseCaInput', () => {
  it('takes PEM text', () => {
    expect(parseCaInput(ca.caCert)).toEqual([ca.caCert.trim()])
  })

  it('takes a path to a PEM file, with several certificates', () => {
    const bundle = join(ca.dir, 'bundle.pem')
    writeFileSync(bundle, `${ca.caCert}\n${ca.cert}`)
    expect(parseCaInput(bundle)).toHaveLength(2)
  })

  it('refuses a path that cannot be read', () => {
    expect(() => parseCaInput('/no/such/ca.pem')).toThrow(
      'Input `ca-certificate` is neither PEM text (-----BEGIN CERTIFICATE-----…) nor a readable file: cannot read "/no/such/ca.pem" (ENOENT).'
    )
  })

  it('refuses a file without a certificate', () => {
    const notPem = join(ca.dir, 'not.pem')
    writeFileSync(notPem, 'hello')
    expect(() => parseCaInput(notPem)).toThrow(`Input \`ca-certificate\`: the file "${notPem}" holds no PEM certificate`)
  })

  it('refuses PEM text whose certificate does not parse', () => {
    expect(() => parseCaInput('-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----')).toThrow(
      'Input `ca-certificate`: certificate 1 of 1 in the PEM text given is not a valid X.509 certificate.'
    )
  })

  it('refuses a private key pasted by mistake, without echoing it', () => {
    let message = ''
    try {
      parseCaInput(ca.key)
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toBe(
      'Input `ca-certificate`: the PEM text given holds no PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----).'
    )
  })
})

describe('extraAuthorities', () => {
  it('leaves the default trust alone when the input is empty', () => {
    expect(extraAuthorities('', {})).toBeUndefined()
  })

  it('keeps the certificates of NODE_EXTRA_CA_CERTS beside the given CA', () => {
    const extra = join(ca.dir, 'extra.pem')
    writeFileSync(extra, ca.cert)
    expect(extraAuthorities(ca.caCert, { NODE_EXTRA_CA_CERTS: extra })).toEqual([ca.cert.trim(), ca.caCert.trim()])
  })
})
