// Finding a démarche: the catalogue by group, in the catalogue's order, and a search on titles
// and descriptions (in the language shown) and keywords (French and English, so that either
// word finds it) that ignores case and accents ("etat civil" finds "État civil"). Pure: no DOM,
// no imports, tested in Node.js (test/demarches.test.ts).

export interface Searchable {
  code: string;
  title: string;
  group: string;
  group_code: string;
  /** What the démarche is for, in the language shown. */
  description?: string;
  keywords?: string[];
  keywords_en?: string[];
}

/** Lower case, accents and ligatures removed, punctuation as spaces, spaces collapsed. */
export function fold(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/œ/g, 'oe')
    .replace(/æ/g, 'ae')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

export interface Group<T> {
  code: string;
  title: string;
  items: T[];
}

/** The démarches by group, groups and démarches in the order the catalogue gives them. */
export function byGroup<T extends Searchable>(list: T[]): Group<T>[] {
  const groups = new Map<string, Group<T>>();
  for (const d of list) {
    let g = groups.get(d.group_code);
    if (!g) groups.set(d.group_code, (g = { code: d.group_code, title: d.group, items: [] }));
    g.items.push(d);
  }
  return [...groups.values()];
}

/**
 * The démarches whose title, keywords or description hold every word of the query (a word
 * matches the start of a word of theirs), best first: a match in the title before one in
 * keywords, before one in the description only, then the catalogue's order.
 */
export function search<T extends Searchable>(list: T[], query: string): T[] {
  const words = fold(query).split(' ').filter((w) => w.length > 0);
  if (!words.length) return [];
  const scored: { d: T; score: number; i: number }[] = [];
  list.forEach((d, i) => {
    const title = fold(d.title).split(' ');
    const keys = [...(d.keywords ?? []), ...(d.keywords_en ?? [])].flatMap((k) => fold(k).split(' '));
    const about = fold(d.description ?? '').split(' ');
    let score = 0;
    for (const w of words) {
      if (title.some((t) => t.startsWith(w))) score += 3;
      else if (keys.some((k) => k.startsWith(w))) score += 2;
      else if (about.some((a) => a.startsWith(w))) score += 1;
      else return;
    }
    scored.push({ d, score, i });
  });
  return scored.sort((a, b) => b.score - a.score || a.i - b.i).map((x) => x.d);
}
