// Alerting benchmark (issue 4): from breaking a target to the first critical page at the
// PagerDuty sink, through the real stack with the shipped intervals (prometheus/prometheus.yml:
// vigil scraped every 5 s, vigil-checks rules every 5 s; rules/: VigilCheckCritical `for: 10s`;
// alertmanager/alertmanager.yml: pagerduty group_wait 2s). Nothing is shortened. Goal: < 30 s.
//
// One stack for all runs. Each run breaks one check after a random 0-5 s pause (so the break
// lands at a random phase of the 5 s scrape/evaluation cycle), waits for the PagerDuty trigger,
// heals it and waits for the PagerDuty resolve of the same incident before the next run. Each run
// uses its own check in its own component: a component that breaks again minutes after it was
// resolved can fall into Alertmanager's still-existing aggregation group, which flushes on its
// group_interval (1 m) rather than its group_wait — a different measurement (see
// docs/alert-receiver.md#benchmark).
//
//   npx tsx bench/alerting.ts            (needs dist/: npm run build)
//   BENCH_ALERTING_RUNS=3 npx tsx bench/alerting.ts
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI } from '../tests/support/exporter.js';
import { PAGERDUTY_PATH, poll, startAlertingStack, type StackCheck } from '../tests/stack/stack.js';

const RUNS = Number(process.env.BENCH_ALERTING_RUNS ?? 5);
/** 1: break the same check every run (measures re-breaking a component soon after its resolve). */
const SAME_CHECK = process.env.BENCH_ALERTING_SAME_CHECK === '1';
const GOAL_S = 30;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number) => Math.round(x * 10) / 10;

export async function benchAlerting(): Promise<Record<string, number | string>> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const checks: StackCheck[] = Array.from({ length: SAME_CHECK ? 1 : RUNS }, (_, i) => ({ name: `bench-${i + 1}`, component: `bench-${i + 1}`, path: `/bench-${i + 1}` }));
  const t0 = Date.now();
  const log = (m: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${m}`);
  const stack = await startAlertingStack({ checks, log });
  const page: number[] = [];
  const webhook: number[] = [];
  const resolve: number[] = [];
  try {
    await poll(async () => (await stack.prometheus.query(`count(vigil_check_status{job="vigil",state="healthy"} == 1) == ${checks.length}`)).length > 0,
      60_000, 'Prometheus scraping every check healthy');
    log(`stack up: ${checks.length} healthy checks scraped`);
    for (let i = 0; i < RUNS; i++) {
      const c = checks[SAME_CHECK ? 0 : i];
      await new Promise((r) => setTimeout(r, Math.random() * 5000));
      const seen = stack.sink.requests.length;
      const brokenAt = Date.now();
      stack.setBroken(c.name, true);
      const isOurs = (b: any) => String(b?.payload?.custom_details?.firing ?? '').includes('VigilCheckCritical') && b?.payload?.component === c.component;
      const trig = await stack.sink.waitFor((r) => r.path === PAGERDUTY_PATH && r.body?.event_action === 'trigger' && isOurs(r.body)
        && stack.sink.requests.indexOf(r) >= seen, 90_000, `run ${i + 1}: PagerDuty trigger`);
      page.push((trig.at - brokenAt) / 1000);
      const wh = await poll(async () => (await stack.vigilNotifications(`alertname=VigilCheckCritical&component=${c.component}&status=firing`))
        .filter((n) => Date.parse(n.received_at) >= brokenAt).at(-1), 60_000, `run ${i + 1}: Vigil webhook`);
      webhook.push((Date.parse(wh.received_at) - brokenAt) / 1000);

      const healedAt = Date.now();
      const seenAtHeal = stack.sink.requests.length;
      stack.setBroken(c.name, false);
      const res = await stack.sink.waitFor((r) => r.path === PAGERDUTY_PATH && r.body?.event_action === 'resolve' && r.body?.dedup_key === trig.body.dedup_key
        && stack.sink.requests.indexOf(r) >= seenAtHeal, 150_000, `run ${i + 1}: PagerDuty resolve`);
      resolve.push((res.at - healedAt) / 1000);
      log(`run ${i + 1}/${RUNS} (${c.name}): break -> page ${page[i].toFixed(2)} s, -> Vigil webhook ${webhook[i].toFixed(2)} s; heal -> PagerDuty resolve ${resolve[i].toFixed(2)} s`);
    }
  } finally {
    await stack.stop();
  }
  const result = {
    runs: RUNS,
    mode: SAME_CHECK ? 'same check every run' : 'a fresh check/component per run',
    break_to_page_min_s: round(Math.min(...page)),
    break_to_page_median_s: round(median(page)),
    break_to_page_max_s: round(Math.max(...page)),
    break_to_vigil_webhook_median_s: round(median(webhook)),
    heal_to_pagerduty_resolve_min_s: round(Math.min(...resolve)),
    heal_to_pagerduty_resolve_median_s: round(median(resolve)),
    heal_to_pagerduty_resolve_max_s: round(Math.max(...resolve)),
    goal_s: GOAL_S,
    goal_met: Math.max(...page) < GOAL_S ? 'yes' : 'no',
    intervals: 'vigil scrape 5s, vigil-checks eval 5s, for 10s, pagerduty group_wait 2s, check interval 1s',
  };
  console.log('\nalerting: break -> first critical page at PagerDuty (shipped intervals)');
  console.log(`  per run (s): ${page.map((x) => x.toFixed(2)).join(', ')}`);
  console.log(`  min ${result.break_to_page_min_s} s, median ${result.break_to_page_median_s} s, max ${result.break_to_page_max_s} s (goal < ${GOAL_S} s: ${result.goal_met})`);
  console.log(`  Vigil webhook median ${result.break_to_vigil_webhook_median_s} s; heal -> PagerDuty resolve min/median/max ${result.heal_to_pagerduty_resolve_min_s}/${result.heal_to_pagerduty_resolve_median_s}/${result.heal_to_pagerduty_resolve_max_s} s`);
  return result;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  benchAlerting().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
}
