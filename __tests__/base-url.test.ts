import { describe, expect, it } from '@jest/globals'
import { isLoopbackHost, normalizeBaseUrl } from '../src/base-url.js'

describe('normalizeBaseUrl', () => {
  it.each([
    ['https://mycompany.run.ai', 'https://mycompany.run.ai'],
    ['mycompany.run.ai', 'https://mycompany.run.ai'],
    ['  https://mycompany.run.ai/  ', 'https://mycompany.run.ai'],
    ['https://mycompany.run.ai///', 'https://mycompany.run.ai'],
    ['https://mycompany.run.ai/api/v2/token', 'https://mycompany.run.ai'],
    ['https://mycompany.run.ai/api/v1/token/', 'https://mycompany.run.ai'],
    ['https://console.example.com/runai/api/v1/token', 'https://console.example.com/runai'],
    ['https://console.example.com/runai/', 'https://console.example.com/runai'],
    ['HTTPS://RunAI.Example.com:8443/', 'https://runai.example.com:8443'],
    ['https://runai.example.com:443', 'https://runai.example.com'],
    ['localhost:8080', 'https://localhost:8080'],
    ['http://127.0.0.1:4010', 'http://127.0.0.1:4010'],
    ['http://localhost:4010/api/v2/token', 'http://localhost:4010'],
    ['http://[::1]:4010', 'http://[::1]:4010'],
    ['https://mycompany.run.ai/#/dashboard', 'https://mycompany.run.ai'],
    ['https://mycompany.run.ai#', 'https://mycompany.run.ai']
  ])('%s -> %s', (raw, expected) => {
    expect(normalizeBaseUrl(raw)).toBe(expected)
  })

  it.each([
    ['', 'Input `url` is required'],
    ['   ', 'Input `url` is required'],
    ['http://runai.example.com', 'Input `url` uses plain http:// for runai.example.com'],
    ['http://10.0.0.5', 'Input `url` uses plain http://'],
    ['ftp://runai.example.com', 'Input `url` must be an https:// address; "ftp:" is not supported.'],
    ['https://runai.example.com/?tenant=a', 'Input `url` must not contain a query'],
    ['https://exa mple.com', 'Input `url` is not a valid URL: "https://exa mple.com"'],
    ['https://:443', 'Input `url` is not a valid URL']
  ])('refuses %j', (raw, message) => {
    expect(() => normalizeBaseUrl(raw)).toThrow(message)
  })

  it('refuses credentials in the URL without echoing them', () => {
    let message = ''
    try {
      normalizeBaseUrl('https://admin:hunter2@runai.example.com')
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toContain('Input `url` must not carry credentials')
    expect(message).not.toContain('hunter2')
  })

  it('does not echo an unparseable URL that may hold a credential', () => {
    expect(() => normalizeBaseUrl('https://user:hunter2@exa mple.com')).toThrow('Input `url` is not a valid URL: "<hidden: contains @>"')
  })
})

describe('isLoopbackHost', () => {
  it.each(['localhost', 'LOCALHOST', '127.0.0.1', '127.8.9.10', '[::1]'])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true)
  })
  it.each(['10.0.0.1', '127.example.com', 'localhost.example.com', '0.0.0.0', '[::2]'])('%s is not', (host) => {
    expect(isLoopbackHost(host)).toBe(false)
  })
})
