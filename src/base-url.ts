import { InputError } from './errors.js'

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i
// Users often paste the token endpoint itself; the action adds it back per generation.
const TOKEN_PATH_SUFFIX = /\/api\/v[12]\/token$/i

/** The host of a URL as sockets and TLS take it: an IPv6 address without its brackets. */
export function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '')
}

/** True for hosts that never leave this machine, where plain http cannot be sniffed. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase()
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

/**
 * Turns the `url` input into the control plane's base URL: `https://host[:port][/prefix]`, no
 * trailing slash. Throws an InputError naming `url` for anything that cannot be a safe base.
 */
export function normalizeBaseUrl(raw: string): string {
  // A fragment never reaches a server: an address copied from the UI (https://x.run.ai/#/dashboard)
  // means the control plane itself. main.ts notes it in the debug log.
  const text = withoutFragment(raw.trim())
  if (text === '') {
    throw new InputError('Input `url` is required: set it to the Run:ai control-plane address, for example https://mycompany.run.ai.')
  }
  const withScheme = SCHEME.test(text) ? text : `https://${text}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new InputError(
      `Input \`url\` is not a valid URL: "${safeEcho(text)}". Set it to the Run:ai control-plane address, for example https://mycompany.run.ai.`
    )
  }
  if (url.username !== '' || url.password !== '') {
    // Never echo the value: the part before @ is a credential.
    throw new InputError(
      'Input `url` must not carry credentials (user:password@host). Pass the client ID and secret as `client-id` and `client-secret`.'
    )
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InputError(`Input \`url\` must be an https:// address; "${url.protocol}" is not supported.`)
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new InputError(
      `Input \`url\` uses plain http:// for ${url.hostname}, which would send the client secret unencrypted. Use https:// (plain http is allowed only for loopback hosts, for local testing).`
    )
  }
  if (url.search !== '' || text.includes('?')) {
    throw new InputError('Input `url` must not contain a query (?…): give the address of the Run:ai UI only.')
  }
  const path = withoutTrailingSlashes(withoutTrailingSlashes(url.pathname).replace(TOKEN_PATH_SUFFIX, ''))
  return `${url.protocol}//${url.host}${path}`
}

/** The URL text before its first #. */
function withoutFragment(text: string): string {
  const hash = text.indexOf('#')
  return hash === -1 ? text : text.slice(0, hash)
}

/** A loop, not `/\/+$/`: that pattern backtracks over every run of slashes, quadratic in the input. */
function withoutTrailingSlashes(path: string): string {
  let end = path.length
  while (end > 0 && path[end - 1] === '/') end--
  return path.slice(0, end)
}

/** Echoes an unparseable `url` for the user, unless it might hold a credential. */
function safeEcho(text: string): string {
  return text.includes('@') ? '<hidden: contains @>' : text.slice(0, 200)
}
