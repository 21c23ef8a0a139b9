// Deployment settings, read at start-up from `window.GUICHET_CONFIG` (set by `config.js`, which an
// operator may edit in dist/ without rebuilding) or from `<meta name="guichet:…">` tags.
//
//   window.GUICHET_CONFIG = {
//     apiBase: 'https://guichet.example.org',   // default: same origin as the page
//     tileUrl: 'https://tiles.example.org/{z}/{x}/{y}.png',   // default: the server's (map.ts)
//     tileAttribution: '© OpenStreetMap contributors',
//   };

export interface GuichetConfig {
  apiBase: string;
  tileUrl: string | null;
  tileAttribution: string;
}

declare global {
  interface Window {
    GUICHET_CONFIG?: Partial<GuichetConfig>;
  }
}

function meta(name: string): string | null {
  const el = document.querySelector<HTMLMetaElement>(`meta[name="guichet:${name}"]`);
  const v = el?.content?.trim();
  return v ? v : null;
}

export function loadConfig(): GuichetConfig {
  const w = window.GUICHET_CONFIG ?? {};
  const apiBase = (w.apiBase ?? meta('api-base') ?? '').replace(/\/+$/, '');
  const tileUrl = (w.tileUrl ?? meta('tile-url') ?? '').trim() || null;
  const tileAttribution = w.tileAttribution ?? meta('tile-attribution') ?? '';
  return { apiBase, tileUrl, tileAttribution };
}

export const config = loadConfig();
