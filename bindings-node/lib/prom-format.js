'use strict'
// prom-client's text exposition written from `get()` results ({name, help, type, values}),
// for what the native renderer cannot see: metrics registered from outside metricore
// (`registerMetric({ get() {...} })`, another registry's metric), default labels, and
// exemplars. metricore's own metrics in a plain registry render natively, in the same bytes
// (the core's prom-client dialect).

const PROMETHEUS = 'text/plain; version=0.0.4; charset=utf-8'
const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8'

function escapeText(s) {
  return String(s).replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

function escapeLabelValue(v) {
  return typeof v === 'string' ? escapeText(v).replace(/"/g, '\\"') : v
}

/** A number as prom-client writes it: `Nan`, `+Inf`, `-Inf`, else JavaScript's spelling. */
function formatValue(v) {
  if (Number.isNaN(v)) return 'Nan'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return `${v}`
}

function formatLabels(labels, exclude) {
  const out = []
  for (const [name, value] of Object.entries(labels)) {
    if (exclude === undefined || !Object.hasOwn(exclude, name)) out.push(`${name}="${escapeLabelValue(value)}"`)
  }
  return out
}

/**
 * One family's lines (no trailing newline): `# HELP`, `# TYPE`, then a line per value with
 * the value's labels, then the default labels the value does not set itself.
 */
function familyText(metric, defaultLabels, openMetrics) {
  let name = escapeText(metric.name)
  if (openMetrics && metric.type === 'counter') name = name.replace(/_total$/, '')
  const lines = [`# HELP ${name} ${escapeText(metric.help)}`, `# TYPE ${name} ${metric.type}`]
  const withDefaults = defaultLabels !== undefined && Object.keys(defaultLabels).length > 0
  for (const val of metric.values || []) {
    let metricName = val.metricName === undefined ? name : val.metricName
    let labels = val.labels || {}
    const shared = val.sharedLabels || {}
    if (openMetrics && metric.type === 'counter') metricName = `${metricName}_total`
    if (withDefaults) labels = { ...labels, ...defaultLabels, ...labels }
    const parts = formatLabels(labels, shared)
    const sharedText = formatLabels(shared).join(',')
    if (sharedText !== '') parts.push(sharedText)
    let line = `${metricName}${parts.length > 0 ? `{${parts.join(',')}}` : ''} ${formatValue(val.value)}`
    const ex = val.exemplar
    if (ex && openMetrics) {
      line += ` # {${formatLabels(ex.labelSet).join(',')}} ${formatValue(ex.value)} ${ex.timestamp}`
    }
    lines.push(line)
  }
  return lines.join('\n')
}

/** A whole exposition from families' texts, as prom-client joins them. */
function joinFamilies(texts, openMetrics) {
  return openMetrics ? `${texts.join('\n')}\n# EOF\n` : `${texts.join('\n\n')}\n`
}

module.exports = { familyText, joinFamilies, formatValue, PROMETHEUS, OPENMETRICS }
