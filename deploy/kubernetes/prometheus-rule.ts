// The shipped rules (rules/*.yml) as Prometheus Operator PrometheusRule objects, so that a
// cluster gets exactly the rules the promtool tests and the stack tests run: one object per rule
// file, its groups copied as they are. docs/generate.ts writes the result to PROMETHEUS_RULE_FILE
// with the rest of the generated files (`npm run docs`), and tests/unit/kubernetes.test.ts fails
// when the checked-in copy differs from rules/.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const PROMETHEUS_RULE_FILE = path.join(HERE, 'components/prometheus-operator/prometheusrule.yaml');

export interface RuleFile {
  /** File name in rules/, e.g. `vigil-checks.yml`. */
  name: string;
  text: string;
}

/** `vigil-checks.yml` -> `vigil-checks`, `meta.yml` -> `vigil-meta`: every object named vigil-*. */
export function objectName(file: string): string {
  const base = path.basename(file, '.yml');
  return base.startsWith('vigil-') ? base : `vigil-${base}`;
}

/** The multi-document YAML of PrometheusRule objects, one per rule file, in file-name order. */
export function renderPrometheusRules(files: RuleFile[]): string {
  const header = [
    '# GENERATED from rules/*.yml by `npm run docs` (deploy/kubernetes/prometheus-rule.ts): edit the',
    '# rules there, not here. tests/unit/kubernetes.test.ts fails when this file is stale.',
    '',
  ].join('\n');
  const docs = [...files].sort((a, b) => a.name.localeCompare(b.name)).map((f) => {
    const doc = parse(f.text) as { groups?: unknown[] } | null;
    if (!doc || !Array.isArray(doc.groups)) throw new Error(`rules/${f.name}: no groups`);
    const object = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: {
        name: objectName(f.name),
        labels: { 'app.kubernetes.io/name': 'vigil', 'app.kubernetes.io/component': 'rules' },
      },
      spec: { groups: doc.groups },
    };
    return `# rules/${f.name}\n${stringify(object, { lineWidth: 0 })}`;
  });
  return header + docs.join('---\n');
}
