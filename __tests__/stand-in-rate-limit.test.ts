import { afterEach, describe, expect, it } from '@jest/globals'
import { DEFAULT_CLIENT, startStandIn } from '../test-server/runai-stand-in.mjs'

// The stand-in's rate-limit switches, which the benchmark's herd relies on (bench/herd.mjs): each
// refusal must look the way the switch says, or the herd measures another control plane.
type StandIn = Awaited<ReturnType<typeof startStandIn>>
const servers: StandIn[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function standIn(faults: Record<string, unknown>): Promise<StandIn> {
  const server = await startStandIn({ faults })
  servers.push(server)
  return server
}

async function askForToken(server: StandIn): Promise<{ status: number; retryAfter: string | null; body: string }> {
  const answer = await fetch(`${server.url}/api/v2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: DEFAULT_CLIENT.id, client_secret: DEFAULT_CLIENT.secret })
  })
  return { status: answer.status, retryAfter: answer.headers.get('retry-after'), body: await answer.text() }
}

describe('the stand-in rate-limits as told', () => {
  it('tokensPerSecond: admits that many in a second, then 429 with Retry-After', async () => {
    const server = await standIn({ tokensPerSecond: 2 })
    const answers = [await askForToken(server), await askForToken(server), await askForToken(server)]
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429])
    expect(answers[2]?.retryAfter).toBe('1')
  })

  it("rateLimitAnswer '429-no-retry-after': the 429 says nothing about when to come back", async () => {
    const server = await standIn({ tokensPerSecond: 1, rateLimitAnswer: '429-no-retry-after' })
    await askForToken(server)
    const refused = await askForToken(server)
    expect(refused.status).toBe(429)
    expect(refused.retryAfter).toBeNull()
  })

  it("rateLimitAnswer '503': the control plane's own words, Retry-After 2", async () => {
    const server = await standIn({ tokensPerSecond: 1, rateLimitAnswer: '503' })
    await askForToken(server)
    const refused = await askForToken(server)
    expect(refused).toEqual({
      status: 503,
      retryAfter: '2',
      body: JSON.stringify({ code: 503, message: 'Please try again in few minutes.' })
    })
  })

  it('admitNothing: the first request is refused already, and every one after it', async () => {
    const server = await standIn({ admitNothing: true })
    const answers = [await askForToken(server), await askForToken(server)]
    expect(answers.map((a) => [a.status, a.retryAfter])).toEqual([
      [429, '1'],
      [429, '1']
    ])
    expect(server.tokensIssued).toEqual([])
  })
})
