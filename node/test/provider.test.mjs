import test, { describe } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import oauth from './pkg.mjs'
import { useMock, clientOptions } from './mock.mjs'

const { OAuthClient, Token, FileStore } = oauth
const mock = useMock(test)

describe('TokenProvider', () => {
  test('64 concurrent cold accessToken() calls make one token request', async () => {
    const provider = new OAuthClient(clientOptions(mock())).tokenProvider()
    const tokens = await Promise.all(Array.from({ length: 64 }, () => provider.accessToken()))
    assert.equal(new Set(tokens).size, 1)
    assert.equal(await mock().requests('/v2/token'), 1)
    const stats = provider.stats()
    assert.equal(stats.fetches, 1)
    assert.equal(stats.hits, 63)
    assert.equal(stats.backgroundRefreshes, 0)
    assert.equal(stats.failures, 0)
  })

  test('cachedToken is synchronous: null before the first fetch, the same Token after', async () => {
    const provider = new OAuthClient(clientOptions(mock())).tokenProvider({ scope: 'b a' })
    assert.equal(provider.cachedToken(), null)
    const token = await provider.token()
    assert.ok(token instanceof Token)
    assert.equal(provider.cachedToken(), token)
    assert.equal(await provider.token(), token)
    assert.equal(await provider.accessToken(), token.accessToken)
    assert.equal(await provider.authorizationHeader(), `Bearer ${token.accessToken}`)
    // Scopes are normalised: "b a" and "a  b" share one cache key.
    assert.equal(new OAuthClient(clientOptions(mock())).tokenProvider({ scope: 'a  b' }).key, provider.key)
    assert.equal(provider.grant, 'app')
  })

  test('a cache hit resolves without a request or a fetch', async () => {
    const provider = new OAuthClient(clientOptions(mock())).tokenProvider()
    await provider.token()
    for (let i = 0; i < 100; i++) await provider.accessToken()
    assert.equal(provider.stats().fetches, 1)
    assert.equal(provider.stats().hits, 100)
    assert.equal(await mock().requests('/v2/token'), 1)
  })

  test('the event loop keeps ticking during a slow fetch', async () => {
    await mock().config({ latency_ms: 400 })
    const provider = new OAuthClient(clientOptions(mock())).tokenProvider()
    let ticks = 0
    const timer = setInterval(() => { ticks++ }, 5)
    try {
      await provider.token()
    } finally {
      clearInterval(timer)
    }
    assert.ok(ticks >= 2, `the event loop ran ${ticks} timer callbacks during the fetch`)
  })

  test('invalidate drops the cached token so the next call fetches again', async () => {
    const provider = new OAuthClient(clientOptions(mock())).tokenProvider()
    const first = await provider.accessToken()
    provider.invalidate()
    assert.equal(provider.cachedToken(), null)
    const second = await provider.accessToken()
    assert.notEqual(first, second)
    assert.equal(await mock().requests('/v2/token'), 2)
  })

  test('tokenAfterUnauthorized replaces a token the API refused', async () => {
    const provider = new OAuthClient(clientOptions(mock())).tokenProvider()
    const first = await provider.token()
    const second = await provider.tokenAfterUnauthorized(first.accessToken)
    assert.notEqual(second.accessToken, first.accessToken)
    assert.equal(provider.cachedToken(), second)
  })

  test('inside the refresh-ahead window the cached token is served and refreshed in the background', async () => {
    // Two-second tokens refreshed 1.5 s ahead: the window opens half a second after issue
    // (the core never refreshes more than three quarters of a lifetime ahead).
    await mock().config({ token_lifetime_secs: 2 })
    const provider = new OAuthClient(clientOptions(mock())).tokenProvider({ refreshAhead: 1.5 })
    const first = await provider.token()
    const deadline = Date.now() + 5000
    // The first calls are plain hits; the first one inside the window starts the refresh and
    // is still answered with the cached token.
    while (provider.stats().backgroundRefreshes === 0 && Date.now() < deadline) {
      assert.equal(await provider.accessToken(), first.accessToken)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    while (provider.cachedToken() === first && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    assert.notEqual(provider.cachedToken()?.accessToken, first.accessToken)
    assert.equal(provider.stats().backgroundRefreshes, 1)
    assert.equal(await mock().requests('/v2/token'), 2)
  })

  test('a synchronous JavaScript TokenStore saves the token and serves the next provider', async () => {
    const saved = new Map()
    const calls = []
    const store = {
      load (key) { calls.push(['load', key]); return saved.get(key) ?? null },
      save (key, token) { calls.push(['save', key]); assert.ok(token instanceof Token); saved.set(key, token) },
      delete (key) { saved.delete(key) }
    }
    const client = new OAuthClient(clientOptions(mock()))
    const first = await client.tokenProvider({ store }).token()
    // Read before the fetch (the core may read more than once: before and under the lock),
    // then saved once.
    const ops = calls.map((c) => c[0])
    assert.equal(ops[0], 'load')
    assert.deepEqual(ops.filter((op) => op !== 'load'), ['save'])
    assert.equal(ops.at(-1), 'save')
    assert.equal(saved.size, 1)
    const second = await client.tokenProvider({ store }).token()
    assert.equal(second.accessToken, first.accessToken)
    assert.equal(await mock().requests('/v2/token'), 1)
  })

  test('an async JavaScript TokenStore can keep tokens as toJson() strings', async () => {
    const saved = new Map()
    const store = {
      async load (key) { await new Promise((resolve) => setImmediate(resolve)); return saved.get(key) },
      async save (key, token) { await new Promise((resolve) => setImmediate(resolve)); saved.set(key, token.toJson()) },
      async delete (key) { saved.delete(key) }
    }
    const client = new OAuthClient(clientOptions(mock()))
    const first = await client.tokenProvider({ store, scope: 'x' }).token()
    const [[key, json]] = saved.entries()
    assert.match(key, /x/)
    assert.equal(JSON.parse(json).access_token, first.accessToken)
    const second = await client.tokenProvider({ store, scope: 'x' }).token()
    assert.equal(second.accessToken, first.accessToken)
    assert.equal(await mock().requests('/v2/token'), 1)
  })

  test('a failing JavaScript TokenStore does not break token acquisition', async () => {
    const store = {
      load () { throw new Error('disk on fire') },
      async save () { throw new Error('still on fire') }
    }
    const provider = new OAuthClient(clientOptions(mock())).tokenProvider({ store })
    const token = await provider.token()
    assert.ok(token.accessToken.length > 0)
  })

  test('a FileStore keeps the token in a 0600 JSON file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twilio-oauth-store-'))
    try {
      const path = join(dir, 'tokens.json')
      const client = new OAuthClient(clientOptions(mock()))
      const first = await client.tokenProvider({ store: new FileStore(path) }).token()
      assert.equal(statSync(path).mode & 0o777, 0o600)
      assert.ok(readFileSync(path, 'utf8').includes(first.accessToken))
      const second = await client.tokenProvider({ store: new FileStore(path) }).token()
      assert.equal(second.accessToken, first.accessToken)
      assert.equal(await mock().requests('/v2/token'), 1)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('an initial token is served without a token request', async () => {
    const initial = Token.fromAccessToken('initial-access-token', 3600)
    const provider = new OAuthClient(clientOptions(mock())).tokenProvider({ initialToken: initial })
    assert.equal(await provider.accessToken(), 'initial-access-token')
    assert.equal(await mock().requests('/v2/token'), 0)
  })
})
