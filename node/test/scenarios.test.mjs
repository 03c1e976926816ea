// The language-independent scenarios of tests/scenarios/*.json, run through the public API of
// the packed package (see tests/scenarios/README.md). Each scenario is its own test; they run
// one after another against one mock server, reset before each. The tally goes to
// <repo>/target/scenario-results/node.json for scripts/scenario-table.
import test, { describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { isDeepStrictEqual } from 'node:util'
import oauth from './pkg.mjs'
import {
  startMock, repoRoot, CLIENT_ID, CLIENT_SECRET, PUBLIC_CLIENT_ID, ACCOUNT_SID, AUTH_TOKEN
} from './mock.mjs'

const { OAuthClient, Token, DeviceAuthorization, FileStore, TwilioOAuthError } = oauth

// The scenarios say every option they want: nothing may come from the environment.
for (const name of ['TWILIO_CLIENT_ID', 'TWILIO_CLIENT_SECRET', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_OAUTH_BASE_URL']) {
  delete process.env[name]
}

const scenarioDir = join(repoRoot, 'tests', 'scenarios')
const scenarios = readdirSync(scenarioDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .flatMap((f) => JSON.parse(readFileSync(join(scenarioDir, f), 'utf8')))

function buildClient (mock, spec) {
  const kind = spec.client ?? 'confidential'
  const options = kind === 'public'
    ? { clientId: PUBLIC_CLIENT_ID }
    : kind === 'wrong_secret'
      ? { clientId: CLIENT_ID, clientSecret: 'wrong-secret' }
      : { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }
  if (spec.v1_credentials !== false) Object.assign(options, { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN })
  if (spec.client_id !== undefined) options.clientId = spec.client_id
  if (spec.client_secret !== undefined) options.clientSecret = spec.client_secret
  options.baseUrl = (spec.base_url ?? '{server}')
    .replaceAll('{server}', mock.url)
    .replaceAll('{closed_port}', 'http://127.0.0.1:1')
  if (spec.timeout !== undefined) options.timeout = spec.timeout
  if (spec.max_retries !== undefined) options.maxRetries = spec.max_retries
  return new OAuthClient(options)
}

/** GETs the authorize URL without following the redirect; returns { code, state }. */
async function authorize (url) {
  const res = await fetch(url, { redirect: 'manual' })
  await res.arrayBuffer()
  const location = res.headers.get('location')
  if (location === null) throw new Error(`GET /v2/authorize answered ${res.status} without a Location`)
  const query = new URL(location).searchParams
  return { code: query.get('code'), state: query.get('state') }
}

async function pkce (client, call, right) {
  const redirect = call.redirect_uri
  const request = client.authorizationUrl(redirect, { scope: call.scope })
  const { code, state } = await authorize(request.url)
  assert.equal(state, request.state, 'the redirect must carry our state back')
  const verifier = right ? request.codeVerifier : client.authorizationUrl(redirect).codeVerifier
  return client.exchangeCode(code, { redirectUri: redirect, codeVerifier: verifier })
}

/** A person's login for the `user_*` ops: the PKCE flow with the right verifier. */
function login (client, call) {
  return pkce(client, { redirect_uri: 'http://127.0.0.1/callback', scope: call.scope ?? 'openid offline_access' }, true)
}

// Every token of concurrent calls once all have settled, or the first error.
async function allTokens (promises) {
  const settled = await Promise.allSettled(promises)
  const failed = settled.find((s) => s.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  return settled.map((s) => s.value)
}

/**
 * Runs `call`; resolves to { tokens } or { device } or {} (construct). `problems` collects
 * what an op checks along the way (the `user_*` ops).
 */
async function runCall (mock, client, call, problems) {
  const provider = () => client.tokenProvider({ scope: call.scope })
  switch (call.op) {
    case 'construct':
      return {}
    case 'client_credentials':
      return { tokens: [await client.clientCredentials({ scope: call.scope, audience: call.audience })] }
    case 'create_oauth2_token':
      return {
        tokens: [await client.createOauth2Token(call.grant_type, {
          scope: call.scope,
          audience: call.audience,
          accountSid: call.account_sid,
          refreshToken: call.refresh_token,
          code: call.code
        })]
      }
    case 'create_token':
      return { tokens: [await client.createToken(call.grant_type)] }
    case 'create_device_code':
      return { device: await client.createDeviceCode(call.scopes, { audiences: call.audiences ?? [] }) }
    case 'device_flow': {
      const device = await client.createDeviceCode(call.scopes)
      if (call.then === 'approve') await mock.approve(device.userCode)
      else if (call.then === 'deny') await mock.deny(device.userCode)
      return { tokens: [await client.pollDeviceToken(device)] }
    }
    case 'pkce_flow':
      return { tokens: [await pkce(client, call, call.verifier !== 'wrong')] }
    case 'refresh_flow': {
      const token = await pkce(client, call, true)
      assert.ok(token.refreshToken, 'the code exchange must give a refresh token')
      return { tokens: [await client.refresh(token.refreshToken)] }
    }
    case 'provider_concurrent': {
      const p = provider()
      return { tokens: await allTokens(Array.from({ length: call.callers }, () => p.token())) }
    }
    case 'provider_repeat': {
      const p = provider()
      const tokens = []
      for (let i = 0; i < call.calls; i++) tokens.push(await p.token())
      return { tokens }
    }
    case 'provider_invalidate': {
      const p = provider()
      const first = await p.token()
      p.invalidate()
      return { tokens: [first, await p.token()] }
    }
    case 'user_refresh_refused': {
      const token = await login(client, call)
      await client.refresh(token.refreshToken)
      const p = client.tokenProvider({ initialToken: token })
      p.invalidate()
      return { tokens: [await p.token()] }
    }
    case 'user_refresh_cycles': {
      const token = await login(client, call)
      const p = client.tokenProvider({ initialToken: token })
      const tokens = [token]
      for (let i = 0; i < call.cycles; i++) {
        p.invalidate()
        tokens.push(await p.token())
      }
      return { tokens }
    }
    case 'user_over_lifetimes': {
      const token = await login(client, call)
      const p = client.tokenProvider({ initialToken: token })
      const until = performance.now() + call.seconds * 1000
      const tokens = []
      while (performance.now() < until) {
        const t = await p.token()
        if (t.expiresIn() <= 0 || t.isExpired()) problems.push('expired token handed out')
        tokens.push(t)
        await sleep(call.interval_ms)
      }
      return { tokens }
    }
    case 'user_no_later_expiry': {
      const token = await login(client, call)
      const p = client.tokenProvider({ initialToken: token, refreshAhead: call.refresh_ahead })
      await sleep(call.wait_ms)
      await mock.config(call.then_config)
      const t1 = await p.token()
      if (t1.accessToken !== token.accessToken) problems.push('the first call did not return the login\'s access token')
      const deadline = performance.now() + 5000
      let kept = null
      for (;;) {
        const cached = p.cachedToken()
        if (cached !== null && cached.refreshToken !== undefined && cached.refreshToken !== token.refreshToken) {
          kept = cached
          break
        }
        if (performance.now() > deadline) break
        await sleep(10)
      }
      if (kept === null) problems.push('new refresh token not kept')
      else if (kept.accessToken !== token.accessToken) problems.push('the longer-lived access token was not kept')
      p.invalidate()
      return { tokens: [t1, await p.token()] }
    }
    case 'two_users_one_file_store': {
      const dir = mkdtempSync(join(tmpdir(), 'twilio-oauth-scenario-'))
      try {
        const store = new FileStore(join(dir, 'tokens.json'))
        for (const user of call.users) {
          await mock.config({ user_sid: user })
          const token = await login(client, call)
          await client.tokenProvider({ store, initialToken: token, account: user }).token()
        }
        let last
        for (const user of call.users) {
          last = await client.tokenProvider({ store, account: user }).token()
          const sub = last.claims().sub
          if (sub !== user) problems.push(`${user} got the token of ${JSON.stringify(sub)}`)
        }
        return { tokens: [last] }
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
    default:
      throw new Error(`unknown op ${call.op}`)
  }
}

function checkOk (outcome, want, problems) {
  if (outcome.device !== undefined) {
    const device = outcome.device
    if (!(device instanceof DeviceAuthorization)) problems.push('not a DeviceAuthorization')
    for (const [key, value] of Object.entries(want)) {
      if (key === 'user_code_length') {
        if (device.userCode.length !== value) problems.push(`user_code ${JSON.stringify(device.userCode)}`)
      } else if (key === 'interval') {
        if (Math.trunc(device.interval) !== value) problems.push(`interval ${device.interval}`)
      } else {
        throw new Error(`unknown expectation ok.${key} for a device authorization`)
      }
    }
    return
  }
  if (outcome.tokens === undefined) {
    if (Object.keys(want).length > 0) throw new Error('token expectations for a call without a token')
    return
  }
  const tokens = outcome.tokens
  if (!tokens.every((t) => t instanceof Token)) problems.push('not every outcome is a Token')
  const last = tokens.at(-1)
  for (const [key, value] of Object.entries(want)) {
    let ok
    let got
    switch (key) {
      case 'token_type':
        got = last.tokenType
        ok = got === value
        break
      case 'is_jwt':
        got = Object.keys(last.claims()).length > 0
        ok = got === value
        break
      case 'expires_in_min':
        got = last.expiresIn()
        ok = got >= value
        break
      case 'expires_in_max':
        got = last.expiresIn()
        ok = got <= value
        break
      case 'has_refresh_token':
        got = last.refreshToken !== undefined
        ok = got === value
        break
      case 'has_id_token':
        got = last.idToken !== undefined
        ok = got === value
        break
      case 'claims': {
        const claims = last.claims()
        got = claims
        ok = Object.entries(value).every(([k, v]) => isDeepStrictEqual(claims[k], v))
        break
      }
      case 'same_token_for_all':
        got = new Set(tokens.map((t) => t.accessToken)).size === 1
        ok = got === value
        break
      case 'tokens_differ':
        got = tokens[0].accessToken !== last.accessToken
        ok = got === value
        break
      default:
        throw new Error(`unknown expectation ok.${key}`)
    }
    if (!ok) problems.push(`ok.${key}: want ${JSON.stringify(value)}, got ${JSON.stringify(got)}`)
  }
}

function checkError (err, want, problems) {
  if (!(err instanceof TwilioOAuthError)) {
    problems.push(`failed with ${err?.name ?? typeof err} (not a TwilioOAuthError): ${err?.message ?? err}`)
    return
  }
  for (const [key, value] of Object.entries(want)) {
    let ok
    switch (key) {
      case 'kind': {
        const cls = oauth[value]
        ok = err.name === value && typeof cls === 'function' && err instanceof cls
        break
      }
      case 'status':
        ok = err.status === value
        break
      case 'code':
        ok = err.code === value
        break
      case 'error':
        ok = err.error === value
        break
      case 'message':
        // The server's own words (the core's `ApiError.message`); `err.message` is the human text.
        ok = err.serverMessage === value
        break
      case 'message_contains':
        ok = err.message.includes(value)
        break
      case 'more_info':
        ok = err.moreInfo === value
        break
      case 'retry_after':
        ok = typeof err.retryAfter === 'number' && Math.trunc(err.retryAfter) === value
        break
      default:
        throw new Error(`unknown expectation error.${key}`)
    }
    if (!ok) {
      const fields = JSON.stringify({ status: err.status, code: err.code, error: err.error, serverMessage: err.serverMessage, moreInfo: err.moreInfo, retryAfter: err.retryAfter })
      problems.push(`error.${key}: want ${JSON.stringify(value)}, got ${err.name}: ${err.message} ${fields}`)
    }
  }
}

async function runScenario (mock, scenario) {
  await mock.reset()
  const server = scenario.server ?? {}
  if (server.config !== undefined) await mock.config(server.config)
  for (const [endpoint, faults] of Object.entries(server.faults ?? {})) {
    await mock.faults(endpoint, JSON.parse(JSON.stringify(faults).replaceAll('{server}', mock.url)))
  }
  const expect = scenario.expect
  const started = performance.now()
  let outcome
  let error
  let failed = false
  const problems = []
  try {
    outcome = await runCall(mock, buildClient(mock, scenario.client ?? {}), scenario.call, problems)
  } catch (err) {
    failed = true
    error = err
  }
  const took = (performance.now() - started) / 1000
  if (!failed && expect.ok !== undefined && expect.error === undefined) {
    checkOk(outcome, expect.ok, problems)
  } else if (failed && expect.error !== undefined && expect.ok === undefined) {
    checkError(error, expect.error, problems)
  } else if (!failed) {
    problems.push('succeeded, but an error was expected')
  } else {
    problems.push(`failed with ${error?.name}: ${error?.message}`)
  }
  const stats = await mock.stats()
  for (const [path, count] of Object.entries(expect.requests ?? {})) {
    const got = stats.requests[path] ?? 0
    if (got !== count) problems.push(`requests ${path}: want ${count}, got ${got}`)
  }
  // The server's other counters (refreshes, refresh_reuses, grants_revoked, tokens_issued):
  // exact values, then lower bounds.
  for (const [field, atLeast] of [['server_stats', false], ['server_stats_min', true]]) {
    for (const [name, want] of Object.entries(expect[field] ?? {})) {
      const got = stats[name]
      const ok = typeof got === 'number' && (atLeast ? got >= want : got === want)
      if (!ok) problems.push(`${field}.${name}: want ${want}, got ${JSON.stringify(got)}`)
    }
  }
  if (expect.min_seconds !== undefined && took < expect.min_seconds) {
    problems.push(`took ${took.toFixed(2)} s, less than ${expect.min_seconds} s`)
  }
  return problems
}

let mock
const results = new Map()

describe('scenarios of tests/scenarios/*.json through the Node API', () => {
  before(async () => { mock = await startMock() })
  after(async () => {
    await mock?.stop()
    const passed = [...results.values()].filter(Boolean).length
    const failedCount = scenarios.length - passed
    console.log(`scenarios: ${passed} passed, ${failedCount} failed`)
    const out = join(repoRoot, 'target', 'scenario-results')
    mkdirSync(out, { recursive: true })
    writeFileSync(join(out, 'node.json'), JSON.stringify({ language: 'Node', passed, failed: failedCount }) + '\n')
  })

  test('the scenario files hold at least forty scenarios with unique names', () => {
    assert.ok(scenarios.length >= 40, `only ${scenarios.length} scenarios`)
    assert.equal(new Set(scenarios.map((s) => s.name)).size, scenarios.length)
  })

  for (const scenario of scenarios) {
    test(scenario.name.replaceAll('_', ' '), async () => {
      results.set(scenario.name, false)
      const problems = await runScenario(mock, scenario)
      results.set(scenario.name, problems.length === 0)
      assert.deepEqual(problems, [], problems.join('; '))
    })
  }
})
