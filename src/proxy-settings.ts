import { checkBypass } from '@actions/http-client/lib/proxy'
import { ActionError } from './errors.js'

/** A proxy from HTTPS_PROXY, its credentials decoded. */
export interface Proxy {
  url: URL
  username: string
  password: string
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i

/**
 * The proxy for a control-plane URL: HTTPS_PROXY (or https_proxy), unless NO_PROXY names the host,
 * as @actions/http-client decides it. Plain http goes only to loopback, which is never proxied.
 * A value without a scheme (`proxy.corp:3128`, as curl takes it) means http://. A value that
 * cannot be read is an error: going direct instead would bypass the proxy the user set.
 */
export function proxyFor(target: URL, env: NodeJS.ProcessEnv = process.env): Proxy | undefined {
  const raw = env.https_proxy || env.HTTPS_PROXY
  if (!raw || target.protocol !== 'https:' || checkBypass(target)) return undefined
  // Never echo the value: it may carry a password.
  const unreadable = (why: string): ActionError =>
    new ActionError(
      `HTTPS_PROXY is set but ${why}. Set it to http://[user:password@]host:port (or https://…), or list the control plane's host in NO_PROXY.`
    )
  let url: URL
  try {
    url = new URL(SCHEME.test(raw) ? raw : `http://${raw}`)
  } catch {
    throw unreadable('is not a URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw unreadable(`uses ${url.protocol.slice(0, 20)}, which the action does not support`)
  try {
    return { url, username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
  } catch {
    throw unreadable('its user name or password is not validly percent-encoded')
  }
}
