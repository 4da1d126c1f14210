/** Prometheus metrics (prom-client), one registry per server instance, injected where needed. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { createHotCounter, createHotHistogram, type HotCounter, type HotHistogram } from './hot-metrics.js';

export interface Metrics {
  registry: Registry;
  requests: Counter<'endpoint' | 'outcome'>;
  ingestSeconds: Histogram<'endpoint'>;
  resultRows: Counter;
  hostsEnrolled: Gauge;
  /** Decisions by resource, decision and mode: `inc(resource, decision, mode)` (hot path, hot-metrics.ts). */
  decisions: HotCounter;
  decisionSeconds: HotHistogram;
  ingestQueueRejected: Counter;
  /** Enrollments (and certificate checks of requests) refused, by reason. */
  enrollRefused: Counter<'reason'>;
  /** Requests of hosts held pending that were acknowledged but not stored. */
  pendingDropped: Counter<'endpoint'>;
  /** Results for queries Trustgate neither scheduled nor asked for: acknowledged, not stored. */
  unscheduledDropped: Counter<'endpoint'>;
  /** Status frames rendered by the remediation page's live producers (one per change per view, not per page). */
  liveRenders: Counter;
}

export function createMetrics(opts: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaults ?? true) collectDefaultMetrics({ register: registry, prefix: 'trustgate_' });
  return {
    registry,
    requests: new Counter({
      name: 'trustgate_requests_total',
      help: 'Requests by endpoint and outcome',
      labelNames: ['endpoint', 'outcome'],
      registers: [registry],
    }),
    ingestSeconds: new Histogram({
      name: 'trustgate_ingest_seconds',
      help: 'Time from request to durable commit for osquery log and distributed writes',
      labelNames: ['endpoint'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    resultRows: new Counter({
      name: 'trustgate_result_rows_total',
      help: 'Result rows applied to the latest-results store',
      registers: [registry],
    }),
    hostsEnrolled: new Gauge({ name: 'trustgate_hosts_enrolled', help: 'Hosts enrolled', registers: [registry] }),
    decisions: createHotCounter({
      name: 'trustgate_decisions_total',
      help: 'Access decisions by resource and outcome',
      labelNames: ['resource', 'decision', 'mode'],
      registry,
    }),
    decisionSeconds: createHotHistogram({
      name: 'trustgate_decision_seconds',
      help: 'Time to compute an access decision',
      buckets: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01],
      registry,
    }),
    ingestQueueRejected: new Counter({
      name: 'trustgate_ingest_rejected_total',
      help: 'Batches refused because the ingest queue was full (agents retry)',
      registers: [registry],
    }),
    enrollRefused: new Counter({
      name: 'trustgate_enroll_refused_total',
      help: 'Enrollments refused (and osquery requests refused for their client certificate), by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    unscheduledDropped: new Counter({
      name: 'trustgate_results_unscheduled_total',
      help: 'Results (log lines, distributed answers) of queries Trustgate did not schedule or ask for: not stored',
      labelNames: ['endpoint'],
      registers: [registry],
    }),
    pendingDropped: new Counter({
      name: 'trustgate_pending_dropped_total',
      help: 'Requests of hosts waiting for approval that were acknowledged but not stored or evaluated',
      labelNames: ['endpoint'],
      registers: [registry],
    }),
    liveRenders: new Counter({
      name: 'trustgate_live_renders_total',
      help: 'Status frames rendered for open remediation pages (once per change of a view, shared by its pages)',
      registers: [registry],
    }),
  };
}
