// Benchmarks (print numbers; assert nothing about speed).
//
//   node bench.mjs        (after `npm run build`; starts the mock server itself)
//
// 1. Token requests per 100 API calls: the real `twilio` package making API calls with
//    twilio-node's own token handling (its ClientCredentialProvider, which fetches from
//    oauth.twilio.com) and with our drop-in (provider.toTwilioCredentialProvider()). twilio-node's
//    own HTTP client (RequestClient) is pointed at the local mock server for both
//    oauth.twilio.com and api.twilio.com, and refuses any other host: nothing leaves the machine.
// 2. The cache-hit path: a cached `await provider.accessToken()` (and `authorizationHeader()`)
//    against twilio-node's `TokenAuthStrategy.getAuthString()` holding a cached token, and the
//    synchronous `provider.cachedToken()`.
//
// Env: BENCH_ITERATIONS (cache-hit loop length, default 200000), BENCH_API_CALLS (default 100),
// BENCH_TOKEN_LATENCY_MS (added by the mock to each token request, default 20),
// BENCH_JSON=path (also write the results there as JSON).
import { createRequire } from 'node:module'
import { writeFileSync } from 'node:fs'
import oauth from './index.mjs'
import { startMock, clientOptions, CLIENT_ID, CLIENT_SECRET, ACCOUNT_SID } from './test/mock.mjs'

const require = createRequire(import.meta.url)
const twilio = require('twilio')
const TokenAuthStrategy = require('twilio/lib/auth_strategy/TokenAuthStrategy').default
const twilioVersion = require('twilio/package.json').version

const ROUNDS = 7
const N = Number(process.env.BENCH_ITERATIONS ?? 200_000)
const API_CALLS = Number(process.env.BENCH_API_CALLS ?? 100)
const TOKEN_LATENCY_MS = Number(process.env.BENCH_TOKEN_LATENCY_MS ?? 20)
const BATCH = 10

function median (xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

function table (header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

// ---------------------------------------------------------------------------------------------
// 1. Token requests per API calls, through the real twilio package.

// twilio-node's own HTTP client, for every Twilio client of this process (also the one its
// token manager makes internally): Twilio hosts go to the mock, anything else is refused.
function pointTwilioAtTheMock (mockUrl) {
  const original = twilio.RequestClient.prototype.request
  twilio.RequestClient.prototype.request = function (opts) {
    const uri = String(opts.uri).replace(/^https:\/\/(oauth|api)\.twilio\.com(?=\/)/, mockUrl)
    if (!uri.startsWith(`${mockUrl}/`)) {
      return Promise.reject(new Error(`the benchmark refuses a request to ${opts.uri}`))
    }
    return original.call(this, { ...opts, uri })
  }
}

async function apiCalls (client, mode) {
  const call = () => client.api.v2010.accounts(ACCOUNT_SID).fetch()
  if (mode === 'sequential') {
    for (let i = 0; i < API_CALLS; i++) await call()
  } else {
    for (let i = 0; i < API_CALLS; i += BATCH) {
      await Promise.all(Array.from({ length: Math.min(BATCH, API_CALLS - i) }, call))
    }
  }
}

async function tokenRequestRun (mock, handling, mode) {
  await mock.reset()
  await mock.config({ latency_ms: TOKEN_LATENCY_MS })
  const client = twilio()
  let provider = null
  if (handling === 'twilio-node') {
    client.setCredentialProvider(new twilio.ClientCredentialProviderBuilder()
      .setClientId(CLIENT_ID)
      .setClientSecret(CLIENT_SECRET)
      .build())
  } else {
    provider = new oauth.OAuthClient(clientOptions(mock)).tokenProvider()
    client.setCredentialProvider(provider.toTwilioCredentialProvider())
  }
  const start = process.hrtime.bigint()
  await apiCalls(client, mode)
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  const stats = await mock.stats()
  const tokenRequests = stats.requests['/v2/token'] ?? 0
  const served = Object.entries(stats.requests)
    .filter(([path]) => path.startsWith('/2010-04-01/'))
    .reduce((n, [, count]) => n + count, 0)
  if (served !== API_CALLS) throw new Error(`the mock served ${served} API calls, not ${API_CALLS}`)
  return {
    handling,
    mode,
    apiCalls: API_CALLS,
    tokenRequests,
    tokenRequestsPer100ApiCalls: (tokenRequests / API_CALLS) * 100,
    seconds,
    providerStats: provider?.stats()
  }
}

const handlingName = {
  'twilio-node': 'twilio-node `ClientCredentialProvider`',
  'twilio-oauth': 'twilio-oauth `provider.toTwilioCredentialProvider()`'
}
const modeName = { sequential: 'one after another', concurrent: `${BATCH} at a time` }

async function tokenRequestBench (mock) {
  pointTwilioAtTheMock(mock.url)
  const runs = []
  for (const mode of ['sequential', 'concurrent']) {
    for (const handling of ['twilio-node', 'twilio-oauth']) {
      runs.push(await tokenRequestRun(mock, handling, mode))
    }
  }
  await mock.reset()
  console.log(`\n### Token requests per ${API_CALLS} API calls (twilio ${twilioVersion}, ${TOKEN_LATENCY_MS} ms per token request)\n`)
  console.log(table(
    ['token handling', 'API calls', 'token requests', 'per 100 API calls', 'wall time'],
    runs.map((r) => [
      handlingName[r.handling],
      `${r.apiCalls} (${modeName[r.mode]})`,
      String(r.tokenRequests),
      r.tokenRequestsPer100ApiCalls.toFixed(0),
      `${(r.seconds * 1000).toFixed(0)} ms`
    ])
  ))
  return { apiCalls: API_CALLS, batch: BATCH, tokenLatencyMs: TOKEN_LATENCY_MS, runs }
}

// ---------------------------------------------------------------------------------------------
// 2. The cache-hit path.

async function timeAsync (fn) {
  const samples = []
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < N; i++) await fn()
    samples.push(Number(process.hrtime.bigint() - start) / N)
  }
  return summary(samples)
}

/** Median per call, with the fastest and slowest round. */
function summary (samples) {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples) }
}

function timeSync (fn) {
  const samples = []
  let sink = 0
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < N; i++) if (fn() !== null) sink++
    samples.push(Number(process.hrtime.bigint() - start) / N)
  }
  if (sink !== ROUNDS * N) throw new Error('cachedToken() missed')
  return summary(samples)
}

async function cacheHitBench (mock) {
  const client = new oauth.OAuthClient(clientOptions(mock))
  const provider = client.tokenProvider()
  const token = await provider.token()

  const strategy = new TokenAuthStrategy({
    fetchToken: () => Promise.reject(new Error('the benchmark token should be cached'))
  })
  strategy.token = token.accessToken
  if (await strategy.getAuthString() !== `Bearer ${token.accessToken}`) throw new Error('unexpected auth string')

  // Warm up every path before measuring.
  for (let i = 0; i < 50_000; i++) {
    await provider.accessToken()
    await provider.authorizationHeader()
    await strategy.getAuthString()
    provider.cachedToken()
  }

  const timed = {
    accessToken: await timeAsync(() => provider.accessToken()),
    authorizationHeader: await timeAsync(() => provider.authorizationHeader()),
    twilioNodeGetAuthString: await timeAsync(() => strategy.getAuthString()),
    cachedToken: timeSync(() => provider.cachedToken())
  }
  const ns = Object.fromEntries(Object.entries(timed).map(([k, v]) => [k, v.median]))
  const stats = provider.stats()

  const fmt = (x) => `${x.toFixed(1)} ns`
  const row = (name, t) => [name, fmt(t.median), `${fmt(t.min)} – ${fmt(t.max)}`]
  console.log(`\n### Cache hit (${N} iterations x ${ROUNDS} rounds; token of ${token.accessToken.length} chars)\n`)
  console.log(table(['call', 'median per call', 'min – max (rounds)'], [
    row('`await provider.accessToken()`', timed.accessToken),
    row('`await provider.authorizationHeader()`', timed.authorizationHeader),
    row('`await TokenAuthStrategy.getAuthString()` (twilio-node, cached token)', timed.twilioNodeGetAuthString),
    row('`provider.cachedToken()` (synchronous)', timed.cachedToken)
  ]))
  const speedup = {
    accessToken: ns.twilioNodeGetAuthString / ns.accessToken,
    authorizationHeader: ns.twilioNodeGetAuthString / ns.authorizationHeader
  }
  console.log(`\nspeed-up over getAuthString(): accessToken() ${speedup.accessToken.toFixed(1)}x, authorizationHeader() ${speedup.authorizationHeader.toFixed(1)}x`)
  console.log(`provider stats: ${JSON.stringify(stats)}`)
  return { iterations: N, rounds: ROUNDS, nsPerCall: ns, nsPerCallRange: timed, speedup, providerStats: stats }
}

// ---------------------------------------------------------------------------------------------

const mock = await startMock()
try {
  console.log(`node ${process.version}, twilio ${twilioVersion}`)
  const tokenRequests = await tokenRequestBench(mock)
  const cacheHit = await cacheHitBench(mock)
  if (process.env.BENCH_JSON) {
    const results = { language: 'Node', node: process.version, twilio: twilioVersion, tokenRequests, cacheHit }
    writeFileSync(process.env.BENCH_JSON, JSON.stringify(results, null, 2) + '\n')
    console.log(`\nresults written to ${process.env.BENCH_JSON}`)
  }
} finally {
  await mock.stop()
}
