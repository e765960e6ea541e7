'use strict'
// The fast path (lib/lanes.js): what kept series write reaches the core by every read, the
// batch and the timer, and lanes are released when their children are collected.
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const m = require('..')
const lanes = require('../lib/lanes.js')

test('what children write is in every read: get, render, gather, snapshot', async () => {
  const reg = new m.Registry()
  const c = new m.Counter({ name: 'lane_c', help: 'C.', labelNames: ['k'], registers: [reg] })
  const g = new m.Gauge({ name: 'lane_g', help: 'G.', registers: [reg] })
  const h = new m.Histogram({ name: 'lane_h_seconds', help: 'H.', buckets: [0.1, 1], registers: [reg] })
  const a = c.labels('a')
  for (let i = 0; i < 1000; i++) a.inc()
  a.inc(5)
  g.set(10)
  g.inc(2.5)
  g.dec()
  for (let i = 0; i < 3000; i++) h.observe(i < 1000 ? 0.05 : 0.5) // past one batch (1024 entries)
  h.recordMs(2000)
  h.record(250000)
  assert.equal(a.get(), 1005)
  assert.equal(g.value(), 11.5)
  assert.equal(h.snapshot().count, 3002)
  const text = await reg.metrics()
  assert.match(text, /^lane_c\{k="a"\} 1005$/m)
  assert.match(text, /^lane_g 11.5$/m)
  assert.match(text, /^lane_h_seconds_bucket\{le="0.1"\} 1000$/m)
  assert.match(text, /^lane_h_seconds_bucket\{le="1"\} 3001$/m)
  assert.match(text, /^lane_h_seconds_count 3002$/m)
  // A set after adds wins; adds after a set add to it.
  g.inc(100)
  g.set(1)
  g.inc(0.5)
  assert.equal(g.value(), 1.5)
})

test('each render picks up every page written since the last, whatever page it is on', () => {
  // A flush skips the pages nobody wrote since the previous one (lib/lanes.js); this spans
  // several pages (256 lanes each) and writes to one page at a time between renders.
  const reg = new m.Registry()
  const c = new m.Counter({ name: 'paged_c', help: 'C.', labelNames: ['i'], registers: [reg] })
  const g = new m.Gauge({ name: 'paged_g', help: 'G.', labelNames: ['i'], registers: [reg] })
  const counters = Array.from({ length: 700 }, (_, i) => c.labels(String(i)))
  const gauges = Array.from({ length: 700 }, (_, i) => g.labels(String(i)))
  const sample = (text, name, i) => Number(text.match(new RegExp(`^${name}\\{i="${i}"\\} (\\S+)$`, 'm'))[1])
  for (const i of [0, 300, 699, 300, 0]) {
    counters[i].inc(i + 1)
    gauges[i].set(i / 2)
    gauges[(i + 1) % 700].inc(1)
    const text = reg.metricsSync()
    assert.equal(sample(text, 'paged_c', i), counters[i].get())
    assert.equal(sample(text, 'paged_g', i), i / 2)
  }
  assert.equal(counters[300].get(), 602)
  assert.equal(counters[0].get(), 2)
  assert.equal(counters[699].get(), 700)
  assert.equal(counters[1].get(), 0)
  assert.equal(gauges[301].get(), 2, 'two adds on page 1, rendered in between')
  assert.equal(gauges[1].get(), 2)
  assert.equal(gauges[699].get(), 349.5)
  assert.equal(gauges[0].get(), 0, 'set again after the add that writing 699 made')
})

test('the core sees lane writes within the timer period without any read through the skin', async () => {
  const reg = new m.Registry()
  const c = new m.Counter({ name: 'lane_timer', help: 'T.', registers: [reg] })
  c.inc(7)
  // gather() reads the core directly, without the skin's flush.
  const direct = () => reg._native.gather().find((f) => f.name === 'lane_timer').value(0)
  assert.equal(direct(), 0, 'not flushed yet: the write sits in the lane')
  await new Promise((resolve) => setTimeout(resolve, 1100))
  assert.equal(direct(), 7)
})

test('reset and remove clear pending lane values with the series', () => {
  const reg = new m.Registry()
  const c = new m.Counter({ name: 'lane_reset', help: 'R.', registers: [reg] })
  c.inc(3)
  c.reset()
  assert.equal(c.value(), 0)
  c.inc()
  assert.equal(c.value(), 1)
  const h = new m.Histogram({ name: 'lane_reset_seconds', help: 'R.', registers: [reg] })
  h.observe(0.2)
  h.reset()
  assert.equal(h.snapshot().count, 0)
  h.observe(0.3)
  assert.equal(h.snapshot().count, 1)
})

test('gauge sets land in the order made, whichever lanes earlier series freed', () => {
  const reg = new m.Registry()
  // A reset releases lanes: the next children get them back, highest slot first.
  const churn = new m.Gauge({ name: 'lane_order_churn', help: 'C.', labelNames: ['k'], registers: [reg] })
  churn.set({ k: 'a' }, 1)
  churn.set({ k: 'b' }, 1)
  churn.reset()
  // A labels object that leaves a name out goes to the same series each time.
  const g = new m.Gauge({ name: 'lane_order', help: 'O.', labelNames: ['method'], registers: [reg] })
  g.set({}, -0.5)
  g.set({}, 3.25)
  assert.match(reg.metricsSync(), /^lane_order\{method=""\} 3.25$/m)
  // Past the cardinality limit children are not kept: several write to one (overflow) series.
  const over = new m.Gauge({ name: 'lane_order_over', help: 'O.', labelNames: ['k'], cardinalityLimit: 1, registers: [reg] })
  over.set({ k: 'kept' }, 1)
  churn.set({ k: 'a' }, 1)
  churn.set({ k: 'b' }, 1)
  churn.reset()
  const first = over.labels('past')
  const second = over.labels('past')
  first.set(1)
  second.set(2)
  first.inc(10)
  assert.equal(over.labels('past').get(), 12)
  assert.match(reg.metricsSync(), /^lane_order_over\{k="__overflow__"\} 12$/m)
})

test('lanes of collected children are released: label churn past the cardinality limit stays bounded', () => {
  // A child process with --expose-gc, so collection can be forced.
  const script = `
    const m = require(${JSON.stringify(require.resolve('..'))})
    const lanes = require(${JSON.stringify(require.resolve('../lib/lanes.js'))})
    const reg = new m.Registry()
    const c = new m.Counter({ name: 'churn', help: 'C.', labelNames: ['user'], cardinalityLimit: 500, registers: [reg] })
    const h = new m.Histogram({ name: 'churn_seconds', help: 'H.', labelNames: ['user'], cardinalityLimit: 500, registers: [reg] })
    const tick = () => new Promise((r) => setTimeout(r, 5))
    ;(async () => {
      const live = []
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 10000; i++) { c.inc({ user: round + '-' + i }); h.observe({ user: round + '-' + i }, 0.01) }
        for (let k = 0; k < 3; k++) { await tick(); global.gc() }
        await tick()
        live.push(lanes.live())
      }
      const text = reg.metricsSync()
      const total = [...text.matchAll(/^churn\\{[^}]*\\} (\\d+)$/gm)].reduce((s, x) => s + Number(x[1]), 0)
      const count = [...text.matchAll(/^churn_seconds_count\\{[^}]*\\} (\\d+)$/gm)].reduce((s, x) => s + Number(x[1]), 0)
      console.log(JSON.stringify({ live, total, count }))
    })()
  `
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 60000 })
  assert.equal(r.status, 0, r.stderr)
  const { live, total, count } = JSON.parse(r.stdout)
  assert.equal(total, 40000, 'no increment is lost when lanes are released')
  assert.equal(count, 40000, 'no observation is lost when lanes are released')
  for (const l of live) {
    // 500 cached children per metric stay; the overflow children made past the limit go.
    assert.ok(l.counters <= 1000 && l.histograms <= 1000, `live lanes ${JSON.stringify(live)}`)
  }
})

test('remove() lets go of the series at once; a child kept past it writes into its label set again, as in prom-client', () => {
  const reg = new m.Registry()
  const c = new m.Counter({ name: 'detach_ops', help: 'C.', labelNames: ['k'], registers: [reg] })
  const h = new m.Histogram({ name: 'detach_seconds', help: 'H.', labelNames: ['k'], registers: [reg] })
  const g = new m.Gauge({ name: 'detach_bytes', help: 'G.', labelNames: ['k'], registers: [reg] })
  const before = lanes.live()
  const kept = { c: c.labels('a'), h: h.labels('a'), g: g.labels('a') }
  kept.c.inc(5)
  kept.h.observe(0.5)
  kept.g.set(7)
  for (const metric of [c, h, g]) metric.remove('a')
  // Released now, not when V8 collects the children (they are still referenced here).
  assert.deepEqual(lanes.live(), before)
  assert.doesNotMatch(reg.metricsSync(), /k="a"/)
  kept.c.inc(2)
  kept.h.observe(0.25)
  kept.g.set(9)
  const text = reg.metricsSync()
  assert.match(text, /^detach_ops\{k="a"\} 2$/m)
  assert.match(text, /^detach_seconds_count\{k="a"\} 1$/m)
  assert.match(text, /^detach_bytes\{k="a"\} 9$/m)
  assert.equal(kept.c.get(), 2)
  // reset() detaches every cached child the same way.
  const b = c.labels('b')
  b.inc()
  c.reset()
  assert.doesNotMatch(reg.metricsSync(), /^detach_ops\{/m)
  b.inc(3)
  assert.match(reg.metricsSync(), /^detach_ops\{k="b"\} 3$/m)
})
