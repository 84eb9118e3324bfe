import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseCaInput, trustedContext, type TlsModule } from '../src/tls-trust.js'
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

  it('says "unreadable" when reading fails without a code', () => {
    const failing = () => {
      throw new Error('no')
    }
    expect(() => parseCaInput('/some/ca.pem', failing)).toThrow('cannot read "/some/ca.pem" (unreadable).')
  })

  it.each([
    ['a device', '/dev/zero'],
    ['a directory', '/tmp']
  ])('refuses %s at once, before reading it', (_, path) => {
    expect(() => parseCaInput(path)).toThrow(
      `Input \`ca-certificate\` is neither PEM text (-----BEGIN CERTIFICATE-----…) nor a readable file: cannot read "${path}" (not a regular file).`
    )
  })

  it('refuses a FIFO at once: reading one nobody writes to would block the step for good', () => {
    const fifo = join(ca.dir, 'fifo')
    execFileSync('mkfifo', [fifo])
    expect(() => parseCaInput(fifo)).toThrow('(not a regular file)')
  })

  it('refuses a file larger than 1 MiB', () => {
    const big = join(ca.dir, 'big.pem')
    writeFileSync(big, 'x'.repeat(1024 * 1024 + 1))
    expect(() => parseCaInput(big)).toThrow('(larger than 1024 KiB)')
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

  it('says so when the PEM text has its line breaks written as \\n', () => {
    const escaped = ca.caCert.trim().split('\n').join('\\n')
    expect(() => parseCaInput(escaped)).toThrow(
      'Input `ca-certificate`: certificate 1 of 1 in the PEM text given is not a valid X.509 certificate. It holds the two characters \\n where line breaks belong (a certificate stored with escaped newlines): store the PEM text as it is, with real line breaks, for example in a secret.'
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

describe('trustedContext', () => {
  /** A node:tls whose contexts record what they were built with and what was added to them. */
  function fakeTls(options: { canAdd: boolean; defaultList?: string[] }) {
    const built: unknown[] = []
    const added: string[] = []
    const tls: TlsModule = {
      rootCertificates: ['root-1', 'root-2'],
      createSecureContext: (opts) => {
        built.push(opts)
        return (options.canAdd ? { context: { addCACert: (pem: string) => void added.push(pem) } } : {}) as never
      },
      ...(options.defaultList === undefined ? {} : { getCACertificates: () => options.defaultList ?? [] })
    }
    return { tls, built, added }
  }
  const extraFile = () => {
    const path = join(ca.dir, 'extra.pem')
    writeFileSync(path, ca.cert)
    return path
  }

  it("Node 24: adds the given CA to a copy of Node's own store, without parsing the roots again", async () => {
    const { tls, built, added } = fakeTls({ canAdd: true, defaultList: ['default-1'] })
    await trustedContext([ca.caCert], { NODE_EXTRA_CA_CERTS: extraFile() }, tls)
    expect(built).toEqual([undefined])
    // NODE_EXTRA_CA_CERTS is in Node 24's copy already.
    expect(added).toEqual([ca.caCert])
  })

  it('Node 20: adds NODE_EXTRA_CA_CERTS too, which its copy leaves out', async () => {
    const { tls, added } = fakeTls({ canAdd: true })
    await trustedContext([ca.caCert], { NODE_EXTRA_CA_CERTS: extraFile() }, tls)
    expect(added).toEqual([ca.cert.trim(), ca.caCert])
  })

  it("without a store to add to: a ca list of Node's default list and the given CA", async () => {
    const { tls, built } = fakeTls({ canAdd: false, defaultList: ['default-1', 'default-2'] })
    await trustedContext([ca.caCert], {}, tls)
    expect(built).toEqual([undefined, { ca: ['default-1', 'default-2', ca.caCert] }])
  })

  it('without either: the bundled roots, NODE_EXTRA_CA_CERTS and the given CA; an unreadable file is skipped, as Node skips it', async () => {
    const withFile = fakeTls({ canAdd: false })
    await trustedContext([ca.caCert], { NODE_EXTRA_CA_CERTS: extraFile() }, withFile.tls)
    expect(withFile.built[1]).toEqual({ ca: ['root-1', 'root-2', ca.cert.trim(), ca.caCert] })
    const notPem = join(ca.dir, 'not-pem.txt')
    writeFileSync(notPem, 'no certificates here')
    const empty = fakeTls({ canAdd: false })
    await trustedContext([ca.caCert], { NODE_EXTRA_CA_CERTS: notPem }, empty.tls)
    expect(empty.built[1]).toEqual({ ca: ['root-1', 'root-2', ca.caCert] })
    const unreadable = fakeTls({ canAdd: false })
    await trustedContext([ca.caCert], { NODE_EXTRA_CA_CERTS: '/no/such/file.pem' }, unreadable.tls)
    expect(unreadable.built[1]).toEqual({ ca: ['root-1', 'root-2', ca.caCert] })
  })

  it('with the real node:tls, gives a context', async () => {
    expect(await trustedContext([ca.caCert], {})).toHaveProperty('context')
  })
})
