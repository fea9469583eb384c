// Drawing a track's log-mel spectrogram (from 'spectrogram.get') for the visible stretch of
// the waveform: one canvas pixel column per screen pixel, nearest spectrogram column, lowest
// mel band at the bottom, bytes through a perceptual colour map (dark = quiet).
import type { MelSpectrogram } from '../../../shared/api.js';

/** Magma-like stops, dark to bright; 256 RGBA entries are interpolated between them. */
const STOPS: [number, number, number][] = [
  [0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122], [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191],
];

export const COLORMAP: Uint8ClampedArray = (() => {
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (STOPS.length - 1), k = Math.min(STOPS.length - 2, Math.floor(x)), f = x - k;
    for (let ch = 0; ch < 3; ch++) lut[i * 4 + ch] = Math.round(STOPS[k][ch] + (STOPS[k + 1][ch] - STOPS[k][ch]) * f);
    lut[i * 4 + 3] = 255;
  }
  return lut;
})();

/** The spectrogram's bytes (column-major, lowest band first in each column). */
export function spectrogramBytes(s: MelSpectrogram): Uint8Array {
  const bin = atob(s.data);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The image of seconds [start, end) of the track, `width` × `height` pixels. */
export function renderView(s: MelSpectrogram, bytes: Uint8Array, start: number, end: number, width: number, height: number): ImageData {
  const img = new ImageData(Math.max(1, width), Math.max(1, height));
  const px = img.data, nb = s.melBins, span = Math.max(1e-9, end - start);
  const bandOfRow = new Int32Array(height);
  for (let y = 0; y < height; y++) bandOfRow[y] = Math.min(nb - 1, Math.floor(((height - 1 - y) * nb) / height)); // low at the bottom
  for (let x = 0; x < width; x++) {
    const t = start + ((x + 0.5) / width) * span;
    const c = Math.floor(t / s.secondsPerColumn);
    const inside = t >= 0 && t < s.durationSec && c >= 0 && c < s.columns;
    for (let y = 0; y < height; y++) {
      const o = (y * width + x) * 4;
      if (!inside) {
        px[o + 3] = 0; // past the end: transparent
        continue;
      }
      const v = bytes[c * nb + bandOfRow[y]] * 4;
      px[o] = COLORMAP[v];
      px[o + 1] = COLORMAP[v + 1];
      px[o + 2] = COLORMAP[v + 2];
      px[o + 3] = 255;
    }
  }
  return img;
}
