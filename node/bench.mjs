// Benchmark of the cache-hit path (prints numbers; asserts nothing).
//
//   node bench.mjs        (after `npm run build`; starts the mock server itself)
//
// Compares, in one process, a cached `await provider.accessToken()` (and
// `authorizationHeader()`) with twilio-node's `TokenAuthStrategy.getAuthString()` holding a
// cached token, and times the synchronous `provider.cachedToken()`.
import { createRequire } from 'node:module'
import oauth from './index.mjs'
import { startMock, clientOptions } from './test/mock.mjs'

const require = createRequire(import.meta.url)
const TokenAuthStrategy = require('twilio/lib/auth_strategy/TokenAuthStrategy').default

const ROUNDS = 7
const N = Number(process.env.BENCH_ITERATIONS ?? 200_000)

async function timeAsync (fn) {
  const samples = []
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < N; i++) await fn()
    samples.push(Number(process.hrtime.bigint() - start) / N)
  }
  return median(samples)
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
  return median(samples)
}

function median (xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

const mock = await startMock()
try {
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

  const accessToken = await timeAsync(() => provider.accessToken())
  const header = await timeAsync(() => provider.authorizationHeader())
  const twilioNode = await timeAsync(() => strategy.getAuthString())
  const cached = timeSync(() => provider.cachedToken())
  const stats = provider.stats()

  const fmt = (ns) => `${ns.toFixed(1).padStart(8)} ns/op`
  console.log(`node ${process.version}, ${N} iterations x ${ROUNDS} rounds (median), token of ${token.accessToken.length} chars`)
  console.log(`await provider.accessToken()              ${fmt(accessToken)}`)
  console.log(`await provider.authorizationHeader()      ${fmt(header)}`)
  console.log(`await TokenAuthStrategy.getAuthString()   ${fmt(twilioNode)}   (twilio-node, cached token)`)
  console.log(`provider.cachedToken()                    ${fmt(cached)}`)
  console.log(`speed-up: accessToken() ${(twilioNode / accessToken).toFixed(1)}x, authorizationHeader() ${(twilioNode / header).toFixed(1)}x over getAuthString()`)
  console.log(`provider stats: ${JSON.stringify(stats)}`)
} finally {
  await mock.stop()
}
