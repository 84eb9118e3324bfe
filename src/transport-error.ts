import { untrusted } from './log-boundary.js'

/** What went wrong on the way, named for the retry policy (retry.ts) and the user's message. */
export type FailureKind =
  /** No answer in time. */
  | 'timeout'
  /** Refused, reset or dropped connection, or a name server that did not answer in time. */
  | 'connection'
  /** The answer stopped before its end. */
  | 'truncated'
  /** The host name does not resolve. */
  | 'dns'
  /** The peer's certificate was refused: unknown issuer, expired, wrong host, too weak. */
  | 'certificate'
  /** TLS could not be agreed on at all (plain http on a TLS port, protocol versions). */
  | 'tls'
  /** The answer is too large to be a token answer. */
  | 'too-large'
  /** The peer switched protocols (HTTP 101) instead of answering. */
  | 'switched-protocols'
  /** The proxy answered the CONNECT with something other than 200. */
  | 'proxy-refused'

/** Which end of the connection failed: the user fixes different settings for each. */
export type Peer = { role: 'control plane' | 'proxy'; label: string }

/** A request that got no usable HTTP answer. Whether trying again may help is retry.ts's call. */
export class TransportError extends Error {
  override name = 'TransportError'
  /** The same in the action's own words only (no text of Node's), for plain log lines. */
  readonly plain: string
  /** Node's error code (ECONNREFUSED…), where there is one. */
  readonly code: string | undefined
  constructor(
    message: string,
    readonly kind: FailureKind,
    readonly peer: Peer['role'],
    /** The proxy's HTTP status, for `proxy-refused`. */
    readonly status?: number,
    extra: { plain?: string; code?: string } = {}
  ) {
    super(message)
    this.plain = extra.plain ?? message
    this.code = extra.code
  }
}

// Node's error codes are its own words; anything else in `code` is not printed.
const ERROR_CODE = /^[A-Z][A-Z0-9_]{1,40}$/

// Node's names for OpenSSL's verification failures (X509_V_ERR_*), and its own for a host name the
// certificate does not cover. OpenSSL's security-level refusals (a key or a digest too weak) have
// no name in Node and arrive as UNSPECIFIED, with OpenSSL's reason as the message.
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNSPECIFIED'
])
const DNS_CODES = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME'])

const PRIVATE_CA_HINT =
  "If it comes from a private CA, pass that CA in `ca-certificate` (PEM text or a file path) or point NODE_EXTRA_CA_CERTS at it; if the runner's system store trusts it, set `NODE_OPTIONS: --use-system-ca` in the step's `env:` (Node 24 reads that store then)."
const WEAK_CERTIFICATE_HINT =
  'Node 24, which runs this action, refuses RSA keys under 2048 bits and SHA-1 signatures: the certificate has to be reissued with an RSA key of 2048 bits or more (or ECDSA) and a SHA-256 signature.'

/** Turns a Node request error into a sentence for the user that names the failing end and what to do. */
export function classifyRequestError(error: unknown, peer: Peer): TransportError {
  if (error instanceof TransportError) return error
  const err = error as NodeJS.ErrnoException
  const code = typeof err.code === 'string' && ERROR_CODE.test(err.code) ? err.code : ''
  const reason = untrusted(err.message)
  const whose = peer.role === 'proxy' ? `the proxy ${peer.label} (from HTTPS_PROXY)` : peer.label
  if (CERTIFICATE_CODES.has(code)) {
    return new TransportError(
      `the TLS certificate of ${whose} was refused: ${reason} (${code}). ${certificateHint(code, err.message)}`,
      'certificate',
      peer.role,
      undefined,
      { plain: `the TLS certificate of ${whose} was refused (${code})`, code }
    )
  }
  if (DNS_CODES.has(code)) {
    const fix = peer.role === 'proxy' ? 'check HTTPS_PROXY' : 'check `url`, and behind a proxy set HTTPS_PROXY'
    return new TransportError(`the host of ${whose} could not be found (DNS lookup failed); ${fix}.`, 'dns', peer.role)
  }
  if ((code === 'EPROTO' || code.startsWith('ERR_SSL_')) && /wrong version number|packet length too long|http request/i.test(err.message)) {
    // OpenSSL's words for a TLS hello answered in plain text: the port speaks http, not https.
    return new TransportError(
      `${whose} answered in plain http, not TLS: that port does not speak https. Use the https port of the control plane in \`url\` (plain http:// is allowed only for loopback).`,
      'tls',
      peer.role,
      undefined,
      { code }
    )
  }
  if (code === 'EPROTO' || code.startsWith('ERR_SSL_')) {
    return new TransportError(
      `could not agree on TLS with ${whose}: ${reason}. Check that it speaks https on that port.`,
      'tls',
      peer.role,
      undefined,
      {
        plain: `could not agree on TLS with ${whose}`,
        code
      }
    )
  }
  const detail = code !== '' && !err.message.includes(code) ? `${code} (${reason})` : reason
  return new TransportError(`could not talk to ${whose}: ${detail}.`, 'connection', peer.role, undefined, {
    plain: code === '' ? `could not talk to ${whose}` : `could not talk to ${whose} (${code})`,
    ...(code === '' ? {} : { code })
  })
}

function certificateHint(code: string, message: string): string {
  if (/too weak|too small/i.test(message)) return WEAK_CERTIFICATE_HINT
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return "Check the certificate's dates and the runner's clock."
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') {
    return 'Use the host name the certificate is issued for.'
  }
  return PRIVATE_CA_HINT
}
