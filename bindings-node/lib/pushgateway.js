'use strict'
// prom-client's Pushgateway: pushes a registry's exposition to a Prometheus Pushgateway
// (push: PUT, replacing the group; pushAdd: POST, adding to it; delete: DELETE) under
// /metrics/job/JOB[/LABEL/VALUE...], over http or https as the gateway's URL says. The
// options are node's request options (headers, timeout, agent, ...) plus `requireJobName`
// (default true); a `Content-Encoding: gzip` header sends the body gzipped.

const http = require('node:http')
const https = require('node:https')
const { gzipSync } = require('node:zlib')
const { promClientError } = require('./errors.js')

class Pushgateway {
  /** A gateway at `gatewayUrl`, pushing `registry` (default: the default registry). */
  constructor(gatewayUrl, options, registry) {
    this.registry = registry || require('./index.js').register
    this.gatewayUrl = gatewayUrl
    const { requireJobName = true, ...requestOptions } = options || {}
    this.requireJobName = requireJobName
    this.requestOptions = requestOptions
  }

  /** POSTs the registry's exposition: its samples are added to the group's. */
  pushAdd(params = {}) {
    return this._send('POST', params)
  }

  /** PUTs the registry's exposition: it replaces the group's samples. */
  push(params = {}) {
    return this._send('PUT', params)
  }

  /** DELETEs the group. */
  delete(params = {}) {
    return this._send('DELETE', params)
  }

  /** Resolves to `{resp, body}`; rejects on a status >= 400, a network error or the timeout. */
  _send(method, { jobName, groupings } = {}) {
    if (this.requireJobName && !jobName) {
      throw promClientError(Error, 'ERR_METRICORE_INVALID_CONFIG', undefined, 'Missing jobName parameter')
    }
    const base = new URL(this.gatewayUrl)
    const prefix = base.pathname !== '/' ? base.pathname : ''
    const job = jobName ? `/job/${encodeURIComponent(jobName)}${groupingPath(groupings)}` : ''
    const target = new URL(`${prefix}/metrics${job}`, base)
    const options = {
      protocol: target.protocol,
      hostname: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port || undefined,
      path: target.pathname + target.search,
      ...(target.username ? { auth: `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}` } : {}),
      ...this.requestOptions,
      method,
    }
    const gzip = options.headers !== undefined && options.headers['Content-Encoding'] === 'gzip'
    if (method === 'DELETE' && options.headers !== undefined && 'Content-Encoding' in options.headers) {
      const { 'Content-Encoding': _dropped, ...headers } = options.headers
      options.headers = headers
    }
    const transport = target.protocol === 'https:' ? https : http
    return new Promise((resolve, reject) => {
      const req = transport.request(options, (resp) => {
        let body = ''
        resp.setEncoding('utf8')
        resp.on('data', (chunk) => {
          body += chunk
        })
        resp.on('end', () => {
          if (resp.statusCode >= 400) reject(new Error(`push failed with status ${resp.statusCode}, ${body}`))
          else resolve({ resp, body })
        })
      })
      req.on('error', reject)
      req.on('timeout', () => req.destroy(new Error('Pushgateway request timed out')))
      if (method === 'DELETE') {
        req.end()
        return
      }
      this.registry.metrics().then(
        (text) => req.end(gzip ? gzipSync(text) : text),
        (err) => {
          req.destroy()
          reject(err)
        },
      )
    })
  }
}

/** `/LABEL/VALUE` for each grouping label, both URL-encoded. */
function groupingPath(groupings) {
  if (!groupings) return ''
  return Object.keys(groupings)
    .map((k) => `/${encodeURIComponent(k)}/${encodeURIComponent(groupings[k])}`)
    .join('')
}

module.exports = { Pushgateway }
