'use strict'
// A day of a busy service, accelerated (test-support/soak.js: two simulated hours by
// default, all 24 with METRICORE_SOAK=long): every request is counted, and once the
// session series have reached their steady number, RSS stops growing.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

/** Growth allowed after warm-up, in bytes. */
const MAX_GROWTH = 5 * 1024 * 1024
/** The first quarter of the samples is warm-up (session series reach their number at 600 s). */
const WARMUP_SAMPLES = 5

test('an accelerated day of requests, label churn and renders: RSS flat after warm-up', () => {
  const script = path.join(__dirname, '..', 'test-support', 'soak.js')
  const r = spawnSync(process.execPath, ['--expose-gc', script], { encoding: 'utf8', timeout: 600_000, env: process.env })
  assert.equal(r.status, 0, r.stderr)
  const result = JSON.parse(r.stdout)
  const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`
  const rss = result.samples.map((s) => s.rss)
  const trace = result.samples.map((s) => `${s.at}: rss ${mib(s.rss)} heap ${mib(s.heapUsed)} lanes ${JSON.stringify(s.lanes)}`).join('\n')
  assert.equal(result.requestsCounted, result.requests, 'every request counted')
  assert.ok(result.removed > 0 && result.created > result.removed, `created ${result.created}, removed ${result.removed}`)
  const warm = rss[WARMUP_SAMPLES]
  const peak = Math.max(...rss.slice(WARMUP_SAMPLES))
  assert.ok(peak - warm <= MAX_GROWTH, `RSS grew ${mib(peak - warm)} after warm-up (at most ${mib(MAX_GROWTH)}):\n${trace}`)
  // Lanes of removed series are released: live lanes stay near the live series.
  const last = result.samples.at(-1).lanes
  assert.ok(last.counters < 2 * (result.liveSessionSeries + 224), `live lanes ${JSON.stringify(last)}`)
  console.log(`soak: ${result.simulatedSeconds} s simulated in ${(result.wallMs / 1000).toFixed(1)} s; rss ${mib(rss[0])} at start, ${mib(warm)} after warm-up, ${mib(peak)} peak after it`)
})

test('label churn between turns of the loop: 200k label sets made and removed on three metrics, RSS flat in the second half', () => {
  // No global.gc(): V8 alone decides when the children of removed series are collected,
  // by the memory it knows of, native memory included.
  const script = path.join(__dirname, '..', 'test-support', 'soak.js')
  const r = spawnSync(process.execPath, [script, '--churn'], { encoding: 'utf8', timeout: 600_000 })
  assert.equal(r.status, 0, r.stderr)
  const result = JSON.parse(r.stdout)
  const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`
  const rss = result.samples.map((s) => s.rss)
  const half = Math.floor(rss.length / 2)
  const growth = Math.max(...rss.slice(half)) - rss[half]
  const trace = result.samples.map((s) => `${s.at}: rss ${mib(s.rss)} lanes ${JSON.stringify(s.lanes)}`).join('\n')
  assert.equal(result.live, 1000)
  // Removed series wait for V8's next full collection; without it knowing their native
  // memory, this pattern reached 366 MiB at 180k and kept climbing.
  assert.ok(growth <= 10 * 1048576, `RSS grew ${mib(growth)} in the second half:\n${trace}`)
  console.log(`churn: ${result.churned} label sets in ${(result.wallMs / 1000).toFixed(1)} s; rss ${mib(rss[0])} at start, ${mib(rss[half])} at half, ${mib(Math.max(...rss))} peak`)
})
