// The citizen app's messages, French first, English available. The language itself and the
// formatting of numbers, dates and distances are shared with the back office
// (@guichet/web/i18n).
import { lang, translator } from '@guichet/web/i18n';
import { categoryEn, en, fr, type Key } from './messages';

export { formatAge, formatDateTime, formatDistance, formatNumber, formatTime, lang, locale, setLang } from '@guichet/web/i18n';
export type { Lang } from '@guichet/web/i18n';

/** The incident categories, used until the catalogue has been loaded once (first use offline). */
export const FALLBACK_CATEGORIES: { code: string; title: string }[] = [
  { code: 'voirie', title: 'Chaussée, trottoir ou nid-de-poule' },
  { code: 'tags-graffitis', title: 'Tags et graffitis' },
  { code: 'depot-sauvage', title: 'Dépôt sauvage de déchets' },
  { code: 'eclairage-public', title: 'Éclairage public défaillant' },
  { code: 'mobilier-urbain', title: 'Mobilier urbain dégradé' },
  { code: 'espaces-verts', title: 'Espaces verts, arbres et aires de jeux' },
  { code: 'encombrants-abandonnes', title: 'Encombrants abandonnés sur la voie publique' },
  { code: 'proprete', title: "Propreté de l'espace public" },
  { code: 'signalisation', title: 'Signalisation et feux tricolores' },
  { code: 'autre-anomalie', title: "Autre anomalie sur l'espace public" },
];

export const t = translator(fr, en);

export function categoryTitle(code: string, frTitle: string): string {
  return lang() === 'en' ? (categoryEn[code] ?? frTitle) : frTitle;
}

export type { Key as MessageKey };
