// Per-check series, pre-rendered in the Prometheus 0.0.4 text format when a result lands.
//
// Why not prom-client Gauges: with 1 000 checks (~20 000 series) prom-client spent ~50 ms per
// scrape serialising and ~3 µs hashing labels on every set() (measured with `npm run bench`).
// Rendering a check's lines once per run moves that work off the scrape path: a scrape is a
// join of strings that already exist.
import type { MetricSpec } from '../probes/types.js';

interface Family {
  header: string;
  rows: Map<string, string>;
}

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function formatSampleValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function renderLabels(labels: Record<string, string>): string {
  let out = '';
  for (const k in labels) out += `${out ? ',' : ''}${k}="${escapeLabelValue(labels[k])}"`;
  return out;
}

/** Collects one check's lines, family by family, for a single replace. */
export class CheckLines {
  readonly byFamily = new Map<string, string>();

  constructor(private readonly base: string) {}

  add(family: string, value: number, labels?: Record<string, string>): void {
    let l = this.base;
    if (labels) for (const k in labels) l += `,${k}="${escapeLabelValue(labels[k])}"`;
    const line = `${family}{${l}} ${formatSampleValue(value)}\n`;
    this.byFamily.set(family, (this.byFamily.get(family) ?? '') + line);
  }
}

export class CheckSeries {
  private families = new Map<string, Family>();
  private checkFamilies = new Map<string, Set<string>>();

  /** Declare the families (in output order). Clears all rows. */
  reset(specs: MetricSpec[]): void {
    this.families.clear();
    this.checkFamilies.clear();
    for (const s of specs) {
      this.families.set(s.name, { header: `# HELP ${s.name} ${s.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${s.name} ${s.type ?? 'gauge'}\n`, rows: new Map() });
    }
  }

  has(family: string): boolean {
    return this.families.has(family);
  }

  /** Replace every line of one check. Families it no longer reports lose its rows. */
  set(check: string, lines: CheckLines): void {
    const previous = this.checkFamilies.get(check);
    const now = new Set<string>();
    for (const [family, text] of lines.byFamily) {
      const f = this.families.get(family);
      if (!f) continue;
      f.rows.set(check, text);
      now.add(family);
    }
    if (previous) for (const family of previous) if (!now.has(family)) this.families.get(family)?.rows.delete(check);
    this.checkFamilies.set(check, now);
  }

  remove(check: string): void {
    for (const family of this.checkFamilies.get(check) ?? []) this.families.get(family)?.rows.delete(check);
    this.checkFamilies.delete(check);
  }

  render(): string {
    const parts: string[] = [];
    for (const f of this.families.values()) {
      if (!f.rows.size) continue;
      parts.push(f.header);
      for (const rows of f.rows.values()) parts.push(rows);
    }
    return parts.join('');
  }
}
