import { readFileSync, statSync } from 'node:fs'
import { X509Certificate } from 'node:crypto'
import type * as tls from 'node:tls'
import { Input } from './constants.js'
import { InputError } from './errors.js'

const PEM_BEGIN = '-----BEGIN CERTIFICATE-----'
const PEM_END = '-----END CERTIFICATE-----'

/**
 * The PEM certificate blocks of a text, in order. A scan with indexOf, not a lazy regular
 * expression: `BEGIN[\s\S]+?END` runs to the end of the text from every BEGIN without an END,
 * quadratic in a file of BEGIN lines.
 */
function pemCertificates(text: string): string[] {
  const blocks: string[] = []
  let begin = text.indexOf(PEM_BEGIN)
  let end = begin === -1 ? -1 : text.indexOf(PEM_END, begin + PEM_BEGIN.length + 1)
  while (end !== -1) {
    blocks.push(text.slice(begin, end + PEM_END.length))
    begin = text.indexOf(PEM_BEGIN, end + PEM_END.length)
    end = begin === -1 ? -1 : text.indexOf(PEM_END, begin + PEM_BEGIN.length + 1)
  }
  return blocks
}

export type ReadTextFile = (path: string) => string
/** Larger than any bundle of CA certificates; `/dev/zero` would otherwise fill the memory. */
const MAX_CA_FILE_BYTES = 1024 * 1024
/**
 * A regular file of at most {@link MAX_CA_FILE_BYTES}, read whole. Checked first because the read
 * is synchronous, before any deadline: a FIFO nobody writes to, or a device, would block the
 * step for good.
 */
const readUtf8: ReadTextFile = (path) => {
  const stats = statSync(path)
  if (!stats.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'not a regular file' })
  if (stats.size > MAX_CA_FILE_BYTES) throw Object.assign(new Error('too large'), { code: `larger than ${MAX_CA_FILE_BYTES / 1024} KiB` })
  return readFileSync(path, 'utf8')
}

/** The part of node:tls that trust is built with; tests pass a stand-in. */
export type TlsModule = Pick<typeof tls, 'createSecureContext' | 'rootCertificates'> & {
  /** Node 22.15+: the certificates Node trusts by default. */
  getCACertificates?: (type: 'default') => string[]
}

/**
 * The TLS context of a run when `ca-certificate` is set: Node's default trust with the given CAs
 * added, never replaced. Adding to a context's store makes Node copy its shared store (bundled
 * roots, and since 22.15 NODE_EXTRA_CA_CERTS and the system store under `--use-system-ca`) in a
 * few milliseconds; a `ca` option would parse every root again instead (25 to 65 ms a run).
 * Where that call is missing, the documented way: a `ca` list of Node's defaults and the given CAs.
 */
export async function trustedContext(
  givenCa: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  tlsModule?: TlsModule,
  readFile: ReadTextFile = readUtf8
): Promise<tls.SecureContext> {
  const node = tlsModule ?? ((await import('node:tls')) as TlsModule)
  const hasDefaultList = typeof node.getCACertificates === 'function'
  // Before 22.15 (Node 20), NODE_EXTRA_CA_CERTS is in neither the copied store nor the root list.
  const fromEnv = !hasDefaultList && env.NODE_EXTRA_CA_CERTS ? readOptional(env.NODE_EXTRA_CA_CERTS, readFile) : []
  const context = node.createSecureContext()
  const store = (context as { context?: { addCACert?: (pem: string) => void } }).context
  if (typeof store?.addCACert === 'function') {
    for (const pem of [...fromEnv, ...givenCa]) store.addCACert(pem)
    return context
  }
  const defaults = node.getCACertificates?.('default') ?? [...node.rootCertificates, ...fromEnv]
  return node.createSecureContext({ ca: [...defaults, ...givenCa] })
}

/** `ca-certificate` is PEM text or the path of a PEM file; either way it must hold valid certificates. */
export function parseCaInput(caInput: string, readFile: ReadTextFile = readUtf8): string[] {
  let pem = caInput
  let source = 'the PEM text given'
  if (!caInput.includes('-----BEGIN')) {
    try {
      pem = readFile(caInput)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
      throw new InputError(
        `Input \`${Input.caCertificate}\` is neither PEM text (-----BEGIN CERTIFICATE-----…) nor a readable file: cannot read "${caInput.slice(0, 200)}" (${code}).`
      )
    }
    source = `the file "${caInput.slice(0, 200)}"`
  }
  // A PEM stored in a variable often arrives with its line breaks written as the two characters \n.
  const escapedNewlines = pem.includes('\\n') && !/-----BEGIN CERTIFICATE-----\r?\n/.test(pem)
  const escapeHint = escapedNewlines
    ? ' It holds the two characters \\n where line breaks belong (a certificate stored with escaped newlines): store the PEM text as it is, with real line breaks, for example in a secret.'
    : ''
  const blocks = pemCertificates(pem)
  if (blocks.length === 0) {
    throw new InputError(
      `Input \`${Input.caCertificate}\`: ${source} holds no PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----).`
    )
  }
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block)
    } catch {
      throw new InputError(
        `Input \`${Input.caCertificate}\`: certificate ${index + 1} of ${blocks.length} in ${source} is not a valid X.509 certificate.${escapeHint}`
      )
    }
  })
  return blocks
}

function readOptional(path: string, readFile: ReadTextFile): string[] {
  try {
    return pemCertificates(readFile(path))
  } catch {
    return [] // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS; so do we, by ignoring it.
  }
}
