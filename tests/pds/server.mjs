// Test-only: a reference Bluesky PDS (@atproto/pds) with its own PLC (@did-plc/server),
// both bound to 127.0.0.1, for threadpost's adapter tests. Nothing here leaves the machine.
//
// Usage (Node >= 22; the packages come from tests/pds/install.sh):
//   node server.mjs --install-dir DIR --data-dir DIR [--pds-port N] [--plc-port N]
// Environment fallbacks: THREADPOST_PDS_DIR (install dir), THREADPOST_PDS_DATA_DIR,
//   THREADPOST_PDS_PORT, THREADPOST_PLC_PORT (0 or unset = pick a free port),
//   THREADPOST_PDS_RATE_LIMITS=1 to turn the PDS's rate limits on (off by default).
//   THREADPOST_PDS_PUBLIC_PORT: the port its DID documents name (a proxy's), if not its own.
//   LOG_ENABLED / LOG_LEVEL / LOG_DESTINATION are read by the servers' pino loggers.
//
// When both servers listen, ONE JSON line goes to stdout:
//   {"ready":true,"pds":"http://localhost:P","plc":"http://localhost:Q","pid":N}
// Nothing else is written to stdout. Exits on SIGTERM/SIGINT or when stdin closes.
//
// Extra endpoints on the PDS port (test instrumentation, not part of the PDS):
//   GET  /_harness/counts    {"<xrpc nsid>": <requests received>, ...}
//   GET  /_harness/requests  last 1000 requests: [{method, path, nsid, status, ms,
//                            received_ms, answered_ms}] (the last two: epoch milliseconds)
//   POST /_harness/reset     clears both
//   POST /_harness/hold      {"nsid": N, "timeout_ms": T}: hold every later request to
//                            /xrpc/N before the PDS sees it, until /_harness/release (or T ms)
//   GET  /_harness/holding   {"holding": <requests held right now>}
//   POST /_harness/release   lets the held requests (and later ones) through
import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const HOST = '127.0.0.1'
const log = (...args) => console.error('[threadpost pds]', ...args)
// Keep stdout for the ready line only.
console.log = console.error
console.info = console.error

function parseArgs(argv) {
  const out = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('--')) throw new Error(`unexpected argument: ${a}`)
    const eq = a.indexOf('=')
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1)
    else out[a.slice(2)] = argv[++i]
  }
  return out
}

const args = parseArgs(process.argv.slice(2))
const installDir = args['install-dir'] ?? process.env.THREADPOST_PDS_DIR
const dataDir = args['data-dir'] ?? process.env.THREADPOST_PDS_DATA_DIR
const pdsPort = Number(args['pds-port'] ?? process.env.THREADPOST_PDS_PORT ?? 0)
const plcPort = Number(args['plc-port'] ?? process.env.THREADPOST_PLC_PORT ?? 0)
const rateLimits = /^(1|true|yes|on)$/i.test(
  args['rate-limits'] ?? process.env.THREADPOST_PDS_RATE_LIMITS ?? '',
)
if (!installDir) throw new Error('--install-dir (or THREADPOST_PDS_DIR) is required')
if (!dataDir) throw new Error('--data-dir (or THREADPOST_PDS_DATA_DIR) is required')

// Resolve the packages from the install dir (this script lives in the repo, they don't).
const requireFrom = createRequire(path.join(path.resolve(installDir), 'package.json'))
const load = async (name) => {
  const mod = await import(pathToFileURL(requireFrom.resolve(name)).href)
  return mod
}

/** Replace server.app.listen so it binds 127.0.0.1 only. */
function bindLoopback(app, existing) {
  app.listen = (port, ...rest) => {
    const cb = rest.find((x) => typeof x === 'function')
    if (existing) {
      // already listening: report "listening" to whoever awaits it
      setImmediate(() => {
        existing.emit('listening')
        cb?.()
      })
      return existing
    }
    const server = http.createServer(app)
    server.listen(port ?? 0, HOST, cb)
    return server
  }
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, HOST, () => {
      server.off('error', reject)
      resolve(server.address().port)
    })
  })
}

// ---- request counting, in front of the PDS's express app ----
const counts = Object.create(null)
let requests = []
const MAX_REQUESTS = 1000
// The "hold" knob: requests to holdNsid wait for release (or holdTimeoutMs).
let holdNsid = null
let holdTimeoutMs = 0
let held = []

function releaseHeld() {
  const waiting = held
  held = []
  for (const go of waiting) go()
}

function readJson(req) {
  return new Promise((resolve) => {
    let data = ''
    req.on('data', (chunk) => (data += chunk))
    req.on('end', () => {
      try {
        resolve(data ? JSON.parse(data) : {})
      } catch {
        resolve({})
      }
    })
  })
}

function sendJson(res, status, body) {
  const data = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(data),
    'cache-control': 'no-store',
  })
  res.end(data)
}

function makeFrontHandler(getApp) {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname.startsWith('/_harness/')) {
      if (req.method === 'GET' && url.pathname === '/_harness/counts') {
        return sendJson(res, 200, counts)
      }
      if (req.method === 'GET' && url.pathname === '/_harness/requests') {
        return sendJson(res, 200, requests)
      }
      if (req.method === 'POST' && url.pathname === '/_harness/reset') {
        for (const k of Object.keys(counts)) delete counts[k]
        requests = []
        holdNsid = null
        releaseHeld()
        return sendJson(res, 200, {})
      }
      if (req.method === 'POST' && url.pathname === '/_harness/hold') {
        return readJson(req).then((body) => {
          holdNsid = String(body.nsid ?? '')
          holdTimeoutMs = Math.min(Number(body.timeout_ms ?? 10_000), 60_000)
          sendJson(res, 200, { nsid: holdNsid, timeout_ms: holdTimeoutMs })
        })
      }
      if (req.method === 'GET' && url.pathname === '/_harness/holding') {
        return sendJson(res, 200, { holding: held.length })
      }
      if (req.method === 'POST' && url.pathname === '/_harness/release') {
        holdNsid = null
        releaseHeld()
        return sendJson(res, 200, {})
      }
      return sendJson(res, 404, { error: 'NotFound' })
    }
    const m = /^\/xrpc\/([^/?]+)/.exec(url.pathname)
    const nsid = m ? decodeURIComponent(m[1]) : null
    if (nsid) counts[nsid] = (counts[nsid] ?? 0) + 1
    const started = Date.now()
    const entry = {
      method: req.method,
      path: url.pathname,
      nsid,
      status: null,
      ms: null,
      received_ms: started,
      answered_ms: null,
    }
    requests.push(entry)
    if (requests.length > MAX_REQUESTS) requests = requests.slice(-MAX_REQUESTS)
    res.on('finish', () => {
      entry.status = res.statusCode
      entry.answered_ms = Date.now()
      entry.ms = entry.answered_ms - started
    })
    const app = getApp()
    if (!app) return sendJson(res, 503, { error: 'NotReady' })
    if (nsid !== null && nsid === holdNsid) {
      // Held before the PDS reads it (the body waits in the socket), then served as usual.
      let gone = false
      const go = () => {
        if (gone) return
        gone = true
        clearTimeout(timer)
        app(req, res)
      }
      const timer = setTimeout(() => {
        held = held.filter((g) => g !== go)
        go()
      }, holdTimeoutMs)
      held.push(go)
      return
    }
    app(req, res)
  }
}

async function main() {
  fs.mkdirSync(dataDir, { recursive: true })
  const blobDir = path.join(dataDir, 'blobs')
  fs.mkdirSync(blobDir, { recursive: true })

  const pdsMod = await load('@atproto/pds')
  const { PDS, envToCfg, envToSecrets } = pdsMod
  const { Secp256k1Keypair } = await load('@atproto/crypto')
  const plcMod = await load('@did-plc/server')
  const { PlcServer, Database: PlcDatabase } = plcMod.default ?? plcMod

  // PLC directory (in-memory), on 127.0.0.1.
  const plc = PlcServer.create({ db: PlcDatabase.mock(), port: plcPort })
  bindLoopback(plc.app)
  const plcServer = await plc.start()
  const plcUrl = `http://localhost:${plcServer.address().port}`

  // Bind the PDS port first so its config (publicUrl, DID documents) knows the real port.
  let pdsApp = null
  const front = http.createServer(makeFrontHandler(() => pdsApp))
  front.keepAliveTimeout = 90_000
  const port = await listen(front, pdsPort)

  const rotationKey = await Secp256k1Keypair.create({ exportable: true })
  const env = {
    devMode: true,
    hostname: 'localhost',
    // The port the DID documents and publicUrl name: the PDS's own, or (benchmarks) that of
    // a proxy in front of it, THREADPOST_PDS_PUBLIC_PORT, so that every client goes through it.
    port: Number(process.env.THREADPOST_PDS_PUBLIC_PORT || 0) || port,
    dataDirectory: dataDir,
    blobstoreDiskLocation: blobDir,
    didPlcUrl: plcUrl, // a host name: an IP literal breaks DID resolution
    inviteRequired: false,
    serviceHandleDomains: ['.test'],
    rateLimitsEnabled: rateLimits,
    plcRotationKeyK256PrivateKeyHex: Buffer.from(await rotationKey.export()).toString('hex'),
    jwtSecret: randomBytes(32).toString('hex'),
    adminPassword: 'admin-pass',
    crawlers: [],
    disableSsrfProtection: true,
    didCacheStaleTTL: 60_000,
    didCacheMaxTTL: 300_000,
    resolverTimeout: 3_000,
    version: '0.5.35',
  }
  const pds = await PDS.create(envToCfg(env), envToSecrets(env))

  // Resolve handles from this PDS's own accounts; never ask DNS or HTTPS.
  pds.ctx.idResolver.handle.resolve = async (handle) => {
    try {
      const acct = await pds.ctx.accountManager.getAccount(String(handle).toLowerCase())
      return acct?.did ?? undefined
    } catch {
      return undefined
    }
  }

  bindLoopback(pds.app, front)
  pdsApp = pds.app
  await pds.start()

  let stopping = false
  const stop = async (why) => {
    if (stopping) return
    stopping = true
    log(`stopping (${why})`)
    const hard = setTimeout(() => process.exit(0), 8000)
    hard.unref()
    try {
      await pds.destroy()
    } catch (e) {
      log('pds destroy failed', e)
    }
    try {
      await plc.destroy()
    } catch (e) {
      log('plc destroy failed', e)
    }
    process.exit(0)
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  process.stdin.on('end', () => stop('stdin closed'))
  process.stdin.on('error', () => stop('stdin error'))
  process.stdin.resume()

  process.stdout.write(
    JSON.stringify({ ready: true, pds: `http://localhost:${port}`, plc: plcUrl, pid: process.pid }) +
      '\n',
  )
}

main().catch((err) => {
  log('failed to start:', err?.stack ?? err)
  process.exit(1)
})
