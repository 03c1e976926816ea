// People's tokens in one process: LoginRequiredError, the user/app grant options, accountSid,
// and the store counters. (Several processes sharing one login: processes.test.mjs.)
import test, { describe } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import oauth from './pkg.mjs'
import { useMock, clientOptions, pkceLogin, formValues, ACCOUNT_SID } from './mock.mjs'

const { OAuthClient, Token, FileStore, ApiError, LoginRequiredError, TwilioOAuthError, ConfigError } = oauth
const mock = useMock(test)
const OTHER_ACCOUNT_SID = 'AC' + 'f'.repeat(32)

function privateDir (t) {
  const dir = mkdtempSync(join(tmpdir(), 'twilio-oauth-users-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe("people's tokens", () => {
  test('a user provider whose refresh token is refused rejects with LoginRequiredError and never asks for an app token', async () => {
    const client = new OAuthClient(clientOptions(mock()))
    assert.ok(client.hasClientSecret, 'a confidential client could fetch an app token: it must not')
    const login = await pkceLogin(client)
    // Spend the login's refresh token elsewhere: rotation makes the provider's copy a reuse.
    await client.refresh(login.refreshToken)
    const provider = client.tokenProvider({ initialToken: login })
    assert.equal(provider.grant, 'user')
    provider.invalidate()
    const err = await provider.token().then(() => assert.fail('token() must reject'), (e) => e)
    assert.ok(err instanceof LoginRequiredError, `${err.name}: ${err.message}`)
    assert.ok(err instanceof ApiError && err instanceof TwilioOAuthError && err instanceof Error)
    assert.equal(err.name, 'LoginRequiredError')
    assert.equal(err.status, 400)
    assert.equal(err.code, 322403)
    assert.equal(err.error, 'invalid_grant')
    assert.match(err.moreInfo, /^https:\/\//)
    for (const text of [err.message, String(err), inspect(err), JSON.stringify(err)]) {
      assert.ok(!text.includes(login.refreshToken), `the refresh token shows in ${text}`)
    }
    assert.deepEqual(await formValues(mock(), '/v2/token', 'grant_type'), ['authorization_code', 'refresh_token', 'refresh_token'])
    assert.deepEqual(await formValues(mock(), '/v1/token', 'GrantType'), [])
    const stats = await mock().stats()
    assert.equal(stats.refresh_reuses, 1)
    assert.equal(provider.cachedToken(), null)
    // The login is gone for good: the next call fails the same way, still without an app token.
    await assert.rejects(provider.token(), LoginRequiredError)
    assert.ok(!(await formValues(mock(), '/v2/token', 'grant_type')).includes('client_credentials'))
  })

  test('a user provider without a refresh token rejects with LoginRequiredError without a request', async () => {
    const client = new OAuthClient(clientOptions(mock()))
    const provider = client.tokenProvider({ initialToken: Token.fromAccessToken('a-token-from-elsewhere', 60) })
    assert.equal(await provider.accessToken(), 'a-token-from-elsewhere')
    provider.invalidate()
    await assert.rejects(provider.token(), (err) => {
      assert.ok(err instanceof LoginRequiredError)
      assert.equal(err.status, 401)
      assert.equal(err.error, 'login_required')
      return true
    })
    assert.deepEqual((await mock().stats()).requests, {})
  })

  test('a token made with Token.fromAccessToken and its refresh token is renewed with that refresh token', async () => {
    const client = new OAuthClient(clientOptions(mock()))
    const login = await pkceLogin(client)
    const handed = Token.fromAccessToken(login.accessToken, { expiresIn: 600, refreshToken: login.refreshToken })
    const provider = client.tokenProvider({ initialToken: handed })
    assert.equal(provider.grant, 'user')
    assert.equal(await provider.accessToken(), login.accessToken)
    provider.invalidate()
    const renewed = await provider.token()
    assert.notEqual(renewed.accessToken, login.accessToken)
    assert.deepEqual(await formValues(mock(), '/v2/token', 'refresh_token'), [login.refreshToken])
  })

  test('an empty access token is a ConfigError, from the core', () => {
    for (const empty of ['', '   ']) {
      assert.throws(() => Token.fromAccessToken(empty, 60), (err) => {
        assert.ok(err instanceof ConfigError, `${err?.name}: ${err?.message}`)
        assert.match(err.message, /access token must not be empty/)
        return true
      })
    }
  })

  test('a user provider renews with the rotated refresh token and never sends one twice', async () => {
    const client = new OAuthClient(clientOptions(mock()))
    const login = await pkceLogin(client)
    const provider = client.tokenProvider({ initialToken: login })
    const seen = new Set([login.accessToken])
    for (let i = 0; i < 3; i++) {
      provider.invalidate()
      const token = await provider.token()
      assert.ok(!seen.has(token.accessToken))
      seen.add(token.accessToken)
      assert.equal(token.subject, login.subject)
    }
    const sent = await formValues(mock(), '/v2/token', 'refresh_token')
    assert.equal(sent.length, 3)
    assert.equal(new Set(sent).size, 3)
    assert.equal(sent[0], login.refreshToken)
    const stats = await mock().stats()
    assert.equal(stats.refreshes, 3)
    assert.equal(stats.refresh_reuses, 0)
  })

  test('grant is app or user, from account and initialToken unless given; anything else is a ConfigError', () => {
    const client = new OAuthClient(clientOptions(mock()))
    const token = Token.fromAccessToken('x'.repeat(40), 60)
    assert.equal(client.tokenProvider().grant, 'app')
    assert.equal(client.tokenProvider({ account: 'alice' }).grant, 'user')
    assert.equal(client.tokenProvider({ initialToken: token }).grant, 'user')
    assert.equal(client.tokenProvider({ grant: 'user' }).grant, 'user')
    assert.equal(client.tokenProvider({ account: 'alice', grant: 'app' }).grant, 'app')
    // Two people, and a person and the app, never share a cache key.
    const keys = [client.tokenProvider(), client.tokenProvider({ account: 'alice' }), client.tokenProvider({ account: 'bob' })].map((p) => p.key)
    assert.equal(new Set(keys).size, 3)
    for (const grant of ['App', 'admin', '', 5, {}]) {
      assert.throws(() => client.tokenProvider({ grant }), (err) => {
        assert.ok(err instanceof ConfigError, `${grant}: ${err.name}`)
        return true
      })
    }
  })

  test('clientCredentials and an app provider act on behalf of accountSid', async () => {
    const client = new OAuthClient(clientOptions(mock()))
    assert.equal((await client.clientCredentials()).claims().account_sid, ACCOUNT_SID)
    const onBehalf = await client.clientCredentials({ accountSid: OTHER_ACCOUNT_SID, scope: 'a' })
    assert.equal(onBehalf.claims().account_sid, OTHER_ACCOUNT_SID)
    const own = client.tokenProvider()
    const other = client.tokenProvider({ accountSid: OTHER_ACCOUNT_SID })
    assert.notEqual(own.key, other.key)
    assert.equal((await other.token()).claims().account_sid, OTHER_ACCOUNT_SID)
    assert.equal((await own.token()).claims().account_sid, ACCOUNT_SID)
  })

  test('a later provider finds the login in a FileStore by account alone, counted as a store hit', async (t) => {
    const path = join(privateDir(t), 'tokens.json')
    const client = new OAuthClient(clientOptions(mock()))
    const login = await pkceLogin(client)
    const first = client.tokenProvider({ store: new FileStore(path), account: 'alice', initialToken: login })
    // Reconciled with the store on the first call: until then nothing is cached.
    assert.equal(first.cachedToken(), null)
    assert.equal((await first.token()).accessToken, login.accessToken)
    assert.ok(readFileSync(path, 'utf8').includes(login.refreshToken))
    const later = client.tokenProvider({ store: new FileStore(path), account: 'alice' })
    assert.equal(later.grant, 'user')
    const token = await later.token()
    assert.equal(token.accessToken, login.accessToken)
    assert.equal(token.refreshToken, login.refreshToken)
    assert.deepEqual(later.stats(), { hits: 0, fetches: 0, backgroundRefreshes: 0, failures: 0, storeHits: 1, storeErrors: 0 })
    assert.equal(await mock().requests('/v2/token'), 1)
    // Someone else's account finds nothing: a login is required, and no app token comes back.
    await assert.rejects(client.tokenProvider({ store: new FileStore(path), account: 'bob' }).token(), LoginRequiredError)
    assert.equal(await mock().requests('/v2/token'), 1)
  })

  test('a corrupted token file is counted in storeErrors and left untouched', async (t) => {
    const path = join(privateDir(t), 'tokens.json')
    writeFileSync(path, '{not json', { mode: 0o600 })
    const provider = new OAuthClient(clientOptions(mock())).tokenProvider({ store: new FileStore(path) })
    assert.equal((await provider.token()).tokenType, 'Bearer')
    const stats = provider.stats()
    assert.equal(stats.fetches, 1)
    assert.ok(stats.storeErrors >= 2, `storeErrors ${stats.storeErrors}: the load and the save both fail`)
    assert.equal(stats.storeHits, 0)
    assert.equal(readFileSync(path, 'utf8'), '{not json')
  })
})
