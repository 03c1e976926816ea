// The package under test: the installed copy of the packed tarball when run through
// test/run.mjs (TWILIO_OAUTH_PACKAGE_DIR), else this folder.
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createRequire } from 'node:module'

const here = dirname(fileURLToPath(import.meta.url))
export const packageDir = process.env.TWILIO_OAUTH_PACKAGE_DIR ?? resolve(here, '..')
export const projectDir = process.env.TWILIO_OAUTH_PROJECT_DIR ?? resolve(here, '..')

const oauth = await import(pathToFileURL(join(packageDir, 'index.mjs')).href)
export default oauth

/** `require` as seen from the project that installed the package. */
export const projectRequire = createRequire(join(projectDir, 'package.json'))
