// CSV for every export (reports, alert history): RFC 4180 (CRLF, quotes doubled), with
// spreadsheet formula injection neutralised: a field starting with = + - @ (or tab/CR) would be
// evaluated by Excel/LibreOffice, so it gets a leading quote unless it is a plain number.

export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV record, with its line end. */
export function csvLine(row: readonly unknown[]): string {
  return row.map(csvField).join(',') + '\r\n';
}

export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  let out = csvLine(header);
  for (const r of rows) out += csvLine(r);
  return out;
}
