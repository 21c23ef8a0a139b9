// Draws the app icons into public/icons/: a white map pin on a blue square, as PNG (192, 512,
// maskable 512 with a safe zone, 180 for Apple) and SVG. No image library: the pixels are
// computed here (4x4 supersampling) and written with node:zlib.
// `node icons.mjs DIR RRGGBB` draws them into DIR on another colour: the back office's field
// view has its own (server/backoffice/public/field/icons/, 14532d).
import { writeFileSync, mkdirSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const out = process.argv[2] ? process.argv[2].replace(/\/?$/, '/') : fileURLToPath(new URL('../public/icons/', import.meta.url));
mkdirSync(out, { recursive: true });

const BG_HEX = process.argv[3] ?? '1e3a8a';
const BG = [0, 2, 4].map((i) => parseInt(BG_HEX.slice(i, i + 2), 16));
const FG = [0xff, 0xff, 0xff];

// Pin in unit coordinates (0..1), scaled by `s` around the centre (s < 1 for maskable).
function inPin(x, y, s) {
  x = (x - 0.5) / s + 0.5;
  y = (y - 0.5) / s + 0.5;
  const cx = 0.5, cy = 0.4, r = 0.24;
  const dx = x - cx, dy = y - cy;
  const d = Math.hypot(dx, dy);
  const hole = d < 0.095;
  if (d <= r) return !hole;
  // the tail: a triangle from the circle's tangents down to the tip
  const tipY = 0.84;
  if (y > cy && y <= tipY) {
    const t = (tipY - y) / (tipY - cy); // 1 at the centre line, 0 at the tip
    const half = r * 0.92 * t;
    return Math.abs(dx) <= half;
  }
  return false;
}

function crc32(buf) {
  let c, crc = 0xffffffff;
  for (let n = 0; n < buf.length; n++) {
    c = (crc ^ buf[n]) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size, scale, rounded) {
  const raw = Buffer.alloc((size * 3 + 1) * size);
  const ss = 4;
  for (let py = 0; py < size; py++) {
    raw[py * (size * 3 + 1)] = 0;
    for (let px = 0; px < size; px++) {
      let fg = 0;
      for (let sy = 0; sy < ss; sy++)
        for (let sx = 0; sx < ss; sx++)
          if (inPin((px + (sx + 0.5) / ss) / size, (py + (sy + 0.5) / ss) / size, scale)) fg++;
      const a = fg / (ss * ss);
      const o = py * (size * 3 + 1) + 1 + px * 3;
      for (let c = 0; c < 3; c++) raw[o + c] = Math.round(BG[c] * (1 - a) + FG[c] * a);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; ihdr[9] = 2; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

writeFileSync(out + 'icon-192.png', png(192, 1));
writeFileSync(out + 'icon-512.png', png(512, 1));
writeFileSync(out + 'icon-maskable-512.png', png(512, 0.7));
writeFileSync(out + 'apple-touch-icon.png', png(180, 0.9));
writeFileSync(out + 'icon.svg',
`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
<rect width="100" height="100" rx="18" fill="#${BG_HEX}"/>
<path fill="#fff" fill-rule="evenodd" d="M50 16a24 24 0 0 1 22 33.6L50 84 28 49.6A24 24 0 0 1 50 16zm0 14.5a9.5 9.5 0 1 0 0 19 9.5 9.5 0 1 0 0-19z"/>
</svg>
`);
console.log('icons written to', out);
