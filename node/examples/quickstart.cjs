// The README's quick start (examples/quickstart.mjs) from CommonJS.
'use strict'
const { OAuthClient, ApiError } = require('twilio-oauth')

// Reads TWILIO_CLIENT_ID, TWILIO_CLIENT_SECRET, TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.
const client = OAuthClient.fromEnv({ baseUrl: process.env.TWILIO_OAUTH_BASE_URL })
const apiBase = process.env.TWILIO_API_BASE_URL ?? 'https://api.twilio.com'
const accountSid = process.env.TWILIO_ACCOUNT_SID

// One provider per app: every caller shares one cached token, refreshed before it expires.
const provider = client.tokenProvider()

async function fetchAccount () {
  const res = await fetch(`${apiBase}/2010-04-01/Accounts/${accountSid}.json`, {
    headers: { Authorization: await provider.authorizationHeader() }
  })
  if (res.status === 401) provider.invalidate()
  if (!res.ok) throw new Error(`HTTP ${res.status}`)
  return res.json()
}

async function main () {
  const [account] = await Promise.all([fetchAccount(), fetchAccount(), fetchAccount()])
  console.log(`account ${account.sid} is ${account.status}`)
  console.log(`token: ${provider.cachedToken()}`) // redacted: Bearer eyJ0eXAi…(423 chars) (expires in 3599s)
  console.log(provider.stats()) // { hits: 2, fetches: 1, backgroundRefreshes: 0, failures: 0, storeHits: 0, storeErrors: 0 }
}

main().catch((err) => {
  if (err instanceof ApiError) console.error(`Twilio said ${err.status} (code ${err.code}): ${err.serverMessage}`)
  console.error(err)
  process.exitCode = 1
})
