// Replays tests/fixtures/dialects/workload.json through prom-client and writes its
// expositions: prom-client.txt (0.0.4) and prom-client.om.txt (OpenMetrics).
//
// Usage: node dialect_goldens.js PROM_CLIENT_DIR WORKLOAD OUT_DIR
'use strict'

const fs = require('node:fs')
const path = require('node:path')

const [promClientDir, workloadPath, outDir] = process.argv.slice(2)
const client = require(path.resolve(promClientDir))
const KNOWN_OPS = new Set(['counter', 'gauge', 'histogram', 'summary', 'inc', 'set', 'observe'])
const SPECIAL = { NaN: Number.NaN, '+Inf': Infinity, '-Inf': -Infinity }

function number(v) {
  return typeof v === 'string' ? SPECIAL[v] : v
}

async function render(workload, openMetrics) {
  const registry = new client.Registry()
  if (openMetrics) registry.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE)
  const metrics = new Map()
  for (const op of workload.ops) {
    if (!KNOWN_OPS.has(op.op)) throw new Error(`unknown op ${op.op}`)
    if (['counter', 'gauge', 'histogram', 'summary'].includes(op.op)) {
      // prom-client has no units: they are part of the name, as in the other clients.
      const full = op.unit ? `${op.name}_${op.unit}` : op.name
      const opts = { name: full, help: op.help, labelNames: op.labels, registers: [registry] }
      if (op.op === 'counter') opts.name = `${full}_total`
      if (op.buckets) opts.buckets = op.buckets
      if (op.op === 'summary') opts.percentiles = []
      const Kind = { counter: client.Counter, gauge: client.Gauge, histogram: client.Histogram, summary: client.Summary }[op.op]
      metrics.set(full, { metric: new Kind(opts), labelNames: op.labels })
      continue
    }
    const { metric, labelNames } = metrics.get(op.name)
    // Labels in label-name order, the order metricore writes them in.
    const labels = Object.fromEntries(labelNames.map((n, i) => [n, op.labels[i]]))
    metric[op.op](labels, number(op.value))
  }
  return registry.metrics()
}

async function main() {
  const workload = JSON.parse(fs.readFileSync(workloadPath, 'utf8'))
  fs.writeFileSync(path.join(outDir, 'prom-client.txt'), await render(workload, false))
  fs.writeFileSync(path.join(outDir, 'prom-client.om.txt'), await render(workload, true))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
