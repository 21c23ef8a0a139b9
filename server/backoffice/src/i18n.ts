// The back office's messages (messages.ts), French first, English available; the language and
// the formatting are shared with the citizen app (@guichet/web/i18n).
import { translator } from '@guichet/web/i18n';
import { en, fr, type Key } from './messages';

export const t = translator(fr, en);
export type { Key };
export { formatAge, formatBytes, formatDate, formatDateTime, formatDistance, formatNumber, lang, pick, setLang } from '@guichet/web/i18n';
