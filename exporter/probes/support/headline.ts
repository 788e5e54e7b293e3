// The status page's short figure for a check row, for kinds that do not say better themselves
// (ProbeDefinition.headline): a certificate's remaining life, else the first telling value.
import type { Sample } from '../../model/result.js';
import { formatValue } from '../../model/units.js';

const NOT_HEADLINES = /^(response_time|duration_.*|redirects|content_length|cert_expiry_timestamp)$/;

/** `<label> <value in its unit>` for the first sample with `key`, or undefined. */
export function figure(samples: Sample[], key: string, label: string): string | undefined {
  const s = samples.find((x) => x.key === key);
  return s && `${label} ${formatValue(s.metric, s.value)}`;
}

export function defaultHeadline(samples: Sample[]): string | null {
  const cert = figure(samples, 'cert_expires_in', 'cert');
  if (cert) return cert;
  const other = samples.find((s) => !NOT_HEADLINES.test(s.key));
  if (!other) return null;
  const where = other.labels ? ` ${Object.values(other.labels).join(',')}` : '';
  return `${other.key.replace(/_/g, ' ')}${where} ${formatValue(other.metric, other.value)}`;
}
