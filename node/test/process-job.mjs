// A child process of processes.test.mjs: one provider on the shared FileStore, `token()` in a
// loop until the common deadline, every token checked the moment it is handed out. Reports
// what it saw over IPC, then exits.
import oauth from './pkg.mjs'

const { OAuthClient, FileStore } = oauth
const spec = JSON.parse(process.argv[2])
const provider = new OAuthClient(spec.client).tokenProvider({ store: new FileStore(spec.path), ...spec.provider })
let calls = 0
let expired = 0
const errors = []
const tokens = new Set()
while (Date.now() < spec.until && errors.length < 10) {
  try {
    const token = await provider.token()
    calls++
    if (token.expiresIn() <= 0 || token.isExpired()) expired++
    tokens.add(token.accessToken)
  } catch (err) {
    errors.push(`${err.name}: ${err.message}`)
  }
  await new Promise((resolve) => setTimeout(resolve, spec.everyMs))
}
process.send({ pid: process.pid, calls, expired, errors, tokens: tokens.size, stats: provider.stats() }, () => process.disconnect())
