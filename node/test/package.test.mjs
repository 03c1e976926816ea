import test, { describe } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { inspect } from 'node:util'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import oauth, { packageDir, projectDir, projectRequire } from './pkg.mjs'
import { useMock, clientOptions, CLIENT_SECRET, AUTH_TOKEN } from './mock.mjs'

const { OAuthClient } = oauth
const mock = useMock(test)

function runInProject (args) {
  const r = spawnSync(process.execPath, args, { cwd: projectDir, encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  return r.stdout.trim()
}

describe('package', () => {
  test('require() loads the CommonJS entry', () => {
    const out = runInProject(['-e', `
      const m = require('twilio-oauth')
      console.log([typeof m.OAuthClient, typeof m.TokenProvider, typeof m.CancelledError].join(','))
    `])
    assert.equal(out, 'function,function,function')
  })

  test('import loads the ES module entry with the same classes', () => {
    const out = runInProject(['--input-type=module', '-e', `
      import { OAuthClient, ApiError, LoginRequiredError } from 'twilio-oauth'
      import oauth from 'twilio-oauth'
      import { createRequire } from 'node:module'
      const cjs = createRequire(process.cwd() + '/')('twilio-oauth')
      console.log(OAuthClient === cjs.OAuthClient && ApiError === cjs.ApiError && oauth.OAuthClient === OAuthClient &&
        LoginRequiredError === cjs.LoginRequiredError && LoginRequiredError.prototype instanceof ApiError)
    `])
    assert.equal(out, 'true')
  })

  test('every export of the CommonJS entry is a named export of the ES module entry', () => {
    const out = runInProject(['--input-type=module', '-e', `
      import * as esm from 'twilio-oauth'
      import { createRequire } from 'node:module'
      const cjs = createRequire(process.cwd() + '/')('twilio-oauth')
      const missing = Object.keys(cjs).filter((k) => !k.startsWith('_') && esm[k] !== cjs[k])
      console.log(JSON.stringify(missing))
    `])
    assert.equal(out, '[]')
  })

  test('the declared values (native.d.ts from napi-rs, index.d.ts) are exactly the exports', () => {
    const declared = new Set()
    for (const file of ['native.d.ts', 'index.d.ts']) {
      for (const m of readFileSync(join(packageDir, file), 'utf8').matchAll(/^export declare (?:class|const|function) (\w+)/gm)) {
        // napi-rs's loader reports which artifact it loaded; not part of the API.
        if (!m[1].startsWith('__napi')) declared.add(m[1])
      }
    }
    const exported = Object.keys(projectRequire('twilio-oauth')).filter((k) => !k.startsWith('_'))
    assert.deepEqual([...declared].sort(), exported.sort())
    for (const name of ['OAuthClient', 'TokenProvider', 'Token', 'FileStore', 'RedisStore', 'LoginRequiredError']) {
      assert.ok(declared.has(name), name)
    }
  })

  test('the generated declarations carry the Rust doc comments', () => {
    const types = readFileSync(join(packageDir, 'native.d.ts'), 'utf8')
    assert.match(types, /\/\*\* The cached token if it may be handed out, else `null`\. Synchronous; no I\/O\. \*\/\n\s+cachedToken\(\): Token \| null/)
    assert.match(types, /@deprecated Use `Token\.fromJson`/)
  })

  test('inspect, String and JSON.stringify never show a secret in full', async () => {
    await mock().config({ device_interval: 1 })
    const client = new OAuthClient(clientOptions(mock()))
    const device = await client.createDeviceCode(['offline_access'])
    const polling = client.pollDeviceToken(device)
    await mock().approve(device.userCode)
    const token = await polling
    const provider = client.tokenProvider({ initialToken: token })
    const request = client.authorizationUrl('http://localhost/cb')
    const secrets = [token.accessToken, token.refreshToken, device.deviceCode, request.codeVerifier, CLIENT_SECRET, AUTH_TOKEN]
    assert.ok(secrets.every((s) => typeof s === 'string' && s.length > 8))
    for (const value of [token, device, provider, client, request]) {
      for (const text of [inspect(value), inspect(value, { depth: 10, showHidden: true }), String(value), JSON.stringify(value) ?? '', `${value}`]) {
        for (const secret of secrets) {
          assert.ok(!text.includes(secret), `a secret shows in ${text}`)
        }
      }
    }
    assert.match(String(token), /^Bearer \S+…\(\d+ chars\) \(expires in \d+s\)$/)
    assert.match(inspect(device), new RegExp(device.userCode))
  })
})
