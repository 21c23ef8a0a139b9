// The supervisors' dashboard (`GET /agent/dashboard`, over their teams; admins: all): open and
// overdue requests by team, phase and démarche, the last 30 days' closings (median time to
// close, SLA kept) and the filings per day as a small SVG chart, which screen readers get as a
// short description plus the same numbers in a table.
import { h } from '@guichet/web/dom';
import * as api from '../api';
import { href, type Screen } from '../app';
import { formatDate, formatNumber, t } from '../i18n';
import { PHASES } from '../queue-params';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function phaseLabel(p: string): string {
  return (PHASES as readonly string[]).includes(p) ? t(`phase.${p as (typeof PHASES)[number]}`) : p;
}

/** Filings per day as bars; the numbers are in the table that follows. */
function chart(days: api.Dashboard['filed_per_day']): SVGElement {
  const w = 720;
  const hgt = 180;
  const pad = { l: 36, r: 8, t: 10, b: 26 };
  const max = Math.max(1, ...days.map((d) => d.count));
  const bw = (w - pad.l - pad.r) / Math.max(1, days.length);
  const total = days.reduce((s, d) => s + d.count, 0);
  const root = svg('svg', { viewBox: `0 0 ${w} ${hgt}`, class: 'chart', role: 'img', 'aria-labelledby': 'chart-title chart-desc', id: 'filed-chart' });
  root.append(
    svg('title', { id: 'chart-title' }, t('dash.chart.title')),
    svg('desc', { id: 'chart-desc' }, t('dash.chart.desc', { days: days.length, total: formatNumber(total), max: formatNumber(max) })),
  );
  const y = (n: number) => pad.t + (hgt - pad.t - pad.b) * (1 - n / max);
  root.append(svg('line', { x1: pad.l, x2: w - pad.r, y1: y(0), y2: y(0), stroke: '#4b5563' }));
  root.append(svg('text', { x: pad.l - 6, y: y(max) + 4, 'text-anchor': 'end', class: 'axis' }, formatNumber(max)));
  root.append(svg('text', { x: pad.l - 6, y: y(0) + 4, 'text-anchor': 'end', class: 'axis' }, '0'));
  days.forEach((d, i) => {
    const x = pad.l + i * bw;
    root.append(svg('rect', { x: x + 1, y: y(d.count), width: Math.max(1, bw - 2), height: y(0) - y(d.count), fill: '#1e3a8a' }));
    if (i === 0 || i === days.length - 1) {
      root.append(svg('text', { x: x + bw / 2, y: hgt - 8, 'text-anchor': i === 0 ? 'start' : 'end', class: 'axis' }, formatDate(`${d.date}T12:00:00Z`)));
    }
  });
  return root;
}

export function dashboardScreen(): Screen {
  const title = t('dash.title');
  const body = h('div', { id: 'dashboard' }, h('p', { class: 'status', role: 'status' }, t('queue.loading')));
  api.dashboard().then(
    (d) => {
      const facts = h('dl', { class: 'facts kpis' },
        h('dt', null, t('dash.open')), h('dd', { id: 'kpi-open' }, formatNumber(d.open.count)),
        h('dt', null, t('dash.overdue')), h('dd', { id: 'kpi-overdue' }, formatNumber(d.open.overdue)),
        h('dt', null, t('dash.closed', { days: d.window_days })), h('dd', null, formatNumber(d.closed.count)),
        h('dt', null, t('dash.median')), h('dd', { id: 'kpi-median' }, d.closed.median_hours_to_close === null ? t('dash.none') : t('dash.hours', { n: formatNumber(Math.round(d.closed.median_hours_to_close * 10) / 10) })),
        h('dt', null, t('dash.sla')), h('dd', { id: 'kpi-sla' }, d.closed.sla_kept_percent === null ? t('dash.none') : `${formatNumber(Math.round(d.closed.sla_kept_percent * 10) / 10)} %`));
      const groups = [...d.open_groups].sort((a, b) => (a.team ?? '').localeCompare(b.team ?? '') || a.phase.localeCompare(b.phase) || a.demarche.localeCompare(b.demarche));
      const groupTable = h('div', { class: 'table-wrap' }, h('table', { class: 'requests', id: 'open-groups' },
        h('caption', null, t('dash.groups')),
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, t('queue.col.team')),
          h('th', { scope: 'col' }, t('dash.phase')),
          h('th', { scope: 'col' }, t('queue.col.demarche')),
          h('th', { scope: 'col' }, t('dash.count')),
          h('th', { scope: 'col' }, t('dash.overdueCol')))),
        h('tbody', null, groups.length ? groups.map((g) => {
          const q = new URLSearchParams({ demarche: g.demarche, phase: g.phase });
          if (g.team) q.set('team', g.team);
          return h('tr', null,
            h('td', null, g.team ?? t('dash.noTeam')),
            h('td', null, phaseLabel(g.phase)),
            h('td', null, g.demarche),
            h('td', null, h('a', { href: href(`?${q}`), 'data-nav': '' }, formatNumber(g.count))),
            h('td', { class: g.overdue ? 'overdue' : undefined }, formatNumber(g.overdue)));
        }) : h('tr', null, h('td', { colspan: 5 }, t('dash.noOpen'))))));
      const dayTable = h('details', { class: 'chart-data' },
        h('summary', null, t('dash.chart.table')),
        h('div', { class: 'table-wrap' }, h('table', { class: 'requests', id: 'filed-table' },
          h('caption', null, t('dash.chart.title')),
          h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('dash.day')), h('th', { scope: 'col' }, t('dash.count')))),
          h('tbody', null, d.filed_per_day.map((x) => h('tr', null, h('th', { scope: 'row' }, formatDate(`${x.date}T12:00:00Z`)), h('td', null, formatNumber(x.count))))))));
      body.replaceChildren(
        h('section', { class: 'card', 'aria-labelledby': 'kpi-title' }, h('h2', { id: 'kpi-title' }, t('dash.kpis', { days: d.window_days })), facts),
        h('section', { class: 'card', 'aria-labelledby': 'chart-h' }, h('h2', { id: 'chart-h' }, t('dash.chart.title')), chart(d.filed_per_day), dayTable),
        h('section', { class: 'card', 'aria-labelledby': 'groups-h' }, h('h2', { id: 'groups-h' }, t('dash.groups')), groupTable),
      );
    },
    (e) => body.replaceChildren(h('p', { class: 'error', role: 'alert' }, e instanceof api.ApiError ? t('error.generic', { message: e.message }) : t('error.network'))),
  );
  return {
    title,
    el: h('section', { class: 'dashboard' }, h('h1', { id: 'screen-title', tabindex: '-1' }, title), body),
  };
}
