// Which per-check families /metrics serves: `metrics.series` in vigil.yml.
//
// `full` (the default) serves every family a check's kind declares, blackbox_exporter's detail
// included. `lean` leaves out the per-run detail families below: HTTP phase timings, response
// details, resolver and TLS detail, DNS and ICMP phases. An HTTP check then has 13 series
// instead of 27, so /metrics is about half as big and a scrape half as long (capacity.md).
// Nothing the shipped alerting rules query is left out (a test checks that); the checks
// dashboard's phase panel ("where the time goes") stays empty for checks served lean.
import type { VigilConfig } from '../config/schema.js';

export type SeriesSet = VigilConfig['metrics']['series'];

/** Families `lean` leaves out (the check's status, thresholds, duration, counters and kind values stay). */
export const DETAIL_FAMILIES: ReadonlySet<string> = new Set([
  // http: blackbox's per-run detail
  'probe_http_duration_seconds',
  'probe_http_content_length',
  'probe_http_uncompressed_body_length',
  'probe_http_redirects',
  'probe_http_ssl',
  'probe_http_version',
  'probe_http_last_modified_timestamp_seconds',
  'probe_failed_due_to_regex',
  // resolver (http, tcp, dns, icmp, …)
  'probe_dns_lookup_time_seconds',
  'probe_ip_protocol',
  'probe_ip_addr_hash',
  // TLS beyond the expiry (probe_ssl_earliest_cert_expiry and vigil_tls_cert_expires_in_seconds,
  // which the cert_expires_in threshold is in, stay)
  'probe_tls_version_info',
  'probe_ssl_last_chain_expiry_timestamp_seconds',
  'probe_ssl_last_chain_info',
  // dns and icmp phases and answer detail
  'probe_dns_duration_seconds',
  'probe_dns_authority_rrs',
  'probe_dns_additional_rrs',
  'probe_icmp_duration_seconds',
  'probe_icmp_reply_hop_limit',
]);

/** Whether `set` serves `family` for checks. */
export function serves(set: SeriesSet, family: string): boolean {
  return set === 'full' || !DETAIL_FAMILIES.has(family);
}
