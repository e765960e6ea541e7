'use strict'
// metricore beside prom-client in one process: ns/op medians and ratios for the hot paths
// and a 10k-series render. Bars (issue #6) are reported, never enforced: two shared cores
// make single-run timings too noisy to gate on.
//   node bench.js [--quick]
const m = require('.')
const prom = require('prom-client')

const quick = process.argv.includes('--quick')
const ROUNDS = quick ? 5 : 15
const N = quick ? 200_000 : 1_000_000

/** Median ns/op of `rounds` runs of `fn(n)`, which performs n operations. */
function bench(fn, n, rounds = ROUNDS) {
  fn(Math.min(n, 10_000)) // warm up
  const times = []
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint()
    fn(n)
    times.push(Number(process.hrtime.bigint() - t0) / n)
  }
  times.sort((a, b) => a - b)
  return times[times.length >> 1]
}

function setup(lib) {
  const reg = new lib.Registry()
  const c = new lib.Counter({ name: 'bench_plain_total', help: 'P.', registers: [reg] })
  const lc = new lib.Counter({ name: 'bench_req_total', help: 'R.', labelNames: ['method', 'code'], registers: [reg] })
  const h = new lib.Histogram({ name: 'bench_lat_seconds', help: 'L.', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [reg] })
  // The plain counter is also called with labels elsewhere in the process (issue #6's shape).
  lc.inc({ method: 'GET', code: '200' })
  return { reg, c, child: lc.labels('GET', '200'), h }
}

const rows = []
function row(name, oursNs, peerNs, bar) {
  rows.push({ name, oursNs, peerNs, bar })
}

const ours = setup(m)
const theirs = setup(prom)
for (const [name, run, bar] of [
  ['counter inc', (x) => (n) => { for (let i = 0; i < n; i++) x.c.inc() }, 5],
  ['labelled inc, kept child', (x) => (n) => { for (let i = 0; i < n; i++) x.child.inc() }, 40],
  ['histogram observe', (x) => (n) => { for (let i = 0; i < n; i++) x.h.observe((i & 1023) / 1e4) }, 25],
]) {
  row(name, bench(run(ours), N), bench(run(theirs), N), bar)
}

async function renderBench(lib) {
  const reg = new lib.Registry()
  const c = new lib.Counter({ name: 'render_total', help: 'R.', labelNames: ['id'], registers: [reg] })
  for (let i = 0; i < 10_000; i++) c.inc({ id: String(i) })
  const times = []
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint()
    await reg.metrics()
    times.push(Number(process.hrtime.bigint() - t0))
  }
  times.sort((a, b) => a - b)
  return times[times.length >> 1]
}

;(async () => {
  row('render 10k series (async)', await renderBench(m), await renderBench(prom), 4e6)
  const fmt = (ns) => (ns >= 1e5 ? `${(ns / 1e6).toFixed(2)} ms` : `${ns.toFixed(1)} ns`)
  console.log(`metricore vs prom-client ${require('prom-client/package.json').version}, node ${process.version}${quick ? ' (--quick)' : ''}`)
  console.log('workload'.padEnd(28), 'metricore'.padStart(12), 'prom-client'.padStart(12), 'ratio'.padStart(8), '  bar')
  for (const r of rows) {
    const ok = r.oursNs <= r.bar ? 'met' : 'MISSED'
    console.log(r.name.padEnd(28), fmt(r.oursNs).padStart(12), fmt(r.peerNs).padStart(12), `${(r.peerNs / r.oursNs).toFixed(2)}x`.padStart(8), `  <= ${fmt(r.bar)}: ${ok}`)
  }
  console.log('ratio = prom-client time / metricore time (above 1: metricore is faster)')
})()
