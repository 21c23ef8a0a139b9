// Deployment settings of the Guichet web app, read at start-up. Edit this file in dist/ to
// configure a deployment without rebuilding. Every key is optional.
window.GUICHET_CONFIG = Object.assign(
  {
    // Base URL of the Guichet server; empty = the same origin as the page.
    // apiBase: 'https://guichet.example.org',
    // Map tiles: the server's GUICHET_MAP_TILES by default (GET /api/v1/map); these two
    // override it for this app only.
    // tileUrl: 'https://tiles.example.org/{z}/{x}/{y}.png',
    // tileAttribution: '© OpenStreetMap contributors',
  },
  window.GUICHET_CONFIG || {},
);
