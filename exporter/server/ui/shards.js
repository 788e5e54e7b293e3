// Checks of the config that other shards run (--shard.count > 1): listed apart from this
// shard's board, each with the status it last left in the shared record and the shard that
// serves it. Refreshed with every snapshot; this shard's live feed does not carry them.
import { h, icon } from './dom.js';
import * as f from './format.js';

/** Render `others` (the snapshot's other_shards, or undefined) into a section placed after `anchor`. */
export function renderOtherShards(anchor, others) {
  let section = document.getElementById('other-shards');
  if (!others) {
    section?.remove();
    return;
  }
  if (!section) {
    section = h('section', { id: 'other-shards', class: 'panel other-shards', 'aria-labelledby': 'other-shards-h' });
    anchor.after(section);
  }
  const note = others.source === 'record'
    ? `This page is served by ${others.shard}; these checks run on other shards. Status as last recorded in the shared record.`
    : `This page is served by ${others.shard}; these checks run on other shards. Their status is not available here (the record is not shared: storage.type postgres shares it).`;
  section.replaceChildren(
    h('h2', { id: 'other-shards-h', class: 'panel-h' }, 'Served by other shards ', h('span', { class: 'count', text: String(others.checks.length) })),
    h('p', { class: 'muted small', text: note }),
    h('ul', { class: 'other-shards-list' }, others.checks.map((c) => h('li', { class: 'other-shard-check', dataset: { status: c.status, check: c.name } },
      icon(c.status),
      h('span', { class: 'name', text: c.name }),
      h('span', { class: 'muted small', text: ` ${c.component} · ${f.STATUS_LABEL[c.status] ?? c.status} · served by ${c.served_by}${c.last_run ? ` · last run ${f.ago(c.last_run)}` : ''}` }),
    ))),
  );
}
