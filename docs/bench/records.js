// Median cost of the records the Node addon returns (sampler records, a registry's
// families) as the JS caller sees it, beside parsing the core's JSON text in the same run.
// Run from the repository root after `./scripts/test.sh node-build`:
//   node docs/bench/records.js
const m = require('../../bindings-node')
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1]
function time(label, fn, n) {
  for (let i = 0; i < 20; i++) fn()
  const xs = []
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint()
    fn()
    xs.push(Number(process.hrtime.bigint() - t) / 1e3)
  }
  console.log(`${label.padEnd(44)} ${median(xs).toFixed(1).padStart(8)} µs`)
}
;(async () => {
  const r = new m.Registry()
  const c = new m.Counter({ name: 'c', help: 'h', labelNames: ['a'], registers: [r] })
  const h = new m.Histogram({ name: 'h_seconds', help: 'h', labelNames: ['a'], registers: [r] })
  for (let i = 0; i < 1000; i++) c.labels(`v${i}`).inc(i)
  for (let i = 0; i < 100; i++) h.labels(`v${i}`).observe(i / 1000)
  const s = r.sampler()
  s.sampleNow()
  await new Promise((res) => setTimeout(res, 200))
  s.sampleNow()
  time('sampler.latest() (no sampling: conversion)', () => s.latest(), 2000)
  time('sampler.sampleNow()', () => s.sampleNow(), 300)
  time('sampler.resourceShapes()', () => s.resourceShapes(), 300)
  time('sampler.resourceMetrics()', () => s.resourceMetrics(), 300)
  time('registry.toJSON(), 1000 counters + 100 histograms', () => r.toJSON(), 300)
  time('  beside: JSON.parse(registry._native.toJson())', () => JSON.parse(r._native.toJson()), 300)
})()
