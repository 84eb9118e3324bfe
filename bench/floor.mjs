// The floor: the least a process can do for the same result. It reads the same INPUT_*
// variables, sends the same v2 request with node:http (not fetch: on Node 20 loading fetch alone
// costs more than this whole script), prints the ::add-mask:: line and appends the token to the
// GITHUB_OUTPUT and GITHUB_ENV files. No validation, no retries, no TLS: a lower bound only.
import { request } from 'node:http'
import { appendFileSync } from 'node:fs'

const url = new URL('/api/v2/token', process.env.INPUT_URL)
const body = new URLSearchParams({
  grant_type: 'client_credentials',
  client_id: process.env['INPUT_CLIENT-ID'] ?? '',
  client_secret: process.env['INPUT_CLIENT-SECRET'] ?? ''
}).toString()
const req = request(
  url,
  { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) } },
  (res) => {
    let text = ''
    res.on('data', (chunk) => (text += chunk))
    res.on('end', () => {
      const token = JSON.parse(text).access_token
      process.stdout.write(`::add-mask::${token}\n`)
      appendFileSync(process.env.GITHUB_OUTPUT, `token<<EOF_TOKEN\n${token}\nEOF_TOKEN\n`)
      appendFileSync(process.env.GITHUB_ENV, `RUNAI_TOKEN<<EOF_TOKEN\n${token}\nEOF_TOKEN\n`)
    })
  }
)
req.end(body)
