// The README's quick start (examples/quickstart.mjs) in TypeScript, compiled with `tsc --strict`.
import { OAuthClient, ApiError, type ProviderStats, type Token, type TokenProvider } from 'twilio-oauth'

/** The fields of Twilio's Account resource this example reads. */
interface Account {
  sid: string
  status: string
}

// Reads TWILIO_CLIENT_ID, TWILIO_CLIENT_SECRET, TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.
const client: OAuthClient = OAuthClient.fromEnv({ baseUrl: process.env.TWILIO_OAUTH_BASE_URL })
const apiBase: string = process.env.TWILIO_API_BASE_URL ?? 'https://api.twilio.com'
const accountSid: string | undefined = process.env.TWILIO_ACCOUNT_SID

// One provider per app: every caller shares one cached token, refreshed before it expires.
const provider: TokenProvider = client.tokenProvider()

async function fetchAccount (): Promise<Account> {
  const res = await fetch(`${apiBase}/2010-04-01/Accounts/${accountSid}.json`, {
    headers: { Authorization: await provider.authorizationHeader() }
  })
  if (res.status === 401) provider.invalidate()
  if (!res.ok) throw new Error(`HTTP ${res.status}`)
  return (await res.json()) as Account
}

try {
  const [account] = await Promise.all([fetchAccount(), fetchAccount(), fetchAccount()])
  console.log(`account ${account.sid} is ${account.status}`)
  const cached: Token | null = provider.cachedToken()
  console.log(`token: ${cached}`) // redacted: Bearer eyJ0eXAi…(423 chars) (expires in 3599s)
  const stats: ProviderStats = provider.stats()
  console.log(stats) // { hits: 2, fetches: 1, backgroundRefreshes: 0, failures: 0, storeHits: 0, storeErrors: 0 }
} catch (err) {
  if (err instanceof ApiError) console.error(`Twilio said ${err.status} (code ${err.code}): ${err.serverMessage}`)
  throw err
}
