import test, { describe } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import oauth, { packageDir } from './pkg.mjs'
import { useMock, clientOptions } from './mock.mjs'

const {
  OAuthClient, Token, TwilioOAuthError, ApiError, RateLimitedError, LoginRequiredError, AccessDeniedError, ExpiredTokenError,
  TransportError, TimeoutError, InvalidResponseError, ConfigError, CancelledError, StoreError
} = oauth
const mock = useMock(test)

function isKind (cls, check = () => {}) {
  return (err) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${err?.name}: ${err?.message}`)
    assert.ok(err instanceof TwilioOAuthError)
    assert.ok(err instanceof Error)
    assert.equal(err.name, cls.name)
    check(err)
    return true
  }
}

describe('errors', () => {
  test('every error class is exported and derives from TwilioOAuthError', () => {
    for (const cls of [ApiError, RateLimitedError, LoginRequiredError, AccessDeniedError, ExpiredTokenError, TransportError,
      TimeoutError, InvalidResponseError, ConfigError, CancelledError, StoreError]) {
      const err = new cls('m')
      assert.ok(err instanceof TwilioOAuthError && err instanceof Error)
      assert.equal(err.name, cls.name)
    }
    assert.ok(new RateLimitedError('m') instanceof ApiError)
    const loginRequired = new LoginRequiredError('sign in again', { status: 400, code: 322403, error: 'invalid_grant', moreInfo: 'https://www.twilio.com/docs/errors/322403' })
    assert.ok(loginRequired instanceof ApiError)
    assert.equal(loginRequired.name, 'LoginRequiredError')
    assert.deepEqual([loginRequired.status, loginRequired.code, loginRequired.error, loginRequired.moreInfo],
      [400, 322403, 'invalid_grant', 'https://www.twilio.com/docs/errors/322403'])
    assert.equal(new TwilioOAuthError('m').name, 'TwilioOAuthError')
  })

  test('every error kind of the core is an exported class with the core\'s parent', () => {
    const native = createRequire(join(packageDir, 'index.js'))('./native.js')
    const kinds = native.errorKinds()
    assert.ok(kinds.some(([name, parent]) => name === 'LoginRequiredError' && parent === 'ApiError'))
    for (const [name, parent] of kinds) {
      const cls = oauth[name]
      assert.equal(typeof cls, 'function', `${name} is not exported`)
      assert.equal(new cls('m').name, name)
      assert.equal(Object.getPrototypeOf(cls), parent == null ? Error : oauth[parent], `${name} extends ${parent}`)
    }
  })

  test('every error kind of the core is declared in index.d.ts with its parent', () => {
    const native = createRequire(join(packageDir, 'index.js'))('./native.js')
    const declared = new Map()
    for (const m of readFileSync(join(packageDir, 'index.d.ts'), 'utf8').matchAll(/^export declare class (\w+) extends (\w+)/gm)) {
      declared.set(m[1], m[2])
    }
    for (const [name, parent] of native.errorKinds()) {
      assert.equal(declared.get(name), parent ?? 'Error', `index.d.ts: class ${name} extends ${parent ?? 'Error'}`)
    }
    assert.equal(declared.size, native.errorKinds().length)
  })

  test('a native error carries the core\'s record as an object, and its message is the human text', () => {
    const native = createRequire(join(packageDir, 'index.js'))('./native.js')
    let raw
    try {
      new native.OAuthClient({ clientId: 'not-a-client-id' })
    } catch (err) {
      raw = err
    }
    assert.ok(raw instanceof Error)
    assert.equal(typeof raw.twilioOAuthError, 'object')
    assert.equal(raw.twilioOAuthError.kind, 'ConfigError')
    assert.equal(raw.twilioOAuthError.parent, 'TwilioOAuthError')
    assert.equal(raw.message, raw.twilioOAuthError.message)
    assert.ok(!raw.message.startsWith('{'), raw.message)
    assert.match(raw.message, /client_id|client id/i)
  })

  test('an ApiError\'s message is the human text; the server\'s own words are in serverMessage', async () => {
    const client = new OAuthClient(clientOptions(mock(), { clientSecret: 'wrong-secret' }))
    await assert.rejects(client.clientCredentials(), isKind(ApiError, (err) => {
      assert.equal(err.serverMessage, 'Invalid client credentials')
      assert.notEqual(err.message, err.serverMessage)
      for (const part of ['401', '321401', err.serverMessage]) assert.ok(err.message.includes(part), err.message)
      assert.equal(err.twilioOAuthError, undefined)
    }))
  })

  test('a refused client secret is an ApiError with Twilio\'s code and moreInfo', async () => {
    const client = new OAuthClient(clientOptions(mock(), { clientSecret: 'wrong-secret' }))
    await assert.rejects(client.clientCredentials(), isKind(ApiError, (err) => {
      assert.equal(err.status, 401)
      assert.equal(err.code, 321401)
      assert.match(err.moreInfo, /^https:\/\//)
      assert.equal(err.retryAfter, undefined)
      assert.ok(!(err instanceof RateLimitedError))
      assert.ok(!err.message.includes('wrong-secret'))
    }))
  })

  test('a bad refresh token is an ApiError carrying the RFC 6749 error', async () => {
    const client = new OAuthClient(clientOptions(mock()))
    await assert.rejects(client.refresh('not-a-refresh-token'), isKind(ApiError, (err) => {
      assert.equal(err.status, 400)
      assert.equal(err.error, 'invalid_grant')
    }))
  })

  test('429 after the retries is a RateLimitedError with retryAfter in seconds', async () => {
    await mock().faults('/v2/token', [{
      status: 429,
      headers: { 'Retry-After': '7' },
      body: { code: 20429, message: 'Too Many Requests', more_info: 'https://www.twilio.com/docs/errors/20429', status: 429 }
    }])
    const client = new OAuthClient(clientOptions(mock(), { maxRetries: 0 }))
    await assert.rejects(client.clientCredentials(), isKind(RateLimitedError, (err) => {
      assert.ok(err instanceof ApiError)
      assert.equal(err.status, 429)
      assert.equal(err.code, 20429)
      assert.equal(err.retryAfter, 7)
    }))
  })

  test('a denied device authorization is an AccessDeniedError', async () => {
    await mock().config({ device_interval: 1 })
    const client = new OAuthClient(clientOptions(mock()))
    const device = await client.createDeviceCode(['offline_access'])
    await mock().deny(device.userCode)
    await assert.rejects(client.pollDeviceToken(device), isKind(AccessDeniedError))
  })

  test('an expired device code is an ExpiredTokenError', async () => {
    await mock().config({ device_interval: 1, device_expires_in: 1 })
    const client = new OAuthClient(clientOptions(mock()))
    const device = await client.createDeviceCode(['offline_access'])
    await assert.rejects(client.pollDeviceToken(device), isKind(ExpiredTokenError))
  })

  test('a refused connection is a TransportError', async () => {
    const client = new OAuthClient(clientOptions(mock(), { baseUrl: 'http://127.0.0.1:1', maxRetries: 0 }))
    await assert.rejects(client.clientCredentials(), isKind(TransportError))
  })

  test('a server slower than the timeout is a TimeoutError', async () => {
    await mock().config({ latency_ms: 3000 })
    const client = new OAuthClient(clientOptions(mock(), { timeout: 0.2, maxRetries: 0 }))
    await assert.rejects(client.clientCredentials(), isKind(TimeoutError))
  })

  test('a 200 answer that is not a token is an InvalidResponseError with status and excerpt', async () => {
    await mock().faults('/v2/token', [{ status: 200, body: '<html>maintenance</html>' }])
    const client = new OAuthClient(clientOptions(mock()))
    await assert.rejects(client.clientCredentials(), isKind(InvalidResponseError, (err) => {
      assert.equal(err.status, 200)
      assert.match(err.excerpt, /maintenance/)
    }))
  })

  test('bad options are ConfigErrors, thrown by the constructor', () => {
    assert.throws(() => new OAuthClient({ clientId: 'not-a-client-id' }), isKind(ConfigError))
    assert.throws(() => new OAuthClient(clientOptions(mock(), { baseUrl: 'http://example.com' })), isKind(ConfigError))
    assert.throws(() => new OAuthClient(clientOptions(mock(), { timeout: 'soon' })), isKind(ConfigError))
    assert.throws(() => new OAuthClient(clientOptions(mock(), { timeout: -1 })), isKind(ConfigError))
    assert.throws(() => new OAuthClient(clientOptions(mock(), { maxRetries: 1.5 })), isKind(ConfigError))
  })

  test('bad arguments to calls reject with ConfigError', async () => {
    const client = new OAuthClient(clientOptions(mock()))
    await assert.rejects(client.createDeviceCode([]), isKind(ConfigError))
    await assert.rejects(client.refresh(42), isKind(ConfigError))
    await assert.rejects(client.pollDeviceToken({ deviceCode: 'x' }), isKind(ConfigError))
    assert.throws(() => client.authorizationUrl('not a url'), isKind(ConfigError))
    assert.throws(() => client.tokenProvider({ store: {} }), isKind(ConfigError))
  })

  test('an aborted call is a CancelledError', async () => {
    const client = new OAuthClient(clientOptions(mock()))
    await assert.rejects(client.clientCredentials({ signal: AbortSignal.abort() }), isKind(CancelledError))
  })

  test('an unreadable stored token is a StoreError', () => {
    assert.throws(() => Token.deserialize('{not json'), isKind(StoreError))
  })

  test('a panic inside the core rejects with a TwilioOAuthError and the process keeps working', async () => {
    // The tested addon is built with the `test-hooks` feature (npm run build:test): no hook, no pass.
    const panicForTest = oauth.default._panicForTest
    assert.equal(typeof panicForTest, 'function', 'the addon under test was built without --features test-hooks')
    const panicked = isKind(TwilioOAuthError, (err) => {
      assert.equal(err.name, 'TwilioOAuthError')
      assert.match(err.message, /panic/)
    })
    await assert.rejects(panicForTest(), panicked)
    await assert.rejects(Promise.all([panicForTest(), panicForTest()]), panicked)
    // A synchronous call goes through the core's guard as well.
    assert.throws(() => oauth.default._panicForTestSync(), panicked)
    const client = new OAuthClient(clientOptions(mock()))
    const token = await client.clientCredentials()
    assert.equal(token.tokenType, 'Bearer')
    const provider = client.tokenProvider()
    assert.equal((await provider.token()).tokenType, 'Bearer')
    assert.equal(await mock().requests('/v2/token'), 2)
  })
})
