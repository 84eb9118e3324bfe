import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import nock from 'nock'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { classifyRequestError, createTransport, type PostRequest } from '../src/transport.js'
import { TransportError } from '../src/transport-error.js'
import { MAX_ANSWER_BYTES, USER_AGENT } from '../src/constants.js'

const send = createTransport({ insecureSkipTlsVerify: false })
const post = (url: string, overrides: Partial<PostRequest> = {}) =>
  send({
    url,
    contentType: 'application/json',
    body: '{"grantType":"client_credentials"}',
    userAgent: USER_AGENT,
    timeoutMs: 5_000,
    ...overrides
  })

describe('transport (nock)', () => {
  beforeAll(() => nock.disableNetConnect())
  afterEach(() => nock.cleanAll())
  afterAll(() => nock.enableNetConnect())

  it('POSTs the body with its content type, JSON accept and the user agent', async () => {
    const scope = nock('https://runai.example.com', {
      reqheaders: { 'content-type': 'application/json', accept: 'application/json', 'user-agent': USER_AGENT }
    })
      .post('/prefix/api/v1/token', { grantType: 'client_credentials' })
      .reply(200, { accessToken: 'x' }, { 'Content-Type': 'application/json' })
    await expect(post('https://runai.example.com/prefix/api/v1/token')).resolves.toEqual({
      status: 200,
      contentType: 'application/json',
      body: '{"accessToken":"x"}'
    })
    scope.done()
  })

  it('does not follow a redirect, and hands back its Location', async () => {
    nock('https://runai.example.com').post('/api/v2/token').reply(302, '', { Location: 'https://elsewhere.example.com/api/v2/token' })
    const elsewhere = nock('https://elsewhere.example.com').post('/api/v2/token').reply(200, { access_token: 'stolen' })
    await expect(post('https://runai.example.com/api/v2/token')).resolves.toMatchObject({
      status: 302,
      location: 'https://elsewhere.example.com/api/v2/token'
    })
    expect(elsewhere.isDone()).toBe(false)
  })

  it('hands back Retry-After', async () => {
    nock('https://runai.example.com').post('/api/v2/token').reply(429, '{}', { 'Retry-After': '3' })
    await expect(post('https://runai.example.com/api/v2/token')).resolves.toMatchObject({ status: 429, retryAfter: '3' })
  })

  it('refuses an answer larger than 1 MiB without holding it all', async () => {
    nock('https://runai.example.com')
      .post('/api/v2/token')
      .reply(200, 'x'.repeat(MAX_ANSWER_BYTES + 10))
    await expect(post('https://runai.example.com/api/v2/token')).rejects.toThrow(
      'the answer from runai.example.com is larger than 1 MiB; a token answer is a few kilobytes, so `url` probably does not point at the Run:ai API.'
    )
  })
})

const nodeError = (code: string, message: string) => Object.assign(new Error(message), { code })

describe('classifyRequestError', () => {
  it('a reset connection is transient', () => {
    const error = classifyRequestError(nodeError('ECONNRESET', 'socket hang up'), 'runai.example.com')
    expect(error.message).toBe('could not talk to runai.example.com: ECONNRESET (socket hang up).')
    expect(error.transient).toBe(true)
  })

  it('a DNS failure is final and points at url', () => {
    const error = classifyRequestError(nodeError('ENOTFOUND', 'getaddrinfo ENOTFOUND runai.example.com'), 'runai.example.com')
    expect(error.message).toBe('the host runai.example.com could not be found (DNS lookup failed); check `url`.')
    expect(error.transient).toBe(false)
  })

  it.each(['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID'])(
    '%s is final and points at ca-certificate',
    (code) => {
      const error = classifyRequestError(nodeError(code, 'certificate problem'), 'runai.example.com')
      expect(error.message).toBe(
        `the TLS certificate of runai.example.com could not be verified (${code}: certificate problem). If the control plane uses a private CA, pass that CA's certificate in \`ca-certificate\` (PEM text or a file path) or point NODE_EXTRA_CA_CERTS at it.`
      )
      expect(error.transient).toBe(false)
    }
  )

  it('keeps a TransportError as it is', () => {
    const original = new TransportError('no answer', true)
    expect(classifyRequestError(original, 'x')).toBe(original)
  })
})

describe('transport (loopback server)', () => {
  let server: Server
  let base = ''
  let behaviour: 'hang' | 'truncate' | 'ok' = 'ok'
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume()
      if (behaviour === 'hang') return
      if (behaviour === 'truncate') {
        res.writeHead(200, { 'Content-Length': '1000', 'Content-Type': 'application/json' })
        res.write('{"access')
        setTimeout(() => res.destroy(), 10)
        return
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"access_token":"t"}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  it('talks plain http to loopback', async () => {
    behaviour = 'ok'
    await expect(post(`${base}/api/v2/token`)).resolves.toMatchObject({ status: 200, body: '{"access_token":"t"}' })
  })

  it('gives up on a server that never answers after the attempt timeout', async () => {
    behaviour = 'hang'
    const started = Date.now()
    const error = (await post(`${base}/api/v2/token`, { timeoutMs: 300 }).catch((e: unknown) => e)) as TransportError
    expect(error.message).toBe(`no answer from ${base.slice(7)} within 1 s.`)
    expect(error.transient).toBe(true)
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('reports a truncated answer as transient', async () => {
    behaviour = 'truncate'
    const error = (await post(`${base}/api/v2/token`).catch((e: unknown) => e)) as TransportError
    expect(error).toBeInstanceOf(TransportError)
    expect(error.message).toMatch(
      /^the connection to 127\.0\.0\.1:\d+ closed before the whole answer arrived\.$|^could not talk to 127\.0\.0\.1:\d+: (ECONNRESET|aborted)/
    )
    expect(error.transient).toBe(true)
  })

  it('reports a refused connection as transient', async () => {
    const error = (await post('http://127.0.0.1:1/api/v2/token').catch((e: unknown) => e)) as TransportError
    expect(error.message).toMatch(/^could not talk to 127\.0\.0\.1:1: ECONNREFUSED/)
    expect(error.transient).toBe(true)
  })
})
