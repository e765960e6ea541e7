'use strict'
// Promise-returning work (src/tasks.rs): it runs on metricore's worker thread, below the event
// loop's priority, and many jobs in flight at once each settle with their own result.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const m = require('..')

/** id, name and nice value of each thread of this process, from /proc (Linux). */
function threads() {
  return fs.readdirSync('/proc/self/task').map((tid) => {
    const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'latin1')
    // Fields after the parenthesised name; the nice value is field 19 of stat(5).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { tid: Number(tid), name: fs.readFileSync(`/proc/self/task/${tid}/comm`, 'latin1').trim(), nice: Number(fields[16]) }
  })
}

const linux = process.platform === 'linux'

test('async work runs on one metricore thread, below the event loop', { skip: linux ? false : 'reads thread names and priorities from /proc (Linux only)' }, async () => {
  const reg = new m.Registry()
  new m.Counter({ name: 'tasks_c', help: 'C.', registers: [reg] }).inc()
  assert.match(await reg.metrics(), /^tasks_c 1$/m)
  const workers = threads().filter((t) => t.name.startsWith('metricore-worke')) // comm keeps 15 bytes
  assert.equal(workers.length, 1, `one worker thread: ${JSON.stringify(threads())}`)
  const loop = threads().find((t) => t.tid === process.pid)
  assert.equal(workers[0].nice, 10)
  assert.ok(workers[0].nice > loop.nice, `below the loop thread (nice ${loop.nice})`)
  await reg.metrics()
  assert.equal(threads().filter((t) => t.name.startsWith('metricore-worke')).length, 1, 'reused, not one per call')
})

test('many jobs in flight settle each with its own result or error', async () => {
  const regs = Array.from({ length: 20 }, (_, i) => {
    const reg = new m.Registry()
    new m.Counter({ name: `inflight_${i}`, help: 'C.', registers: [reg] }).inc(i)
    return reg
  })
  const h = new m.Histogram({ name: 'inflight_seconds', help: 'H.', registers: [] })
  for (let i = 1; i <= 100; i++) h.observe(i / 1000)
  const jobs = [
    ...regs.map((reg, i) => reg.metrics().then((text) => assert.match(text, new RegExp(`^inflight_${i} ${i}$`, 'm')))),
    h.snapshotAsync().then((snap) => assert.equal(snap.count, 100)),
    assert.rejects(m.decodeV2Async(Buffer.from('not a blob')), { name: 'TypeError', code: 'ERR_METRICORE_CORRUPT_BLOB' }),
    ...regs.map((reg, i) => reg.metrics().then((text) => assert.match(text, new RegExp(`^inflight_${i} ${i}$`, 'm')))),
  ]
  const settled = await Promise.allSettled(jobs)
  assert.deepEqual(
    settled.filter((s) => s.status === 'rejected').map((s) => s.reason),
    [],
  )
})

test('worker threads share the worker; one terminated with renders in flight leaves the process well', async () => {
  const { Worker } = require('node:worker_threads')
  const source = `
    const { parentPort } = require('node:worker_threads')
    const m = require(${JSON.stringify(require.resolve('..'))})
    const reg = new m.Registry()
    const c = new m.Counter({ name: 'wt_c', help: 'C.', labelNames: ['i'], registers: [reg] })
    for (let i = 0; i < 2000; i++) c.inc({ i: String(i) }, i)
    reg.metrics().then((text) => {
      for (let k = 0; k < 20; k++) reg.metrics() // still in flight when the parent terminates it
      parentPort.postMessage(text.match(/^wt_c\\{i="1999"\\} (\\d+)$/m)[1])
    })`
  const totals = await Promise.all(
    [0, 1, 2].map(
      () =>
        new Promise((resolve, reject) => {
          const worker = new Worker(source, { eval: true })
          worker.once('message', (total) => worker.terminate().then(() => resolve(total), reject))
          worker.once('error', reject)
        }),
    ),
  )
  assert.deepEqual(totals, ['1999', '1999', '1999'])
  const reg = new m.Registry()
  new m.Counter({ name: 'after_workers', help: 'C.', registers: [reg] }).inc(3)
  assert.match(await reg.metrics(), /^after_workers 3$/m, 'this thread still renders')
})
