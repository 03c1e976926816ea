// Real OS processes (child_process.fork) sharing one FileStore, as a cluster or pm2 fleet
// does: one person's login refreshed by whichever process gets there first, never two
// refreshes of one refresh token; and one app token for the whole fleet.
//
// Tokens live 3 s on the server. The core gives one second back for JWT whole-second times, so
// the client serves such a token for `token.lifetime` (2 s); lifetimes are counted in that.
// `refreshAhead: 0.25` refreshes a token a quarter of a second before it would be stale.
import test, { describe } from 'node:test'
import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import oauth from './pkg.mjs'
import { useMock, clientOptions, pkceLogin } from './mock.mjs'

const { OAuthClient, FileStore } = oauth
const mock = useMock(test)
const jobPath = fileURLToPath(new URL('./process-job.mjs', import.meta.url))
const SERVER_LIFETIME_SECS = 3
const RUN_MS = 9000
const providerTuning = { refreshAhead: 0.25 }

function privateDir (t) {
  const dir = mkdtempSync(join(tmpdir(), 'twilio-oauth-processes-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Forks `n` children on one spec; resolves to their reports once all have exited. */
async function runChildren (n, spec) {
  const runs = Array.from({ length: n }, () => new Promise((resolve, reject) => {
    const child = fork(jobPath, [JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    let report = null
    child.on('message', (m) => { report = m })
    child.on('error', reject)
    child.on('exit', (code, signal) => resolve({ code, signal, report }))
  }))
  const results = await Promise.all(runs)
  assert.deepEqual(results.map((r) => [r.code, r.signal]), results.map(() => [0, null]), 'every child exits cleanly')
  return results.map((r) => r.report)
}

function assertNoErrorsAndNoExpiredTokens (reports) {
  for (const r of reports) {
    assert.deepEqual(r.errors, [], `process ${r.pid}`)
    assert.equal(r.expired, 0, `process ${r.pid} was handed ${r.expired} expired tokens`)
    assert.ok(r.calls > 50, `process ${r.pid} made only ${r.calls} calls`)
  }
}

async function sharedLogin (t, processes) {
  await mock().config({ token_lifetime_secs: SERVER_LIFETIME_SECS })
  const client = new OAuthClient(clientOptions(mock()))
  const login = await pkceLogin(client)
  const loggedInAt = Date.now()
  const path = join(privateDir(t), 'tokens.json')
  // Saved once: the first call reconciles the login with the (empty) store and saves it.
  const saver = client.tokenProvider({ store: new FileStore(path), account: 'alice', initialToken: login })
  assert.equal((await saver.token()).accessToken, login.accessToken)
  const before = await mock().stats()
  const until = Date.now() + RUN_MS
  const reports = await runChildren(processes, {
    client: clientOptions(mock()),
    path,
    provider: { account: 'alice', ...providerTuning },
    until,
    everyMs: 20
  })
  const after = await mock().stats()
  const lifetimes = (until - loggedInAt) / 1000 / login.lifetime
  const refreshes = after.refreshes - before.refreshes
  t.diagnostic(`${processes} processes, ${((until - loggedInAt) / 1000).toFixed(1)} s = ${lifetimes.toFixed(1)} lifetimes of ${login.lifetime} s: ` +
    `${refreshes} refreshes, ${reports.reduce((n, r) => n + r.calls, 0)} token() calls, ` +
    `${reports.reduce((n, r) => n + r.stats.storeHits, 0)} store hits`)
  assertNoErrorsAndNoExpiredTokens(reports)
  assert.equal(after.refresh_reuses, 0, 'a refresh token was sent twice')
  assert.equal(after.grants_revoked, 0)
  assert.ok(refreshes <= lifetimes + 2, `${refreshes} refreshes in ${lifetimes.toFixed(1)} lifetimes`)
  assert.ok(refreshes >= lifetimes - 1, `${refreshes} refreshes in ${lifetimes.toFixed(1)} lifetimes`)
  // Only refreshes: never a client-credentials token in place of the person's.
  assert.equal(after.requests['/v2/token'] - before.requests['/v2/token'], refreshes)
  assert.equal(reports.reduce((n, r) => n + r.stats.fetches, 0), refreshes)
}

describe('processes sharing one FileStore', { timeout: 60_000 }, () => {
  test("two processes share one person's login: each refresh token is sent once, no token is handed out expired", async (t) => {
    await sharedLogin(t, 2)
  })

  test("eight processes share one person's login: each refresh token is sent once, no token is handed out expired", async (t) => {
    await sharedLogin(t, 8)
  })

  test('eight processes share one app token: about one token request per lifetime, not eight', async (t) => {
    await mock().config({ token_lifetime_secs: SERVER_LIFETIME_SECS })
    const path = join(privateDir(t), 'tokens.json')
    const lifetime = (await new OAuthClient(clientOptions(mock())).clientCredentials()).lifetime
    const before = await mock().requests('/v2/token')
    const start = Date.now()
    const until = start + RUN_MS
    const reports = await runChildren(8, { client: clientOptions(mock()), path, provider: providerTuning, until, everyMs: 20 })
    const requests = await mock().requests('/v2/token') - before
    const lifetimes = (until - start) / 1000 / lifetime
    t.diagnostic(`8 processes, ${lifetimes.toFixed(1)} lifetimes of ${lifetime} s: ${requests} token requests, ` +
      `${reports.reduce((n, r) => n + r.stats.storeHits, 0)} store hits`)
    assertNoErrorsAndNoExpiredTokens(reports)
    assert.ok(requests <= lifetimes + 2, `${requests} token requests in ${lifetimes.toFixed(1)} lifetimes`)
    assert.ok(requests >= lifetimes - 1, `${requests} token requests in ${lifetimes.toFixed(1)} lifetimes`)
    assert.equal(reports.reduce((n, r) => n + r.stats.fetches, 0), requests)
  })
})
