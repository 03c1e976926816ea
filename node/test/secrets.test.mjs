// No secret (client secret, auth token, access / refresh / id token, device code, code verifier)
// shows in util.inspect, String(), template strings or JSON.stringify of any object the package
// hands out, nor in any error's message, stack or inspect form. Every call is made; every secret
// that went over the wire or came back is collected and looked for in everything.
import test, { describe } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import oauth from './pkg.mjs'
import { useMock, clientOptions, CLIENT_ID, CLIENT_SECRET, ACCOUNT_SID, AUTH_TOKEN, PUBLIC_CLIENT_ID } from './mock.mjs'

const { OAuthClient, Token, FileStore, TwilioOAuthError, DEVICE_CODE_GRANT } = oauth
const mock = useMock(test)

// Secrets of our own making, easy to recognise in any text.
const WRONG_SECRET = 'wrong-secret-RECOGNISABLE-7f3a9c'
const WRONG_AUTH_TOKEN = 'wrong-auth-token-RECOGNISABLE-51be0d'
const UNKNOWN_REFRESH_TOKEN = 'rt-unknown-RECOGNISABLE-0c4e77a1'
const FOREIGN_ACCESS_TOKEN = 'opaque-access-token-RECOGNISABLE-93d1'

/** Collects secrets and the objects and errors that must not show them. */
class Scan {
  secrets = new Set([CLIENT_SECRET, AUTH_TOKEN])
  objects = []
  errors = []

  secret (...values) {
    for (const v of values) {
      if (v === undefined || v === null) continue
      assert.equal(typeof v, 'string')
      assert.ok(v.length >= 16, `a secret this short would match by chance: ${v.length} chars`)
      this.secrets.add(v)
    }
  }

  token (t) {
    assert.ok(t instanceof Token)
    this.secret(t.accessToken, t.refreshToken, t.idToken)
    this.objects.push(t)
    return t
  }

  object (...values) {
    this.objects.push(...values)
  }

  /** Awaits `promise`, which must reject with a TwilioOAuthError; keeps the error. */
  async error (promise, kind) {
    let caught
    await assert.rejects(promise, (err) => {
      caught = err
      return true
    })
    assert.ok(caught instanceof TwilioOAuthError, `not a TwilioOAuthError: ${caught}`)
    if (kind !== undefined) assert.equal(caught.name, kind, caught.message)
    this.errors.push(caught)
    return caught
  }

  /** Every text form of `value`. */
  static forms (value) {
    const out = [
      inspect(value),
      inspect(value, { depth: Infinity, showHidden: true }),
      inspect(value, { depth: Infinity, showHidden: true, customInspect: false }),
      String(value),
      `${value}`,
      JSON.stringify(value) ?? ''
    ]
    if (value instanceof Error) {
      out.push(value.message, value.stack ?? '', value.toString())
      for (const [key, v] of Object.entries(Object.getOwnPropertyDescriptors(value))) {
        if (key !== 'stack' && typeof v.value === 'string') out.push(v.value)
      }
      if (value.cause !== undefined) out.push(...Scan.forms(value.cause))
    }
    return out
  }

  check () {
    const secrets = [...this.secrets]
    assert.ok(this.objects.length + this.errors.length > 0)
    for (const value of [...this.objects, ...this.errors]) {
      for (const text of Scan.forms(value)) {
        for (const secret of secrets) {
          assert.ok(!text.includes(secret), `a secret (${secret.slice(0, 6)}…) shows in: ${text}`)
        }
      }
    }
    return { secrets: secrets.length, objects: this.objects.length, errors: this.errors.length }
  }
}

async function authorize (url) {
  const res = await fetch(url, { redirect: 'manual' })
  await res.arrayBuffer()
  const location = new URL(res.headers.get('location'))
  return location.searchParams.get('code')
}

describe('secrets', () => {
  test('client credentials, v1 and v2 tokens and a provider with stores never show a secret', async () => {
    const scan = new Scan()
    const client = new OAuthClient(clientOptions(mock()))
    scan.object(client)
    scan.token(await client.clientCredentials({ scope: 'a b', audience: 'https://api.twilio.com' }))
    scan.token(await client.createToken('client_credentials'))
    scan.token(await client.createOauth2Token('client_credentials', { accountSid: ACCOUNT_SID }))

    const saved = []
    const store = {
      load: async () => null,
      save: async (key, token) => { saved.push(token) },
      delete: async () => {}
    }
    const provider = client.tokenProvider({ store })
    const first = scan.token(await provider.token())
    scan.secret(await provider.accessToken())
    assert.equal(await provider.authorizationHeader(), `Bearer ${first.accessToken}`)
    scan.token(provider.cachedToken())
    scan.token(await provider.tokenAfterUnauthorized(first.accessToken))
    scan.object(provider, provider.stats())
    assert.ok(saved.length >= 1)
    for (const t of saved) scan.token(t)
    scan.token(Token.fromJson(first.toJson()))

    const credentials = provider.toTwilioCredentialProvider()
    const strategy = credentials.toAuthStrategy()
    assert.equal(await strategy.getAuthString(), await provider.authorizationHeader())
    scan.object(credentials, strategy)

    const dir = mkdtempSync(join(tmpdir(), 'twilio-oauth-secrets-'))
    try {
      const fileProvider = client.tokenProvider({ store: new FileStore(join(dir, 'tokens.json')), scope: 'files' })
      scan.token(await fileProvider.token())
      scan.object(fileProvider)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }

    const foreign = scan.token(Token.fromAccessToken(FOREIGN_ACCESS_TOKEN, 600))
    scan.object(client.tokenProvider({ initialToken: foreign }))
    const counts = scan.check()
    assert.ok(counts.secrets >= 9, JSON.stringify(counts))
  })

  test('the device flow never shows the device code or the tokens', async () => {
    await mock().config({ device_interval: 1 })
    const scan = new Scan()
    const client = new OAuthClient(clientOptions(mock()))
    const device = await client.createDeviceCode(['offline_access', 'profile'], { audiences: ['aud1'] })
    scan.secret(device.deviceCode)
    scan.object(device)

    // Polled by hand before approval: the server's authorization_pending error.
    await scan.error(client.createToken(DEVICE_CODE_GRANT, { deviceCode: device.deviceCode }), 'ApiError')
    const polling = client.pollDeviceToken(device)
    await mock().approve(device.userCode)
    const token = scan.token(await polling)
    assert.ok(token.refreshToken && token.idToken)
    // Redeemed already: the same device code again is invalid_grant.
    await scan.error(client.createToken(DEVICE_CODE_GRANT, { deviceCode: device.deviceCode }), 'ApiError')
    const provider = client.tokenProvider({ initialToken: token })
    scan.token(await provider.token())
    scan.object(provider)

    const denied = await client.createDeviceCode(['offline_access'])
    scan.secret(denied.deviceCode)
    scan.object(denied)
    await mock().deny(denied.userCode)
    await scan.error(client.pollDeviceToken(denied), 'AccessDeniedError')

    const cancelled = await client.createDeviceCode(['offline_access'])
    scan.secret(cancelled.deviceCode)
    await scan.error(client.pollDeviceToken(cancelled, { signal: AbortSignal.abort(new Error('gave up')) }), 'CancelledError')

    await mock().config({ device_interval: 1, device_expires_in: 1 })
    const expiring = await client.createDeviceCode(['offline_access'])
    scan.secret(expiring.deviceCode)
    scan.object(expiring)
    await scan.error(client.pollDeviceToken(expiring), 'ExpiredTokenError')
    scan.check()
  })

  test('PKCE exchange and refresh never show the verifier or the tokens', async () => {
    const scan = new Scan()
    const client = new OAuthClient({ clientId: PUBLIC_CLIENT_ID, baseUrl: mock().url })
    const redirect = 'https://app.example/callback'
    const request = client.authorizationUrl(redirect, { scope: 'openid offline_access', state: 'state-1' })
    scan.secret(request.codeVerifier)
    scan.object(request)
    const token = scan.token(await client.exchangeCode(await authorize(request.url), { redirectUri: redirect, codeVerifier: request.codeVerifier }))
    assert.ok(token.refreshToken && token.idToken)
    const renewed = scan.token(await client.refresh(token.refreshToken))
    scan.token(await client.createOauth2Token('refresh_token', { refreshToken: renewed.refreshToken }))

    // A wrong verifier, and a code used twice.
    const second = client.authorizationUrl(redirect, { scope: 'openid' })
    const other = client.authorizationUrl(redirect)
    scan.secret(second.codeVerifier, other.codeVerifier)
    const code = await authorize(second.url)
    await scan.error(client.exchangeCode(code, { redirectUri: redirect, codeVerifier: other.codeVerifier }), 'ApiError')
    await scan.error(client.exchangeCode(code, { redirectUri: redirect, codeVerifier: second.codeVerifier }), 'ApiError')

    scan.secret(UNKNOWN_REFRESH_TOKEN)
    await scan.error(client.refresh(UNKNOWN_REFRESH_TOKEN), 'ApiError')
    await scan.error(client.createOauth2Token('refresh_token', { refreshToken: UNKNOWN_REFRESH_TOKEN }), 'ApiError')
    scan.check()
  })

  test('errors from wrong credentials, bad options and server faults never show a secret', async () => {
    const scan = new Scan()
    scan.secret(WRONG_SECRET, WRONG_AUTH_TOKEN)
    const url = mock().url

    const wrong = new OAuthClient(clientOptions(mock(), { clientSecret: WRONG_SECRET, authToken: WRONG_AUTH_TOKEN, maxRetries: 0 }))
    scan.object(wrong)
    await scan.error(wrong.clientCredentials(), 'ApiError')
    await scan.error(wrong.createToken('client_credentials'), 'ApiError')
    await scan.error(wrong.createDeviceCode(['offline_access']), 'ApiError')
    const failing = wrong.tokenProvider()
    await scan.error(failing.token(), 'ApiError')
    scan.object(failing, failing.stats())

    // Options that are refused, with secrets among them.
    const bad = [
      { clientId: 'OQ123', clientSecret: WRONG_SECRET, authToken: WRONG_AUTH_TOKEN },
      { clientId: CLIENT_ID, clientSecret: WRONG_SECRET, baseUrl: 'http://example.com' },
      { clientId: CLIENT_ID, clientSecret: WRONG_SECRET, accountSid: 'not-an-account', authToken: WRONG_AUTH_TOKEN },
      { clientId: CLIENT_ID, clientSecret: WRONG_SECRET, timeout: 'soon' }
    ]
    for (const options of bad) {
      await scan.error((async () => new OAuthClient({ baseUrl: url, ...options }))(), 'ConfigError')
    }
    await scan.error((async () => Token.fromAccessToken(FOREIGN_ACCESS_TOKEN, -5))())
    scan.secret(FOREIGN_ACCESS_TOKEN)

    const client = new OAuthClient(clientOptions(mock(), { timeout: 0.3 }))
    const faults = [
      ['/v2/token', [{ status: 503, repeat: 3 }], 'ApiError'],
      ['/v2/token', [{ status: 429, headers: { 'Retry-After': '3600' } }], 'RateLimitedError'],
      ['/v2/token', [{ drop: true, repeat: 3 }], 'TransportError'],
      ['/v2/token', [{ delay_ms: 2000, passthrough: true, repeat: 3 }], 'TimeoutError'],
      ['/v2/token', [{ status: 200, body: '<html>maintenance</html>' }], 'InvalidResponseError'],
      ['/v2/token', [{ status: 400, body: { error: 'invalid_scope', error_description: 'no such scope' } }], 'ApiError'],
      ['/v2/token', [{ status: 307, body: '', headers: { Location: `${url}/v1/token` } }], 'ApiError']
    ]
    for (const [endpoint, responses, kind] of faults) {
      await mock().reset()
      await mock().faults(endpoint, responses)
      await scan.error(client.clientCredentials(), kind)
    }
    await mock().reset()
    await mock().faults('/v1/token', [{ status: 500, repeat: 3 }])
    await scan.error(client.createToken('client_credentials'), 'ApiError')

    await mock().reset()
    await mock().faults('/v2/token', [{ status: 503, repeat: 3 }])
    const provider = client.tokenProvider()
    await scan.error(provider.token(), 'ApiError')
    scan.object(provider)
    const closed = new OAuthClient(clientOptions(mock(), { baseUrl: 'http://127.0.0.1:1', maxRetries: 0 }))
    await scan.error(closed.clientCredentials(), 'TransportError')
    await scan.error(client.clientCredentials({ signal: AbortSignal.abort() }), 'CancelledError')
    const counts = scan.check()
    assert.ok(counts.errors >= 20, JSON.stringify(counts))
  })

  // The core echoes the start of an unusable 2xx body as InvalidResponseError's excerpt; such a
  // body may carry a token or a device code, which the excerpt and the message must mask.
  test('a 2xx body that carries a secret but is not usable keeps the secret out of the error', async () => {
    const scan = new Scan()
    const leaked = {
      access: 'opaque-access-token-RECOGNISABLE-1e2f',
      refresh: 'rt-issued-RECOGNISABLE-77ab90',
      device: 'device-code-RECOGNISABLE-3c5d7e9f'
    }
    scan.secret(...Object.values(leaked))
    const client = new OAuthClient(clientOptions(mock()))
    const bodies = [
      `{"access_token": "${leaked.access}`,
      JSON.stringify({ access_token: leaked.access, token_type: 5 }),
      JSON.stringify({ refresh_token: leaked.refresh, token_type: 'Bearer' })
    ]
    for (const body of bodies) {
      await mock().reset()
      await mock().faults('/v2/token', [{ status: 200, body }])
      await scan.error(client.clientCredentials(), 'InvalidResponseError')
    }
    await mock().reset()
    await mock().faults('/v1/device/code', [{ status: 201, body: { device_code: leaked.device, interval: 5 } }])
    await scan.error(client.createDeviceCode(['offline_access']), 'InvalidResponseError')
    scan.check()
  })
})
