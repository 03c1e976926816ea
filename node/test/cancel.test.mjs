import test, { describe } from 'node:test'
import assert from 'node:assert/strict'
import oauth from './pkg.mjs'
import { useMock, clientOptions } from './mock.mjs'

const { OAuthClient, CancelledError } = oauth
const mock = useMock(test)

describe('AbortSignal', () => {
  test('aborting cancels a device poll that is waiting for the user', async () => {
    await mock().config({ device_interval: 30 })
    const client = new OAuthClient(clientOptions(mock()))
    const device = await client.createDeviceCode(['offline_access'])
    const controller = new AbortController()
    const polling = client.pollDeviceToken(device, { signal: controller.signal })
    // The client waits the 30 s interval before its first poll: abort during that wait.
    setImmediate(() => controller.abort(new Error('user closed the dialog')))
    await assert.rejects(polling, (err) => {
      assert.ok(err instanceof CancelledError)
      assert.equal(err.name, 'CancelledError')
      assert.equal(err.cause.message, 'user closed the dialog')
      return true
    })
    assert.equal(await mock().requests('/v1/token'), 0)
  })

  test('an already aborted signal rejects before any request', async () => {
    const client = new OAuthClient(clientOptions(mock()))
    const device = await client.createDeviceCode(['offline_access'])
    await assert.rejects(client.pollDeviceToken(device, { signal: AbortSignal.abort() }), CancelledError)
    assert.equal(await mock().requests('/v1/token'), 0)
  })

  test('aborting cancels a slow token request', async () => {
    await mock().config({ latency_ms: 10000 })
    const client = new OAuthClient(clientOptions(mock()))
    const controller = new AbortController()
    const pending = client.clientCredentials({ signal: controller.signal })
    while (await mock().requests('/v2/token') === 0) await new Promise((resolve) => setImmediate(resolve))
    controller.abort()
    await assert.rejects(pending, CancelledError)
  })

  test('a provider call honours its signal while the fetch is shared', async () => {
    await mock().config({ latency_ms: 500 })
    const provider = new OAuthClient(clientOptions(mock())).tokenProvider()
    const controller = new AbortController()
    const patient = provider.accessToken()
    const impatient = provider.accessToken({ signal: controller.signal })
    controller.abort()
    await assert.rejects(impatient, CancelledError)
    assert.ok((await patient).length > 0)
  })

  test('aborting the only caller leaves its fetch running: the token is installed and the next call makes no request', async () => {
    await mock().config({ latency_ms: 400 })
    const provider = new OAuthClient(clientOptions(mock())).tokenProvider()
    const controller = new AbortController()
    const first = provider.token({ signal: controller.signal })
    while (await mock().requests('/v2/token') === 0) await new Promise((resolve) => setImmediate(resolve))
    controller.abort()
    await assert.rejects(first, CancelledError)
    assert.equal(provider.cachedToken(), null, 'the fetch is still in flight')
    // The fetch belongs to the provider: it completes and is installed with no caller waiting.
    const deadline = Date.now() + 5000
    while (provider.cachedToken() === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    assert.notEqual(provider.cachedToken(), null, 'the abandoned fetch was not installed')
    const token = await provider.token()
    assert.equal(token, provider.cachedToken())
    assert.equal(provider.stats().fetches, 1)
    assert.equal(provider.stats().failures, 0)
    assert.equal(await mock().requests('/v2/token'), 1)
  })

  test('a signal that is not an AbortSignal is a ConfigError', async () => {
    const client = new OAuthClient(clientOptions(mock()))
    await assert.rejects(client.clientCredentials({ signal: 'stop' }), oauth.ConfigError)
  })
})
