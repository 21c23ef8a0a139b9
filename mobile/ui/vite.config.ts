import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

/** Writes dist/sw.js from sw/sw.js with the list of every built file and a content hash. */
function serviceWorker(): Plugin {
  let outDir = 'dist';
  return {
    name: 'guichet-service-worker',
    apply: 'build',
    configResolved(c) {
      outDir = c.build.outDir;
    },
    closeBundle() {
      const files: string[] = [];
      const walk = (dir: string) => {
        for (const name of readdirSync(dir)) {
          const p = join(dir, name);
          if (statSync(p).isDirectory()) walk(p);
          else files.push(relative(outDir, p).split('\\').join('/'));
        }
      };
      walk(outDir);
      // The native bridge (src/platform-tauri.ts) only runs inside the Tauri app, which ships
      // its files: a browser has no use for it offline.
      const precache = files
        .filter((f) => f !== 'sw.js' && !f.endsWith('.map') && !/(^|\/)platform-tauri-[^/]*\.js$/.test(f))
        .sort();
      const hash = createHash('sha256');
      for (const f of precache) hash.update(f).update(readFileSync(join(outDir, f)));
      const version = hash.digest('hex').slice(0, 16);
      const src = readFileSync(new URL('./sw/sw.js', import.meta.url), 'utf8')
        .replace('__VERSION__', version)
        .replace('__PRECACHE__', JSON.stringify(precache));
      writeFileSync(join(outDir, 'sw.js'), src);
    },
  };
}

// `npm run dev` / `npm run preview` forward the API to a local `guichet serve`.
const api = process.env.GUICHET_API_PROXY ?? 'http://127.0.0.1:8090';
const proxy = { '/api': api, '/media': api };

export default defineConfig({
  // Relative URLs: dist/ works at the server's root and inside the Tauri shell.
  base: './',
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 400,
  },
  server: { proxy },
  preview: { proxy },
  plugins: [serviceWorker()],
});
