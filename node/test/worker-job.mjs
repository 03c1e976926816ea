// The code a worker thread of workers.test.mjs runs: it loads the package in its own
// environment, uses the mock server, and reports to the main thread.
import { parentPort, threadId, workerData } from 'node:worker_threads'
import oauth from './pkg.mjs'

const { OAuthClient, FileStore, Token } = oauth
const { job, client: clientOptions, path } = workerData
const client = new OAuthClient(clientOptions)

if (job === 'use') {
  // A raw call, a provider with its cache, and a provider with a JavaScript store.
  const raw = await client.clientCredentials({ scope: `worker-${threadId}` })
  const provider = client.tokenProvider()
  const a = await provider.token()
  const b = await provider.token()
  const storeThreads = new Set()
  const saved = new Map()
  const store = {
    async load (key) { storeThreads.add(threadId); return saved.get(key) ?? null },
    async save (key, token) { storeThreads.add(threadId); saved.set(key, token.toJson()) }
  }
  const stored = await client.tokenProvider({ store, scope: 'stored' }).token()
  parentPort.postMessage({
    threadId,
    rawIsToken: raw instanceof Token && raw.tokenType === 'Bearer',
    cached: a === b && provider.cachedToken() === a,
    stats: provider.stats(),
    storeThreads: [...storeThreads],
    savedTheToken: [...saved.values()].some((json) => json.includes(stored.accessToken))
  })
} else if (job === 'shared-file') {
  const provider = client.tokenProvider({ store: new FileStore(path) })
  const token = await provider.token()
  parentPort.postMessage({ threadId, accessToken: token.accessToken, stats: provider.stats() })
} else if (job === 'abandon') {
  // A fetch (slow server) whose worker is terminated before it answers; its store belongs to
  // this worker's environment, which is gone when the core wants to save.
  const store = { load: async () => null, save: async () => {} }
  const provider = client.tokenProvider({ store })
  provider.token().catch(() => {})
  parentPort.postMessage({ threadId, started: true })
} else {
  throw new Error(`unknown job ${job}`)
}
