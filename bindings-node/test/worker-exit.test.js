'use strict'
// What a worker thread records reaches the core however the worker ends: its event loop
// running out, process.exit() inside it, or worker.terminate() from outside (when no
// JavaScript of the worker runs again). Workers share the process-wide registry with this
// thread, so a metric of the same name here reads what they wrote.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Worker } = require('node:worker_threads')
const m = require('..')

const WORKERS = 4
const INCS = 1_000_000
// Not a multiple of the histogram batch (1024 entries), so each worker ends with a
// partial batch pending.
const OBSERVATIONS = 100_003
const GAUGE_ADDS = 1001

/** A worker that records, then ends as `ending` says. */
function source(ending, names) {
  return `
    const { parentPort } = require('node:worker_threads')
    const m = require(${JSON.stringify(require.resolve('..'))})
    const c = new m.Counter({ name: ${JSON.stringify(names.counter)}, help: 'C.' })
    const l = new m.Counter({ name: ${JSON.stringify(names.labelled)}, help: 'C.', labelNames: ['k'] })
    const h = new m.Histogram({ name: ${JSON.stringify(names.histogram)}, help: 'H.', buckets: [0.5] })
    const g = new m.Gauge({ name: ${JSON.stringify(names.gauge)}, help: 'G.' })
    const child = l.labels('kept')
    for (let i = 0; i < ${INCS}; i++) { c.inc(); child.inc(2) }
    for (let i = 0; i < ${OBSERVATIONS}; i++) h.observe(i % 2 === 0 ? 0.25 : 0.75)
    h.recordMs(250)
    for (let i = 0; i < ${GAUGE_ADDS}; i++) g.inc()
    const ending = ${JSON.stringify(ending)}
    if (ending === 'process.exit') process.exit(0)
    if (ending === 'terminate') {
      // Stay alive (a ref'd timer) until the parent terminates this thread.
      setInterval(() => {}, 1000)
      parentPort.postMessage('recorded')
    }
  `
}

/** Runs one worker to its end; resolves with its exit code. */
function run(ending, names) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(source(ending, names), { eval: true })
    worker.once('error', reject)
    worker.once('exit', resolve)
    if (ending === 'terminate') worker.once('message', () => worker.terminate().catch(reject))
  })
}

for (const ending of ['return', 'process.exit', 'terminate']) {
  test(`nothing a worker recorded is lost when it ends by ${ending}`, async () => {
    const tag = ending.replace('.', '_')
    const names = {
      counter: `wexit_${tag}`,
      labelled: `wexit_${tag}_labelled`,
      histogram: `wexit_${tag}_seconds`,
      gauge: `wexit_${tag}_gauge`,
    }
    const codes = await Promise.all(Array.from({ length: WORKERS }, () => run(ending, names)))
    assert.deepEqual(codes, Array(WORKERS).fill(ending === 'terminate' ? 1 : 0))
    const c = new m.Counter({ name: names.counter, help: 'C.' })
    const l = new m.Counter({ name: names.labelled, help: 'C.', labelNames: ['k'] })
    const h = new m.Histogram({ name: names.histogram, help: 'H.', buckets: [0.5] })
    const g = new m.Gauge({ name: names.gauge, help: 'G.' })
    assert.equal(c.value(), WORKERS * INCS)
    assert.equal(l.value({ k: 'kept' }), WORKERS * INCS * 2)
    const snap = h.snapshot()
    assert.equal(snap.count, WORKERS * (OBSERVATIONS + 1))
    const text = m.register.metricsSync()
    assert.match(text, new RegExp(`^${names.histogram}_bucket\\{le="0.5"\\} ${WORKERS * (Math.ceil(OBSERVATIONS / 2) + 1)}$`, 'm'))
    assert.equal(g.value(), WORKERS * GAUGE_ADDS)
  })
}
