import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import nock from 'nock'
import { createServer, type Server } from 'node:http'
import { listenOnLoopback, type Loopback } from '../test-server/loopback.mjs'
import { printableLine } from '../src/log-boundary.js'
import { createTransport, type ApiRequest } from '../src/transport.js'
import { classifyRequestError, TransportError, type Peer } from '../src/transport-error.js'
import { MAX_ANSWER_BYTES, USER_AGENT } from '../src/constants.js'

const send = createTransport({ insecureSkipTlsVerify: false })
const post = (url: string, overrides: Partial<ApiRequest> = {}) =>
  send({
    url,
    contentType: 'application/json',
    body: '{"grantType":"client_credentials"}',
    userAgent: USER_AGENT,
    timeoutMs: 5_000,
    ...overrides
  })

describe('transport (nock)', () => {
  beforeAll(() => {
    if (!nock.isActive()) nock.activate()
    nock.disableNetConnect()
  })
  afterEach(() => nock.cleanAll())
  // nock patches node:http for the whole worker process; later test files there need the real one.
  afterAll(() => {
    nock.enableNetConnect()
    nock.restore()
  })

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

  it('GETs with the query and the bearer token, without a body or its headers; a body without a type is JSON', async () => {
    const lookup = nock('https://runai.example.com', {
      badheaders: ['content-type', 'content-length'],
      reqheaders: { authorization: 'Bearer t0ken' }
    })
      .get('/api/v1/clusters')
      .query({ verbosity: 'metadata' })
      .reply(200, '[]')
    await expect(
      send({
        method: 'GET',
        url: 'https://runai.example.com/api/v1/clusters?verbosity=metadata',
        authorization: 'Bearer t0ken',
        userAgent: USER_AGENT,
        timeoutMs: 5_000
      })
    ).resolves.toMatchObject({ status: 200, body: '[]' })
    lookup.done()
    const untyped = nock('https://runai.example.com', { reqheaders: { 'content-type': 'application/json' } })
      .post('/x', '{}')
      .reply(200, '{}')
    await expect(send({ url: 'https://runai.example.com/x', body: '{}', userAgent: USER_AGENT, timeoutMs: 5_000 })).resolves.toMatchObject({
      status: 200
    })
    untyped.done()
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
      'the answer from runai.example.com is larger than 1 MiB, far more than any answer of the Run:ai API, so `url` probably does not point at it.'
    )
  })
})

const nodeError = (code: string, message: string) => Object.assign(new Error(message), { code })

const controlPlane: Peer = { role: 'control plane', label: 'runai.example.com' }
const proxy: Peer = { role: 'proxy', label: 'proxy.corp:3128' }
const classified = (code: string, message: string, peer = controlPlane) => {
  const error = classifyRequestError(nodeError(code, message), peer)
  return { kind: error.kind, peer: error.peer, message: printableLine(error.message, []) }
}

describe('classifyRequestError', () => {
  it('a reset connection is a connection failure', () => {
    expect(classified('ECONNRESET', 'socket hang up')).toEqual({
      kind: 'connection',
      peer: 'control plane',
      message: 'could not talk to runai.example.com: ECONNRESET (socket hang up).'
    })
  })

  it('a DNS failure points at url, or at HTTPS_PROXY for the proxy', () => {
    expect(classified('ENOTFOUND', 'getaddrinfo ENOTFOUND runai.example.com')).toEqual({
      kind: 'dns',
      peer: 'control plane',
      message: 'the host of runai.example.com could not be found (DNS lookup failed); check `url`, and behind a proxy set HTTPS_PROXY.'
    })
    expect(classified('ENOTFOUND', 'getaddrinfo ENOTFOUND proxy.corp', proxy)).toEqual({
      kind: 'dns',
      peer: 'proxy',
      message: 'the host of the proxy proxy.corp:3128 (from HTTPS_PROXY) could not be found (DNS lookup failed); check HTTPS_PROXY.'
    })
  })

  it.each(['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'])(
    '%s is a certificate failure that points at ca-certificate',
    (code) => {
      expect(classified(code, 'unable to verify the first certificate')).toEqual({
        kind: 'certificate',
        peer: 'control plane',
        message: `the TLS certificate of runai.example.com was refused: unable to verify the first certificate (${code}). If it comes from a private CA, pass that CA in \`ca-certificate\` (PEM text or a file path) or point NODE_EXTRA_CA_CERTS at it; if the runner's system store trusts it, set \`NODE_OPTIONS: --use-system-ca\` in the step's \`env:\` (Node 24 reads that store then).`
      })
    }
  )

  it.each([
    ['EE certificate key too weak', 'UNSPECIFIED'],
    ['CA certificate key too weak', 'UNSPECIFIED'],
    ['CA signature digest algorithm too weak', 'UNSPECIFIED']
  ])('OpenSSL\'s refusal "%s" (code %s) names the weakness and the fix', (reason, code) => {
    expect(classified(code, reason)).toEqual({
      kind: 'certificate',
      peer: 'control plane',
      message: `the TLS certificate of runai.example.com was refused: ${reason} (${code}). Node 24, which runs this action, refuses RSA keys under 2048 bits and SHA-1 signatures: the certificate has to be reissued with an RSA key of 2048 bits or more (or ECDSA) and a SHA-256 signature.`
    })
  })

  it('an expired certificate points at its dates, a wrong host at the name', () => {
    expect(classified('CERT_HAS_EXPIRED', 'certificate has expired').message).toMatch(
      /\(CERT_HAS_EXPIRED\)\. Check the certificate's dates and the runner's clock\.$/
    )
    expect(classified('ERR_TLS_CERT_ALTNAME_INVALID', "Host: x. is not in the cert's altnames: DNS:##[stop-commands]y").message).toBe(
      "the TLS certificate of runai.example.com was refused: Host: x. is not in the cert's altnames: DNS:## [stop-commands]y (ERR_TLS_CERT_ALTNAME_INVALID). Use the host name the certificate is issued for."
    )
  })

  it("the proxy's certificate is named as the proxy's", () => {
    expect(classified('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain', proxy)).toMatchObject({
      kind: 'certificate',
      peer: 'proxy',
      message: expect.stringMatching(/^the TLS certificate of the proxy proxy\.corp:3128 \(from HTTPS_PROXY\) was refused/)
    })
  })

  it('TLS that cannot be agreed on is its own kind', () => {
    expect(classified('ERR_SSL_NO_SHARED_CIPHER', 'no shared cipher')).toEqual({
      kind: 'tls',
      peer: 'control plane',
      message: 'could not agree on TLS with runai.example.com: no shared cipher. Check that it speaks https on that port.'
    })
  })

  it.each([
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'C0B7E4F7:error:0A00010B:SSL routines:ssl3_get_record:wrong version number'],
    ['EPROTO', 'write EPROTO 40A8:error:0A00010B:SSL routines:ssl3_get_record:wrong version number'],
    ['ERR_SSL_PACKET_LENGTH_TOO_LONG', 'packet length too long']
  ])('TLS spoken to a plain-http port (%s) says so, without OpenSSL internals', (code, message) => {
    expect(classified(code, message)).toEqual({
      kind: 'tls',
      peer: 'control plane',
      message:
        'runai.example.com answered in plain http, not TLS: that port does not speak https. Use the https port of the control plane in `url` (plain http:// is allowed only for loopback).'
    })
  })

  it('an error without a code is quoted as it is', () => {
    expect(classified('', 'socket hang up').message).toBe('could not talk to runai.example.com: socket hang up.')
    expect(classified('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1').message).toBe(
      'could not talk to runai.example.com: connect ECONNREFUSED 127.0.0.1:1.'
    )
  })

  it('an error without a code is quoted as it is too', () => {
    expect(printableLine(classifyRequestError(new Error('odd failure'), controlPlane).message, [])).toBe(
      'could not talk to runai.example.com: odd failure.'
    )
  })

  it('keeps a TransportError as it is', () => {
    const original = new TransportError('no answer', 'timeout', 'control plane')
    expect(classifyRequestError(original, controlPlane)).toBe(original)
  })
})

describe('transport (loopback server)', () => {
  let server: Server
  let listening: Loopback
  let base = ''
  let behaviour: 'hang' | 'truncate' | 'bare' | 'ok' = 'ok'
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume()
      if (behaviour === 'hang') return
      if (behaviour === 'bare') return void res.writeHead(204).end()
      if (behaviour === 'truncate') {
        res.writeHead(200, { 'Content-Length': '1000', 'Content-Type': 'application/json' })
        res.write('{"access')
        setTimeout(() => res.destroy(), 10)
        return
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"access_token":"t"}')
    })
    listening = await listenOnLoopback(server)
    base = `http://127.0.0.1:${listening.port}`
  })
  afterAll(() => listening.close())

  it('talks plain http to loopback', async () => {
    behaviour = 'ok'
    await expect(post(`${base}/api/v2/token`)).resolves.toMatchObject({ status: 200, body: '{"access_token":"t"}' })
  })

  it('gives up on a server that never answers after the attempt timeout', async () => {
    behaviour = 'hang'
    const started = Date.now()
    const error = (await post(`${base}/api/v2/token`, { timeoutMs: 300 }).catch((e: unknown) => e)) as TransportError
    expect(error.message).toBe(`no answer from ${base.slice(7)} within 1 s.`)
    expect(error.kind).toBe('timeout')
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('reports a truncated answer', async () => {
    behaviour = 'truncate'
    const error = (await post(`${base}/api/v2/token`).catch((e: unknown) => e)) as TransportError
    expect(error).toBeInstanceOf(TransportError)
    expect(error.message).toMatch(
      /^the connection to 127\.0\.0\.1:\d+ closed before the whole answer arrived\.$|^could not talk to 127\.0\.0\.1:\d+: (ECONNRESET|aborted)/
    )
    expect(['truncated', 'connection']).toContain(error.kind)
  })

  it('takes port 80 for http without a port', async () => {
    const error = (await post('http://127.0.0.1/api/v2/token').catch((e: unknown) => e)) as TransportError
    expect(printableLine(error.message, [])).toBe('could not talk to 127.0.0.1: connect ECONNREFUSED 127.0.0.1:80.')
  })

  it('hands back an empty content type when the server sends none', async () => {
    behaviour = 'bare'
    await expect(post(`${base}/api/v2/token`)).resolves.toMatchObject({ status: 204, contentType: '' })
  })

  it('reports a refused connection', async () => {
    const error = (await post('http://127.0.0.1:1/api/v2/token').catch((e: unknown) => e)) as TransportError
    expect(printableLine(error.message, [])).toMatch(/^could not talk to 127\.0\.0\.1:1: connect ECONNREFUSED/)
    expect(error.kind).toBe('connection')
  })
})
