// Photo preparation on the device (the citizen app and the field view): apply the EXIF
// orientation, fit in 2048 px, re-encode as JPEG (which drops every metadata, GPS included). A
// photo the browser cannot decode (e.g. HEIC on a desktop) is kept as is; the server then says
// what it thinks of it.
const MAX_SIDE = 2048;
const QUALITY = 0.85;

export async function preparePhoto(file: Blob): Promise<Blob> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    return file;
  }
  try {
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const w = Math.max(1, Math.round(bitmap.width * scale));
    const h = Math.max(1, Math.round(bitmap.height * scale));
    let out: Blob | null = null;
    if (typeof OffscreenCanvas !== 'undefined') {
      const c = new OffscreenCanvas(w, h);
      const ctx = c.getContext('2d');
      if (ctx) {
        ctx.drawImage(bitmap, 0, 0, w, h);
        out = await c.convertToBlob({ type: 'image/jpeg', quality: QUALITY });
      }
    }
    if (!out) {
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      c.getContext('2d')!.drawImage(bitmap, 0, 0, w, h);
      out = await new Promise<Blob | null>((r) => c.toBlob(r, 'image/jpeg', QUALITY));
    }
    return out ?? file;
  } finally {
    bitmap.close();
  }
}
