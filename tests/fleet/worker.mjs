// One Node process of a fleet: the same job as worker.py (see there), through the npm package
// of this repository (node/, built by node/ci.sh).
//
//   node worker.mjs '{"base_url": …, "redis_url": …, …}'
import { join, dirname } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'

const here = dirname(fileURLToPath(import.meta.url))
const { OAuthClient, RedisStore, TwilioOAuthError } = await import(
  pathToFileURL(join(here, '..', '..', 'node', 'index.mjs')).href
)

const spec = JSON.parse(process.argv[2])
const client = new OAuthClient({
  clientId: spec.client_id,
  clientSecret: spec.client_secret,
  baseUrl: spec.base_url,
  timeout: 10,
})
const store = spec.redis_url
  ? new RedisStore(spec.redis_url, {
      keyPrefix: spec.key_prefix,
      encryptionKey: spec.encryption_key,
      lockTtl: spec.lock_ttl,
    })
  : undefined
const provider = client.tokenProvider({ store, refreshAhead: spec.refresh_ahead })
const errors = []
let errorCount = 0
let expired = 0
let calls = 0
let lifetime = 0
const delay = spec.start_at * 1000 - Date.now()
if (delay > 0) await sleep(delay)
const until = performance.now() + spec.seconds * 1000
while (performance.now() < until) {
  calls += 1
  try {
    const token = await provider.token()
    if (token.isExpired() || token.expiresIn() <= 0) expired += 1
    lifetime ||= token.lifetime
  } catch (err) {
    if (!(err instanceof TwilioOAuthError)) throw err
    errorCount += 1
    if (errors.length < 5) errors.push(`${err.name}: ${err.message}`)
  }
  await sleep(spec.interval * 1000)
}
const s = provider.stats()
console.log(JSON.stringify({
  language: 'node',
  pid: process.pid,
  calls,
  error_count: errorCount,
  errors,
  expired,
  lifetime,
  stats: { fetches: s.fetches, store_hits: s.storeHits, store_errors: s.storeErrors },
}))
