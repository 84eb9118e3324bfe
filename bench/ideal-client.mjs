// The ideal client of the network benchmark: the least any client could do to send the same
// requests as the action. Started like the action (bench/network.mjs runs it with runLikeRunner),
// it reads the same INPUT_* variables, opens ONE TCP connection (through ONE CONNECT tunnel when
// HTTPS_PROXY is set), does ONE TLS handshake, sends the POSTs named in INPUT_IDEAL-SEQUENCE one
// after the other on that connection with keep-alive, whatever they answer, without waiting in
// between, then hands on the token of the last answer as the floor does (bench/floor.mjs) and
// closes the connection without waiting for the server. No validation, no retries, no fallback
// logic: it already knows the answers.
//
// Trust is the action's: Node's root certificates plus the `ca-certificate` file (when given). It
// is built the cheapest way known on Node 20, adding the file to a default context's store
// (`secureContext.context.addCACert`, about 2 ms), not with `ca: [...tls.rootCertificates, pem]`,
// which parses the 144 roots again (tens of milliseconds); see bench/NOTES.md.
import { request as httpRequest } from 'node:http'
import { Agent, request } from 'node:https'
import { connect as tlsConnect, createSecureContext } from 'node:tls'
import { appendFileSync, readFileSync } from 'node:fs'

const env = process.env
const base = new URL(env.INPUT_URL)
const id = env['INPUT_CLIENT-ID'] ?? ''
const secret = env['INPUT_CLIENT-SECRET'] ?? ''
// The same bodies and headers as the action sends (src/generations.ts).
const requests = {
  v2: {
    path: '/api/v2/token',
    type: 'application/x-www-form-urlencoded',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_secret: secret }).toString()
  },
  v1: {
    path: '/api/v1/token',
    type: 'application/json',
    body: JSON.stringify({ grantType: 'client_credentials', clientId: id, clientSecret: secret })
  },
  'v1-app-token': {
    path: '/api/v1/token',
    type: 'application/json',
    body: JSON.stringify({ grantType: 'app_token', AppId: id, AppSecret: secret })
  }
}
const sequence = (env['INPUT_IDEAL-SEQUENCE'] ?? 'v2').split(',').map((name) => requests[name])
const port = Number(base.port || 443)
const secureContext = createSecureContext()
if (env['INPUT_CA-CERTIFICATE']) secureContext.context.addCACert(readFileSync(env['INPUT_CA-CERTIFICATE'], 'utf8'))
const agent = new Agent({ keepAlive: true, maxSockets: 1, secureContext })

const proxy = env.HTTPS_PROXY
if (proxy !== undefined) {
  const proxyUrl = new URL(proxy)
  const authority = `${base.hostname}:${port}`
  const tunnel = await new Promise((resolve, reject) => {
    const connectRequest = httpRequest({
      host: proxyUrl.hostname,
      port: proxyUrl.port,
      method: 'CONNECT',
      path: authority,
      headers: { Host: authority }
    })
    connectRequest.once('connect', (res, socket) =>
      res.statusCode === 200 ? resolve(socket) : reject(new Error(`CONNECT: HTTP ${res.statusCode}`))
    )
    connectRequest.once('error', reject)
    connectRequest.end()
  })
  agent.createConnection = (options) => tlsConnect({ ...options, socket: tunnel })
}

let answer
for (const { path, type, body } of sequence) {
  answer = await new Promise((resolve, reject) => {
    const req = request(
      {
        host: base.hostname,
        port,
        path,
        method: 'POST',
        agent,
        headers: {
          'Content-Type': type,
          'Content-Length': Buffer.byteLength(body),
          Accept: 'application/json',
          'User-Agent': 'ideal-client'
        }
      },
      (res) => {
        let text = ''
        res.on('data', (chunk) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode, text }))
      }
    )
    req.once('error', reject)
    req.end(body)
  })
}
agent.destroy()
const parsed = JSON.parse(answer.text)
const token = parsed.access_token ?? parsed.accessToken
if (answer.status !== 200 || typeof token !== 'string') {
  process.stderr.write(`the last answer was HTTP ${answer.status}, not a token\n`)
  process.exit(1)
}
process.stdout.write(`::add-mask::${token}\n`)
appendFileSync(env.GITHUB_OUTPUT, `token<<EOF_TOKEN\n${token}\nEOF_TOKEN\n`)
appendFileSync(env.GITHUB_ENV, `RUNAI_TOKEN<<EOF_TOKEN\n${token}\nEOF_TOKEN\n`)
