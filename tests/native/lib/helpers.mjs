// What the journeys share besides the app and the server: a free spot in Rennes, what a WebP
// says about itself, the server's public view of a request, the reports the app sent.
import assert from 'node:assert/strict';

/** Where nothing of `category` is open within 300 m, so that a report opens a new request. */
export async function freeSpot(serverUrl, category) {
  for (let i = 0; i < 50; i++) {
    const spot = {
      lat: Math.round((48.095 + Math.random() * 0.03) * 1e5) / 1e5,
      lon: Math.round((-1.71 + Math.random() * 0.06) * 1e5) / 1e5,
    };
    const res = await fetch(`${serverUrl}/api/v1/reports/nearby?lat=${spot.lat}&lon=${spot.lon}&category=${category}&radius_m=300`);
    assert.equal(res.status, 200);
    if ((await res.json()).items.length === 0) return spot;
  }
  throw new Error('no free spot found in Rennes');
}

/** The app's way of writing a coordinate (French: a decimal comma). */
export const frCoord = (x) => x.toFixed(5).replace('.', ',').replace('-', '[-−]');

/** The format and size a WebP file declares (lossy, lossless or extended). */
export function webpInfo(bytes) {
  if (bytes.subarray(0, 4).toString('latin1') !== 'RIFF' || bytes.subarray(8, 12).toString('latin1') !== 'WEBP') {
    return null;
  }
  const chunk = bytes.subarray(12, 16).toString('latin1');
  if (chunk === 'VP8 ') return { chunk, width: bytes.readUInt16LE(26) & 0x3fff, height: bytes.readUInt16LE(28) & 0x3fff };
  if (chunk === 'VP8L') {
    const bits = bytes.readUInt32LE(21);
    return { chunk, width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
  }
  if (chunk === 'VP8X') return { chunk, width: 1 + bytes.readUIntLE(24, 3), height: 1 + bytes.readUIntLE(27, 3) };
  return { chunk, width: 0, height: 0 };
}

export async function publicView(serverUrl, number, tracking) {
  const res = await fetch(`${serverUrl}/api/v1/requests/${number}?tracking_code=${encodeURIComponent(tracking)}`);
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

/** The multipart reports the app sent (parsed `report` part, photos, HTTP status). */
export function filedReports(recorded) {
  return recorded
    .filter((r) => r.path === '/api/v1/reports')
    .map((r) => {
      const parts = r.parts();
      const report = parts.find((p) => p.name === 'report');
      return {
        status: r.status,
        report: report ? JSON.parse(report.bytes.toString('utf8')) : null,
        photos: parts.filter((p) => p.name === 'photo' || p.name === 'photos'),
        bytes: r.body.length,
      };
    });
}
