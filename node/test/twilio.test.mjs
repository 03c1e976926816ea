import test, { describe } from 'node:test'
import assert from 'node:assert/strict'
import oauth from './pkg.mjs'
import { projectRequire } from './pkg.mjs'
import { useMock, clientOptions, ACCOUNT_SID } from './mock.mjs'

const { OAuthClient } = oauth
const mock = useMock(test)

// The real `twilio` package, installed next to twilio-oauth in the test project.
const twilio = projectRequire('twilio')
const CredentialProvider = projectRequire('twilio/lib/credential_provider/CredentialProvider').default
const AuthStrategy = projectRequire('twilio/lib/auth_strategy/AuthStrategy').default

// twilio-node's own HTTP client, sending api.twilio.com requests to the mock instead.
class ToMock extends twilio.RequestClient {
  constructor (base) {
    super()
    this.base = base
  }

  request (opts) {
    return super.request({ ...opts, uri: opts.uri.replace(/^https:\/\/api\.twilio\.com/, this.base) })
  }
}

describe('twilio-node drop-in', () => {
  test('toTwilioCredentialProvider subclasses twilio\'s CredentialProvider and AuthStrategy', () => {
    const provider = new OAuthClient(clientOptions(mock())).tokenProvider()
    const credentials = provider.toTwilioCredentialProvider()
    assert.ok(credentials instanceof CredentialProvider)
    const strategy = credentials.toAuthStrategy()
    assert.ok(strategy instanceof AuthStrategy)
    assert.equal(strategy.getAuthType(), 'token')
    assert.equal(strategy.requiresAuthentication(), true)
  })

  test('five API calls through twilio-node reuse one cached token', async () => {
    const provider = new OAuthClient(clientOptions(mock())).tokenProvider()
    const client = twilio(undefined, undefined, { httpClient: new ToMock(mock().url) })
    client.setCredentialProvider(provider.toTwilioCredentialProvider())
    for (let i = 0; i < 4; i++) {
      const account = await client.api.v2010.accounts(ACCOUNT_SID).fetch()
      assert.equal(account.sid, ACCOUNT_SID)
    }
    const messages = await client.api.v2010.accounts(ACCOUNT_SID).messages.list({ limit: 10 })
    assert.deepEqual(messages, [])
    assert.equal(await mock().requests('/v2/token'), 1)
    const stats = await mock().stats()
    const apiCalls = Object.entries(stats.requests)
      .filter(([path]) => path.startsWith('/2010-04-01/'))
      .reduce((n, [, count]) => n + count, 0)
    assert.equal(apiCalls, 5)
    assert.equal(provider.stats().fetches, 1)
  })

  test('an API call made with a token the API refuses fails with twilio\'s 401', async () => {
    const provider = new OAuthClient(clientOptions(mock())).tokenProvider({
      initialToken: oauth.Token.fromAccessToken('not-a-token-the-api-accepts', 3600)
    })
    const client = twilio(undefined, undefined, { httpClient: new ToMock(mock().url) })
    client.setCredentialProvider(provider.toTwilioCredentialProvider())
    await assert.rejects(client.api.v2010.accounts(ACCOUNT_SID).fetch(), (err) => {
      assert.equal(err.status, 401)
      return true
    })
  })
})
