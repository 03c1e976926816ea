// A child process of redis.test.mjs: one provider on a RedisStore. Says `ready` over IPC, waits
// for `go`, calls `token()` once, reports what it got, and exits.
import oauth from './pkg.mjs'

const { OAuthClient, RedisStore } = oauth
const spec = JSON.parse(process.argv[2])
const store = new RedisStore(spec.url, { encryptionKey: Buffer.from(spec.key, 'base64') })
const provider = new OAuthClient(spec.client).tokenProvider({ store })
process.once('message', async () => {
  let report
  try {
    const token = await provider.token()
    report = { accessToken: token.accessToken, stats: provider.stats() }
  } catch (err) {
    report = { error: `${err.name}: ${err.message}` }
  }
  process.send(report, () => process.disconnect())
})
process.send('ready')
