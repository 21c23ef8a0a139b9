// A table of requests (the queue, "for me", search results): number with its marks (overdue,
// possible duplicate, new), démarche, status, place, team, assignee, dates; optional selection;
// a current row moved with j/k that keeps the keyboard focus on the row's link.
import { h, replace } from '@guichet/web/dom';
import type { QueueItem } from '../api';
import { requestHref, session } from '../app';
import { formatAge, formatDate, formatDateTime, t } from '../i18n';

export interface TableOptions {
  id: string;
  selectable: boolean;
  /** Called when the selection changes. */
  onSelection?: (numbers: string[]) => void;
}

export class RequestTable {
  readonly el: HTMLElement;
  items: QueueItem[] = [];
  private fresh = new Set<string>();
  private selected = new Set<string>();
  private current = -1;
  private tbody = h('tbody');
  private caption = h('caption');
  private selectAll: HTMLInputElement | null = null;

  constructor(private opts: TableOptions) {
    const head = h('tr', null,
      opts.selectable ? h('th', { scope: 'col', class: 'sel' }, this.selectAllBox()) : null,
      h('th', { scope: 'col' }, t('queue.col.number')),
      h('th', { scope: 'col' }, t('queue.col.demarche')),
      h('th', { scope: 'col' }, t('queue.col.status')),
      h('th', { scope: 'col' }, t('queue.col.place')),
      h('th', { scope: 'col' }, t('queue.col.team')),
      h('th', { scope: 'col' }, t('queue.col.assignee')),
      h('th', { scope: 'col' }, t('queue.col.created')),
      h('th', { scope: 'col' }, t('queue.col.due')));
    this.el = h('div', { class: 'table-wrap' },
      h('table', { class: 'requests', id: opts.id }, this.caption, h('thead', null, head), this.tbody));
  }

  private selectAllBox(): HTMLElement {
    const box = h('input', { type: 'checkbox', id: `${this.opts.id}-all`, 'aria-label': t('queue.selectAll') });
    box.addEventListener('change', () => {
      if (box.checked) this.items.forEach((i) => this.selected.add(i.number));
      else this.selected.clear();
      this.render();
      this.opts.onSelection?.([...this.selected]);
    });
    this.selectAll = box;
    return box;
  }

  /** Replaces the rows (keeps the selection of the numbers still there). */
  set(items: QueueItem[]): void {
    this.items = items;
    const numbers = new Set(items.map((i) => i.number));
    for (const n of this.selected) if (!numbers.has(n)) this.selected.delete(n);
    this.render();
  }

  /** Items that arrived live: marked "new" until the next full load. */
  markFresh(numbers: string[]): void {
    numbers.forEach((n) => this.fresh.add(n));
  }

  selection(): string[] {
    return this.items.filter((i) => this.selected.has(i.number)).map((i) => i.number);
  }

  clearSelection(): void {
    this.selected.clear();
    this.render();
    this.opts.onSelection?.([]);
  }

  update(item: QueueItem): void {
    const i = this.items.findIndex((x) => x.number === item.number);
    if (i >= 0) this.items[i] = item;
    this.render();
  }

  currentItem(): QueueItem | null {
    return this.items[this.current] ?? null;
  }

  /** Moves the current row by `delta` (j: +1, k: −1) and focuses its link. */
  move(delta: number): void {
    if (!this.items.length) return;
    const focusedRow = (document.activeElement as HTMLElement | null)?.closest?.('tr[data-number]') as HTMLElement | null;
    if (focusedRow) this.current = this.items.findIndex((i) => i.number === focusedRow.dataset.number);
    this.current = Math.max(0, Math.min(this.items.length - 1, this.current < 0 && delta > 0 ? 0 : this.current + delta));
    this.render();
    this.tbody.querySelector<HTMLElement>(`tr[data-number="${CSS.escape(this.items[this.current].number)}"] a`)?.focus();
  }

  toggleCurrent(): void {
    const item = this.currentItem();
    if (!item) return;
    if (this.selected.has(item.number)) this.selected.delete(item.number);
    else this.selected.add(item.number);
    this.render();
    this.opts.onSelection?.([...this.selected]);
    this.tbody.querySelector<HTMLElement>(`tr[data-number="${CSS.escape(item.number)}"] a`)?.focus();
  }

  render(): void {
    this.caption.textContent = t('queue.caption', { n: this.items.length });
    const me = session.me?.id;
    replace(this.tbody, this.items.map((item, index) => {
      const marks = [
        this.fresh.has(item.number) ? h('span', { class: 'mark new' }, t('queue.new')) : null,
        item.overdue ? h('span', { class: 'mark overdue' }, t('queue.overdueMark')) : null,
        item.possible_duplicate_of ? h('span', { class: 'mark dup' }, t('queue.dupMark', { number: item.possible_duplicate_of })) : null,
        item.report_count > 1 ? h('span', { class: 'mark count' }, t('queue.reports', { n: item.report_count })) : null,
      ].filter(Boolean);
      let box: HTMLInputElement | null = null;
      if (this.opts.selectable) {
        box = h('input', { type: 'checkbox', class: 'row-select', 'aria-label': t('queue.select', { number: item.number }), checked: this.selected.has(item.number) });
        box.addEventListener('change', () => {
          if (box!.checked) this.selected.add(item.number);
          else this.selected.delete(item.number);
          this.opts.onSelection?.([...this.selected]);
          if (this.selectAll) this.selectAll.checked = this.selected.size === this.items.length && this.items.length > 0;
        });
      }
      const assignee = item.assignee_id == null ? t('queue.nobody') : item.assignee_id === me ? t('queue.me') : t('queue.agent', { id: item.assignee_id });
      return h('tr', { 'data-number': item.number, class: [index === this.current ? 'current' : '', item.overdue ? 'is-overdue' : ''].join(' ').trim() || undefined },
        box ? h('td', { class: 'sel' }, box) : null,
        h('td', { class: 'number' }, h('a', { href: requestHref(item.number), 'data-nav': '' }, item.number), marks.length ? h('div', { class: 'marks' }, marks) : null),
        h('td', null, item.demarche_title),
        h('td', null, h('span', { class: `phase phase-${item.phase}` }, item.status_label)),
        h('td', null, [item.address, item.zone].filter(Boolean).join(', ') || t('detail.none')),
        h('td', null, item.team ?? t('detail.none')),
        h('td', null, assignee),
        h('td', null, h('time', { datetime: item.created_at, title: formatDateTime(item.created_at) }, formatAge(item.created_at))),
        h('td', null, item.due_at ? h('time', { datetime: item.due_at }, formatDate(item.due_at)) : t('detail.none')));
    }));
    if (this.selectAll) this.selectAll.checked = this.selected.size > 0 && this.selected.size === this.items.length;
  }
}
