import { readFileSync } from 'node:fs'
import { X509Certificate } from 'node:crypto'
import { Input } from './constants.js'
import { InputError } from './errors.js'

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

export type ReadTextFile = (path: string) => string
const readUtf8: ReadTextFile = (path) => readFileSync(path, 'utf8')

/**
 * The certificate authorities to trust besides Node's roots when `ca-certificate` is set: the file
 * in NODE_EXTRA_CA_CERTS (which a `ca` option would otherwise drop) and the given ones. Undefined
 * when the input is empty, so that Node's default trust store applies unchanged.
 */
export function extraAuthorities(caInput: string, env: NodeJS.ProcessEnv, readFile: ReadTextFile = readUtf8): string[] | undefined {
  if (caInput === '') return undefined
  const fromEnv = env.NODE_EXTRA_CA_CERTS ? readOptional(env.NODE_EXTRA_CA_CERTS, readFile) : []
  return [...fromEnv, ...parseCaInput(caInput, readFile)]
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
  const blocks = pem.match(PEM_CERTIFICATE) ?? []
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
        `Input \`${Input.caCertificate}\`: certificate ${index + 1} of ${blocks.length} in ${source} is not a valid X.509 certificate.`
      )
    }
  })
  return blocks
}

function readOptional(path: string, readFile: ReadTextFile): string[] {
  try {
    return readFile(path).match(PEM_CERTIFICATE) ?? []
  } catch {
    return [] // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS; so do we, by ignoring it.
  }
}
