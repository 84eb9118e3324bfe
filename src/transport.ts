import * as http from 'node:http'
import type * as https from 'node:https'
import type * as tls from 'node:tls'
import { isIP, type Socket } from 'node:net'
import { getProxyUrl } from '@actions/http-client/lib/proxy'
import { MAX_ANSWER_BYTES } from './constants.js'
import type { HttpAnswer } from './token-answer.js'
import { TransportError } from './transport-error.js'
import { openTunnel } from './proxy-tunnel.js'

export interface PostRequest {
  url: string
  contentType: string
  body: string
  userAgent: string
  timeoutMs: number
}

export type SendRequest = (request: PostRequest) => Promise<HttpAnswer>

export interface TlsTrust {
  /** Trusted besides Node's root certificates (from `ca-certificate` and NODE_EXTRA_CA_CERTS). */
  extraCa?: string[]
  insecureSkipTlsVerify: boolean
}

// Verification failures: retrying cannot help, the user has to fix the trust.
const CERTIFICATE_ERRORS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH'
])
// Failures that a second try will not mend either.
const PERMANENT_ERRORS = new Set(['ENOTFOUND', 'ERR_INVALID_URL', 'EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER'])

/**
 * POSTs one request and reads the answer. Redirects are never followed (the body carries the
 * secret); proxies come from HTTPS_PROXY/NO_PROXY as @actions/http-client reads them.
 */
export function createTransport(trust: TlsTrust): SendRequest {
  return (request) => post(request, trust)
}

async function post(request: PostRequest, trust: TlsTrust): Promise<HttpAnswer> {
  const target = new URL(request.url)
  const controller = new AbortController()
  const timedOut = new TransportError(`no answer from ${target.host} within ${Math.ceil(request.timeoutMs / 1000)} s.`, true)
  const timer = setTimeout(() => controller.abort(timedOut), request.timeoutMs)
  let tunnel: Socket | undefined
  try {
    const isHttps = target.protocol === 'https:'
    const port = Number(target.port || (isHttps ? 443 : 80))
    const host = target.hostname.replace(/^\[|\]$/g, '')
    // Plain http is only allowed for loopback, which @actions/http-client never proxies.
    const proxy = isHttps ? getProxyUrl(target) : undefined
    tunnel = proxy === undefined ? undefined : await openTunnel(proxy, host, port, controller.signal)
    // Loaded only when needed: a plain-http run (loopback, for tests and the demo) never uses TLS.
    const tls = isHttps ? await import('node:tls') : undefined
    const tlsOptions: tls.ConnectionOptions = {
      rejectUnauthorized: !trust.insecureSkipTlsVerify,
      // A `ca` option replaces Node's roots, so they are put back in front of the extra ones.
      ...(trust.extraCa === undefined || tls === undefined ? {} : { ca: [...tls.rootCertificates, ...trust.extraCa] }),
      // SNI takes names only, not addresses.
      ...(isIP(host) === 0 ? { servername: host } : {})
    }
    const options: https.RequestOptions = {
      host,
      port,
      path: target.pathname,
      method: 'POST',
      signal: controller.signal,
      headers: {
        'Content-Type': request.contentType,
        'Content-Length': Buffer.byteLength(request.body),
        Accept: 'application/json',
        'User-Agent': request.userAgent
      },
      ...(isHttps ? tlsOptions : {}),
      // No pooled connections: one request per socket, closed when answered, so the process can exit.
      // Node only uses createConnection when no agent is given, so the tunnel case leaves agent out.
      ...(tunnel === undefined || tls === undefined
        ? { agent: false }
        : { createConnection: () => tls.connect({ ...tlsOptions, socket: tunnel }) as Socket })
    }
    const send = isHttps ? (await import('node:https')).request : http.request
    return await exchange(send, options, request.body, target.host, controller)
  } catch (error) {
    throw controller.signal.aborted ? controller.signal.reason : classifyRequestError(error, target.host)
  } finally {
    clearTimeout(timer)
    tunnel?.destroy()
  }
}

function exchange(
  send: typeof https.request,
  options: https.RequestOptions,
  body: string,
  hostLabel: string,
  controller: AbortController
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = send(options, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_ANSWER_BYTES) {
          controller.abort(
            new TransportError(
              `the answer from ${hostLabel} is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB; a token answer is a few kilobytes, so \`url\` probably does not point at the Run:ai API.`,
              false
            )
          )
          return
        }
        chunks.push(chunk)
      })
      res.once('end', () => {
        if (!res.complete) {
          reject(new TransportError(`the connection to ${hostLabel} closed before the whole answer arrived.`, true))
          return
        }
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'] ?? '',
          ...(res.headers.location === undefined ? {} : { location: res.headers.location }),
          ...(headerText(res.headers['retry-after']) === undefined ? {} : { retryAfter: headerText(res.headers['retry-after']) }),
          body: Buffer.concat(chunks).toString('utf8')
        })
      })
      res.once('error', reject)
      res.once('aborted', () => reject(new TransportError(`the connection to ${hostLabel} closed before the whole answer arrived.`, true)))
    })
    req.once('error', reject)
    req.end(body)
  })
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** Turns a Node request error into a sentence for the user, and says whether retrying may help. */
export function classifyRequestError(error: unknown, hostLabel: string): TransportError {
  if (error instanceof TransportError) return error
  const err = error as NodeJS.ErrnoException
  const code = err.code ?? ''
  if (CERTIFICATE_ERRORS.has(code)) {
    return new TransportError(
      `the TLS certificate of ${hostLabel} could not be verified (${code}: ${err.message}). If the control plane uses a private CA, pass that CA's certificate in \`ca-certificate\` (PEM text or a file path) or point NODE_EXTRA_CA_CERTS at it.`,
      false
    )
  }
  if (code === 'ENOTFOUND') {
    return new TransportError(`the host ${hostLabel} could not be found (DNS lookup failed); check \`url\`.`, false)
  }
  const reason = code !== '' ? `${code}${err.message && !err.message.includes(code) ? ` (${err.message})` : ''}` : err.message
  return new TransportError(`could not talk to ${hostLabel}: ${reason}.`, !PERMANENT_ERRORS.has(code))
}
