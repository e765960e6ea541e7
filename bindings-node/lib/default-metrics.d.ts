// Hand-written types for lib/default-metrics.js: prom-client's collectDefaultMetrics() for metricore.
import type { Registry, LabelValues } from './index'

export interface DefaultMetricsConfiguration {
  /** The registry to register in (default: the global `register`). */
  register?: Registry
  /**
   * Prepended to the name of every metric registered here (the `nodejs_*` families). The
   * resource sampler's `process_*` and `node_*` names are fixed and never prefixed.
   */
  prefix?: string
  /**
   * Label values added to every series registered here (not to the sampler's). The names
   * `kind`, `space`, `type`, `version`, `major`, `minor` and `patch` are taken.
   */
  labels?: LabelValues
  /** Bucket bounds of `nodejs_gc_duration_seconds`, in seconds (default [0.001, 0.01, 0.1, 1, 2, 5]). */
  gcDurationBuckets?: number[]
  /** Sampling rate of the event-loop delay monitor, whole milliseconds >= 1 (default 10). */
  eventLoopMonitoringPrecision?: number
  /**
   * metricore: seconds between the resource sampler's samples, 0.1 to 86400 (default 10, the
   * TypeScript-era interval). Ignored when the registry's sampler already runs.
   */
  samplerIntervalSeconds?: number
}

/**
 * What collectDefaultMetrics() started in one registry.
 *
 * Registered here (names as prom-client 15, after `prefix`):
 * - `nodejs_eventloop_lag_seconds` (gauge): the wait for setImmediate after a scrape, shown
 *   by the next scrape, as prom-client measures it;
 * - `nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds` (gauges): the
 *   perf_hooks event-loop delay monitor since the previous scrape (reset at each scrape; a
 *   scrape with no delay sample since the last keeps the last figures);
 * - `nodejs_eventloop_utilization_ratio` (gauge, metricore's own): the share of time the
 *   event loop was busy between the last two scrapes, from performance.eventLoopUtilization();
 * - `nodejs_gc_duration_seconds{kind}` (histogram; kind major, minor, incremental or weakcb);
 * - `nodejs_heap_size_total_bytes`, `nodejs_heap_size_used_bytes`, `nodejs_external_memory_bytes`,
 *   `nodejs_heap_space_size_{total,used,available}_bytes{space}` (gauges, from v8);
 * - `nodejs_active_handles{type}`, `nodejs_active_handles_total`, `nodejs_active_requests{type}`,
 *   `nodejs_active_requests_total`, `nodejs_active_resources{type}`, `nodejs_active_resources_total`
 *   (gauges; the `_total` gauges keep prom-client's names, which promtool's lint flags);
 * - `nodejs_version_info{version,major,minor,patch}` (gauge, always 1).
 *
 * Published by the registry's resource sampler instead of prom-client's process gauges, where
 * the platform gives them (a figure it cannot give is absent; on Linux all are there):
 * `process_cpu_seconds_total` (no user/system split), `process_resident_memory_bytes`,
 * `process_virtual_memory_bytes`, `process_open_fds`, `process_max_fds`,
 * `process_start_time_seconds`, `process_threads`, `process_io_read_bytes_total`,
 * `process_io_write_bytes_total`, `process_context_switches_total`, node_exporter's machine
 * figures (`node_boot_time_seconds`, `node_cpu_seconds_total`, `node_load1`/`5`/`15`,
 * `node_memory_*_bytes`, `node_pressure_memory_*`, `node_disk_*`, `node_filesystem_*`,
 * `node_network_*`, `node_tcp_connection_states`) and, once a read failed,
 * `metricore_sampler_errors_total{source}`. prom-client's `process_heap_bytes` and
 * `process_cpu_user_seconds_total` / `process_cpu_system_seconds_total` have no counterpart.
 */
export interface DefaultMetrics {
  /** The registry the metrics are in. */
  readonly registry: Registry
  /** The names registered here, as registered (with the prefix). */
  readonly metricNames: readonly string[]
  /**
   * metricore: disconnects the GC observer, disables the event-loop monitor, stops the
   * resource sampler if this call started it, and unregisters the metrics registered here.
   * collectDefaultMetrics() may then be called again for the registry. Calling it twice does
   * nothing more.
   */
  stop(): void
}

/**
 * Registers the Node.js default metrics and starts the registry's resource sampler
 * (`registry.sampler().start(samplerIntervalSeconds)`) unless it already runs.
 *
 * A second call for a registry whose collection is running returns the running handle and
 * keeps its options (prom-client throws on the duplicate names instead).
 *
 * Bad options are a `TypeError` `ERR_METRICORE_INVALID_TYPE` (wrong JavaScript type) or a
 * `RangeError` `ERR_METRICORE_INVALID_CONFIG` (unknown option, out-of-range value); a prefix or
 * label name that makes an invalid name is the core's `ERR_METRICORE_INVALID_NAME`, and a name
 * already registered its `ERR_METRICORE_CONFLICT`. After any error nothing is left registered
 * or running.
 */
export declare function collectDefaultMetrics(config?: DefaultMetricsConfiguration): DefaultMetrics

/** prom-client's default `gcDurationBuckets`, in seconds. */
export declare const DEFAULT_GC_DURATION_BUCKETS: readonly number[]
