// What a metric family is, as a kind declares it and the metrics layer serves it.

/** A metric family. Every series of it also carries `check`, `component` and the check's own labels. */
export interface MetricSpec {
  name: string;
  help: string;
  /** Labels the family adds (a probe's samples may carry exactly these). */
  labels?: string[];
  type?: 'gauge' | 'counter';
}

/** The families every check has, whatever its kind (the runner and the metrics layer write them). */
export const CHECK_FAMILIES: MetricSpec[] = [
  { name: 'probe_success', help: 'Whether the last run of the check succeeded (after retries).' },
  { name: 'probe_duration_seconds', help: 'How long the final attempt of the last run took.' },
  { name: 'vigil_check_status', help: 'Status of the check: 1 for the current state, 0 for the others.', labels: ['state'] },
  { name: 'vigil_check_threshold', help: 'Configured threshold of a check value, in the unit of `metric`.', labels: ['key', 'metric', 'severity', 'direction'] },
  { name: 'vigil_check_runs_total', help: 'Completed runs of the check (after retries).', type: 'counter' },
  { name: 'vigil_check_failures_total', help: 'Failed runs of the check by reason.', labels: ['reason'], type: 'counter' },
  { name: 'vigil_check_last_run_timestamp_seconds', help: 'When the last run of the check finished.' },
  { name: 'vigil_check_last_success_timestamp_seconds', help: 'When the last successful run of the check finished.' },
  { name: 'vigil_check_info', help: 'One series per configured check; always 1. `target`: what it probes (a URL, host:port) with credentials removed, for kinds that probe a target.', labels: ['type', 'interval_seconds', 'target'] },
  { name: 'vigil_check_quorum', help: 'Locations that must see the check fail before it is critical (its `quorum`); served only by instances started with --location.' },
  { name: 'vigil_check_interval_seconds', help: 'Configured interval of the check (rules use it to spot checks that stopped running).' },
];
