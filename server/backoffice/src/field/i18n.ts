// The field view's messages (messages.ts), French first, English available; the language and
// the formatting are shared with the rest of the back office and the citizen app.
import { translator } from '@guichet/web/i18n';
import { en, fr, type Key } from './messages';

export const t = translator(fr, en);
export type { Key };
export { formatDate, formatDateTime, formatDistance, formatNumber, formatTime, lang, pick, setLang } from '@guichet/web/i18n';
