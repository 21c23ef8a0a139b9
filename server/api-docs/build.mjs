// Copies the page (src/) and the viewer's files from the swagger-ui-dist package into dist/,
// which the server serves at /api/docs/. Nothing is fetched: the package comes from npm with
// the other workspaces, and the page loads only these files (the server's Content-Security-
// Policy allows no other origin and no inline script).
import { copyFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const viewer = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const dist = join(here, "dist");

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);
for (const name of readdirSync(join(here, "src"))) {
  copyFileSync(join(here, "src", name), join(dist, name));
}
for (const name of ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"]) {
  copyFileSync(join(viewer, name), join(dist, name));
}
