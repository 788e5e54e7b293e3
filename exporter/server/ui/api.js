// Reads of the exporter's JSON for the detail view and the incident history. Every read has a
// timeout; a route this exporter does not have (404 on the route, not on a thing) is `missing`,
// so the page can fall back to what there is.
const TIMEOUT_MS = 10_000;

export async function getJson(url) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
  try {
    const res = await fetch(url, { cache: 'no-store', headers: { accept: 'application/json' }, signal: ctl.signal });
    let body;
    try { body = await res.json(); } catch { body = undefined; }
    return { ok: res.ok, status: res.status, body };
  } catch (err) {
    return { ok: false, status: 0, body: undefined, error: ctl.signal.aborted ? 'timed out' : String(err.message ?? err) };
  } finally {
    clearTimeout(timer);
  }
}

/** Incidents of the record (GET api/v1/incidents), or undefined when this exporter has no such route. */
export async function incidents(params) {
  const r = await getJson(`api/v1/incidents?${new URLSearchParams(params)}`);
  if (r.status === 404 || r.status === 405) return undefined;
  if (!r.ok) throw new Error(r.body?.error ?? r.error ?? `HTTP ${r.status}`);
  return r.body.incidents ?? [];
}

/**
 * Incidents from the period report (api/v1/report: contiguous non-healthy stretches per check),
 * shaped like the record's incidents: the fallback for an exporter without api/v1/incidents.
 */
export async function reportIncidents(params) {
  const r = await getJson(`api/v1/report?${new URLSearchParams(params)}`);
  if (!r.ok) throw new Error(r.body?.error ?? r.error ?? `HTTP ${r.status}`);
  const out = [];
  for (const c of r.body.checks ?? []) {
    for (const i of c.incidents ?? []) {
      out.push({
        id: undefined, state: i.ongoing ? 'open' : 'closed', status: i.worst, title: `${c.name} ${i.worst}`,
        started_at: i.start, ended_at: i.ongoing ? null : i.end, duration_seconds: i.duration_seconds,
        root_cause: [], checks: [c.name], components: [c.component],
      });
    }
  }
  return out.sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at));
}
