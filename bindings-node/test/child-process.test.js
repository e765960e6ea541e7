'use strict'
// What fork safety means for Node. Node cannot fork() a running isolate: every child process
// is a new program (child_process.spawn, or child_process.fork, which spawns a new Node), so
// no child ever inherits metricore's state or its locks. What applies is that starting one
// at any moment, while this process renders on metricore's worker thread, samples resources,
// rotates windows and records, neither blocks nor hangs (the spawn passes metricore's fork
// handler, which waits only for in-flight registry sections), and that the child starts
// clean: its default registry holds only what it makes, and no sampler runs there until it
// starts one. Each child that has not exited after 10 s is reported as hung and killed.
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const m = require('..')

const CHILDREN = 20

// The child: reports what it finds before it makes anything, then records and renders.
const CHILD = `
  const m = require(${JSON.stringify(require.resolve('..'))})
  const before = m.register.metricsSync()
  const sampler = m.register.sampler()
  const running = sampler.isRunning
  const c = new m.Counter({ name: 'child_jobs', help: 'Made in the child.', labelNames: ['k'] })
  c.labels('x').inc(2)
  const after = m.register.metricsSync()
  process.send({ before, running, after })
`

function runChild() {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', CHILD], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
    let report = null
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.on('message', (msg) => (report = msg))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      resolve({ hung: true, stderr })
    }, 10_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ hung: false, code, report, stderr })
    })
  })
}

test('children spawned while every kind of background work runs start clean and never hang', async () => {
  const registry = new m.Registry()
  const jobs = new m.Counter({ name: 'parent_jobs', help: 'J.', labelNames: ['k'], registers: [registry] })
  const latency = new m.Histogram({
    name: 'parent_latency_seconds',
    help: 'L.',
    labelNames: ['route'],
    windowSeconds: 1,
    subWindows: 10,
    registers: [registry],
  })
  const sampler = registry.sampler()
  sampler.start(0.1)
  let stopping = false
  // Renders on metricore's worker thread, back to back.
  const rendering = (async () => {
    while (!stopping) await registry.metrics()
  })()
  // Records and reads windows on this thread between spawns.
  const recording = setInterval(() => {
    for (let i = 0; i < 200; i++) {
      jobs.labels(`u${i % 50}`).inc()
      latency.labels(`r${i % 20}`).observe(i / 100)
      latency.windowSnapshot({ route: `r${i % 20}` })
    }
  }, 1)

  const results = []
  try {
    for (let i = 0; i < CHILDREN; i++) results.push(await runChild())
  } finally {
    stopping = true
    clearInterval(recording)
    await rendering
    sampler.stop()
  }
  const hung = results.flatMap((r, i) => (r.hung ? [i] : []))
  assert.deepEqual(hung, [], `children hung: ${hung}`)
  for (const [i, r] of results.entries()) {
    assert.equal(r.code, 0, `child ${i} exited ${r.code}: ${r.stderr}`)
    assert.equal(r.report.before.trim(), '', `child ${i} started with metrics: ${r.report.before}`)
    assert.equal(r.report.running, false, `child ${i} found a sampler running`)
    assert.match(r.report.after, /^child_jobs\{k="x"\} 2$/m)
    assert.doesNotMatch(r.report.after, /parent_/)
  }
})
