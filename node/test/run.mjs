// `npm test`: packs the package, installs the tarball (with twilio) into an empty temporary
// project, and runs the test files against that installed copy.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mockBinary } from './mock.mjs'

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const work = mkdtempSync(join(tmpdir(), 'twilio-oauth-node-test-'))

function run (cmd, args, cwd, capture = false) {
  const r = spawnSync(cmd, args, {
    cwd,
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false' }
  })
  if (r.status !== 0) {
    console.error(`${cmd} ${args.join(' ')} failed (exit ${r.status})`)
    process.exit(r.status ?? 1)
  }
  return r.stdout
}

let status
try {
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], packageRoot, true))
  const files = packed[0].files.map((f) => f.path)
  if (!files.some((f) => f.endsWith('.linux-x64-gnu.node'))) {
    throw new Error(`the tarball has no built addon: ${files.join(', ')}`)
  }
  const tarball = join(work, packed[0].filename)
  const project = join(work, 'project')
  run('mkdir', ['-p', project], work)
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'twilio-oauth-test-project', private: true }))
  const twilioVersion = JSON.parse(readFileSync(join(packageRoot, 'node_modules', 'twilio', 'package.json'), 'utf8')).version
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball, `twilio@${twilioVersion}`], project)
  console.log(`testing ${packed[0].filename} (${files.length} files) installed in ${project}`)

  const testDir = join(packageRoot, 'test')
  const testFiles = readdirSync(testDir).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => join(testDir, f))
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...testFiles], {
    cwd: packageRoot,
    stdio: 'inherit',
    env: {
      ...process.env,
      TWILIO_OAUTH_MOCK_BIN: mockBinary(),
      TWILIO_OAUTH_PACKAGE_DIR: join(project, 'node_modules', 'twilio-oauth'),
      TWILIO_OAUTH_PROJECT_DIR: project
    }
  })
  status = r.status ?? 1
} finally {
  rmSync(work, { recursive: true, force: true })
}
process.exit(status)
