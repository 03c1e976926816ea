// Runs a command with the mock server up and the TWILIO_* variables pointing at it:
//   node test/with-mock.mjs node examples/quickstart.mjs
import { spawnSync } from 'node:child_process'
import { startMock, CLIENT_ID, CLIENT_SECRET, ACCOUNT_SID, AUTH_TOKEN } from './mock.mjs'

const [cmd, ...args] = process.argv.slice(2)
const mock = await startMock()
let status
try {
  const r = spawnSync(cmd, args, {
    stdio: 'inherit',
    env: {
      ...process.env,
      TWILIO_CLIENT_ID: CLIENT_ID,
      TWILIO_CLIENT_SECRET: CLIENT_SECRET,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_OAUTH_BASE_URL: mock.url,
      TWILIO_API_BASE_URL: mock.url
    }
  })
  status = r.status ?? 1
} finally {
  await mock.stop()
}
process.exit(status)
