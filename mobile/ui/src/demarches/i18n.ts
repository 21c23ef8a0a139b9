// The translator of the démarche screens' dictionary (messages.ts).
import { translator } from '@guichet/web/i18n';
import { en, fr } from './messages';

export const t = translator(fr, en);
