import test, { describe } from 'node:test'
import assert from 'node:assert/strict'
import oauth from './pkg.mjs'
import { useMock, clientOptions, CLIENT_ID, CLIENT_SECRET, ACCOUNT_SID, AUTH_TOKEN, PUBLIC_CLIENT_ID } from './mock.mjs'

const { OAuthClient, Token, DeviceAuthorization, DEVICE_CODE_GRANT } = oauth
const mock = useMock(test)

async function authorizationCode (client, redirectUri, scope) {
  const request = client.authorizationUrl(redirectUri, { scope, state: 'state-1' })
  const res = await fetch(request.url, { redirect: 'manual' })
  assert.equal(res.status, 302)
  const location = new URL(res.headers.get('location'))
  assert.equal(location.searchParams.get('state'), 'state-1')
  return { code: location.searchParams.get('code'), request }
}

describe('OAuthClient', () => {
  test('clientCredentials returns a bearer token with camelCase fields', async () => {
    const client = new OAuthClient(clientOptions(mock()))
    const token = await client.clientCredentials({ scope: 'a b' })
    assert.ok(token instanceof Token)
    assert.equal(token.tokenType, 'Bearer')
    assert.ok(token.accessToken.length > 20)
    assert.ok(token.expiresAt instanceof Date)
    assert.ok(token.expiresAt.getTime() > Date.now())
    assert.ok(token.expiresIn() > 3500 && token.expiresIn() <= 3600)
    assert.equal(token.isExpired(), false)
    assert.equal(token.claims().sub, CLIENT_ID)
    assert.equal(token.authorizationHeader(), `Bearer ${token.accessToken}`)
    assert.equal(await mock().requests('/v2/token'), 1)
  })

  test('createOauth2Token and its createOAuth2Token alias post to /v2/token', async () => {
    const client = new OAuthClient(clientOptions(mock()))
    const a = await client.createOauth2Token('client_credentials', { scope: 'x' })
    const b = await client.createOAuth2Token('client_credentials', { audience: 'https://api.twilio.com' })
    assert.notEqual(a.accessToken, b.accessToken)
    assert.equal(await mock().requests('/v2/token'), 2)
  })

  test('createToken posts the v1 form with basic auth', async () => {
    const client = new OAuthClient(clientOptions(mock()))
    const token = await client.createToken('client_credentials')
    assert.ok(token.accessToken.length > 0)
    assert.equal(await mock().requests('/v1/token'), 1)
  })

  test('the device flow gives a token once the user approves', async () => {
    await mock().config({ device_interval: 1 })
    const client = new OAuthClient(clientOptions(mock()))
    const device = await client.createDeviceCode(['offline_access'])
    assert.ok(device instanceof DeviceAuthorization)
    assert.match(device.userCode, /\S+/)
    assert.ok(device.verificationUri.startsWith(mock().url))
    assert.ok(device.verificationUriComplete.includes(device.userCode))
    assert.equal(device.interval, 1)
    assert.ok(device.expiresAt instanceof Date)
    assert.ok(device.expiresIn() > 0)
    // The codes' whole validity, as issued: what is left can only be less.
    assert.ok(device.lifetime >= device.expiresIn() && device.lifetime > 0, `${device.lifetime}`)
    assert.ok(device.deviceCode.length > 0)
    const polling = client.pollDeviceToken(device)
    await mock().approve(device.userCode)
    const token = await polling
    assert.ok(token.accessToken.length > 0)
    assert.ok(token.refreshToken)
  })

  test('createToken with the device-code grant answers authorization_pending as an ApiError', async () => {
    const client = new OAuthClient(clientOptions(mock()))
    const device = await client.createDeviceCode('offline_access', { audiences: [] })
    await assert.rejects(client.createToken(DEVICE_CODE_GRANT, { deviceCode: device.deviceCode }), (err) => {
      assert.equal(err.name, 'ApiError')
      assert.equal(err.error, 'authorization_pending')
      return true
    })
  })

  test('authorizationUrl builds a PKCE S256 URL and exchangeCode redeems the code', async () => {
    const client = new OAuthClient({ clientId: PUBLIC_CLIENT_ID, baseUrl: mock().url })
    const request = client.authorizationUrl('http://localhost/callback', { scope: 'openid offline_access' })
    const url = new URL(request.url)
    assert.equal(url.pathname, '/v2/authorize')
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256')
    assert.equal(url.searchParams.get('state'), request.state)
    assert.ok(request.codeVerifier.length >= 43)
    const { code, request: used } = await authorizationCode(client, 'http://localhost/callback', 'openid offline_access')
    const token = await client.exchangeCode(code, { redirectUri: 'http://localhost/callback', codeVerifier: used.codeVerifier })
    assert.ok(token.accessToken.length > 0)
    assert.ok(token.refreshToken)
  })

  test('refresh trades a refresh token for a new access token', async () => {
    const client = new OAuthClient({ clientId: PUBLIC_CLIENT_ID, baseUrl: mock().url })
    const { code, request } = await authorizationCode(client, 'http://localhost/cb', 'offline_access')
    const first = await client.exchangeCode(code, { redirectUri: 'http://localhost/cb', codeVerifier: request.codeVerifier })
    const renewed = await client.refresh(first.refreshToken)
    assert.notEqual(renewed.accessToken, first.accessToken)
    assert.ok(renewed.refreshToken)
  })

  test('fromEnv reads the TWILIO_* variables', async () => {
    const saved = { ...process.env }
    Object.assign(process.env, {
      TWILIO_CLIENT_ID: CLIENT_ID,
      TWILIO_CLIENT_SECRET: CLIENT_SECRET,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN
    })
    try {
      const client = OAuthClient.fromEnv({ baseUrl: mock().url })
      assert.equal(client.clientId, CLIENT_ID)
      assert.equal(client.hasClientSecret, true)
      assert.ok((await client.createToken('client_credentials')).accessToken)
    } finally {
      for (const k of ['TWILIO_CLIENT_ID', 'TWILIO_CLIENT_SECRET', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN']) {
        if (saved[k] === undefined) delete process.env[k]
        else process.env[k] = saved[k]
      }
    }
  })

  test('token.toJson round-trips through Token.fromJson, and the old names still work', async () => {
    const client = new OAuthClient(clientOptions(mock()))
    const token = await client.clientCredentials()
    const copy = Token.fromJson(token.toJson())
    assert.equal(copy.accessToken, token.accessToken)
    assert.equal(copy.expiresAt.getTime() / 1000 | 0, token.expiresAt.getTime() / 1000 | 0)
    // serialize/deserialize: the deprecated names of the same calls.
    assert.equal(token.serialize(), token.toJson())
    assert.equal(Token.deserialize(token.serialize()).accessToken, token.accessToken)
    const made = Token.fromAccessToken('opaque-token', 60)
    assert.deepEqual(made.claims(), {})
    assert.ok(made.expiresIn() <= 60)
  })

  test('Token.fromAccessToken takes the lifetime as a number or with a refresh token in an options object', () => {
    const plain = Token.fromAccessToken('opaque-token', 60)
    assert.equal(plain.refreshToken, undefined)
    const withRefresh = Token.fromAccessToken('opaque-token', { expiresIn: 120, refreshToken: 'a-refresh-token' })
    assert.equal(withRefresh.refreshToken, 'a-refresh-token')
    assert.ok(withRefresh.expiresIn() > 60 && withRefresh.expiresIn() <= 120)
    // An hour when no lifetime is given, as in the other languages.
    const hour = Token.fromAccessToken('opaque-token')
    assert.ok(hour.expiresIn() > 3590 && hour.expiresIn() <= 3600)
    assert.ok(Token.fromAccessToken('opaque-token', { refreshToken: 'r' }).expiresIn() > 3590)
    for (const bad of [-1, Number.NaN, Infinity]) {
      assert.throws(() => Token.fromAccessToken('opaque-token', bad), (err) => {
        assert.ok(err instanceof oauth.ConfigError, `${err?.name}: ${err?.message}`)
        // One rule and one message for seconds, the core's.
        assert.match(err.message, /must be a number of seconds from 0 to/)
        return true
      })
    }
  })
})
