import { OAuthClient, FileStore, LoginRequiredError } from 'twilio-oauth'
import { homedir } from 'node:os'
import { join } from 'node:path'

const client = OAuthClient.fromEnv({ baseUrl: process.env.TWILIO_OAUTH_BASE_URL })
// One file for every process of the app (cluster workers, pm2 instances, worker threads), in a
// folder only this user can write (created 0700 if missing).
const store = new FileStore(process.env.TOKENS_FILE ?? join(homedir(), '.my-app', 'tokens.json'))

// Once, when Alice signs in: authorization code with PKCE.
const redirectUri = 'http://127.0.0.1:8080/callback'
const request = client.authorizationUrl(redirectUri, { scope: 'openid offline_access' })
const code = await browserSignIn(request)
const login = await client.exchangeCode(code, { redirectUri, codeVerifier: request.codeVerifier })
await client.tokenProvider({ store, account: 'alice', initialToken: login }).token() // saved

// Later, in any process: Alice's token, refreshed when due by whichever process gets there
// first; each refresh token is sent once.
const alice = client.tokenProvider({ store, account: 'alice' })
try {
  console.log(`alice (${alice.grant}): ${await alice.token()}`)
  console.log(alice.stats()) // { hits: 0, fetches: 0, ..., storeHits: 1, storeErrors: 0 }
} catch (err) {
  // The login cannot be renewed (revoked, expired session, refused refresh token): never an
  // app token instead. Send Alice through the sign-in again.
  if (err instanceof LoginRequiredError) console.error(`sign in again: ${err.message}`)
  throw err
}

// The browser's part: open request.url, and read `code` (after checking `state`) on the
// redirect. Here the local test server approves at once, so a fetch plays the browser.
async function browserSignIn ({ url, state }) {
  const res = await fetch(url, { redirect: 'manual' })
  const redirect = new URL(res.headers.get('location'))
  if (redirect.searchParams.get('state') !== state) throw new Error('state mismatch')
  return redirect.searchParams.get('code')
}
