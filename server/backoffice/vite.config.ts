import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, type Plugin, type Rollup } from 'vite';

/**
 * Writes dist/field/sw.js, the field view's service worker, from field/sw.js with the files the
 * field view needs offline (its page, its chunks, their styles and images; not the rest of the
 * back office) and a version made of their content.
 */
function fieldServiceWorker(): Plugin {
  return {
    name: 'guichet-field-service-worker',
    apply: 'build',
    writeBundle(options, bundle: Rollup.OutputBundle) {
      const outDir = options.dir!;
      const entry = Object.values(bundle).find(
        (b): b is Rollup.OutputChunk => b.type === 'chunk' && b.isEntry && (b.facadeModuleId ?? '').endsWith('/field/index.html'),
      );
      if (!entry) throw new Error('the field view has no entry chunk');
      const files = new Set<string>(['field/index.html', 'config.js', 'field/manifest.webmanifest']);
      const walk = (name: string) => {
        const c = bundle[name];
        if (!c || files.has(name)) return;
        files.add(name);
        if (c.type !== 'chunk') return;
        [...c.imports, ...c.dynamicImports].forEach(walk);
        c.viteMetadata?.importedCss.forEach(walk);
        c.viteMetadata?.importedAssets.forEach(walk);
      };
      walk(entry.fileName);
      // Images referenced from style sheets (Leaflet's) are not listed by any chunk; they are small.
      for (const b of Object.values(bundle)) if (b.type === 'asset' && /\.(png|svg|webp)$/.test(b.fileName)) files.add(b.fileName);
      for (const icon of ['field/icons/icon-192.png', 'field/icons/icon-512.png', 'field/icons/icon.svg']) files.add(icon);
      const precache = [...files].filter((f) => !f.endsWith('.map')).sort();
      const hash = createHash('sha256');
      for (const f of precache) hash.update(f).update(readFileSync(join(outDir, f)));
      const src = readFileSync(new URL('./field/sw.js', import.meta.url), 'utf8')
        .replace('__VERSION__', hash.digest('hex').slice(0, 16))
        .replace('__PRECACHE__', JSON.stringify(precache));
      writeFileSync(join(outDir, 'field', 'sw.js'), src);
    },
  };
}

// `npm run dev` / `npm run preview` forward the API to a local `guichet serve`.
const api = process.env.GUICHET_API_PROXY ?? 'http://127.0.0.1:8090';
const proxy = { '/api': api, '/media': api };

export default defineConfig({
  // Served by `guichet serve` at /backoffice/ (GUICHET_BACKOFFICE_DIR); the app's router reads
  // real paths below it.
  base: '/backoffice/',
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 400,
    rollupOptions: {
      // Two pages: the back office, and the field teams' view (its own PWA under field/).
      input: {
        main: new URL('./index.html', import.meta.url).pathname,
        field: new URL('./field/index.html', import.meta.url).pathname,
      },
    },
  },
  server: { proxy },
  preview: { proxy },
  plugins: [fieldServiceWorker()],
});
