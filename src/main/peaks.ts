// A track's waveform peaks for the player: computed once per file version (decoding through
// loadAudio, which decodes in a worker thread where the compiled worker exists) and kept in
// the catalog; answered at the finest level that fits the caller's budget.
import { DEFAULT_PEAK_LEVELS, PeakBuilder, type Peaks } from '../model/audio/peaks.js';
import { loadAudio } from '../model/audio/load.js';
import type { Track, WavePeaks } from '../shared/api.js';
import type { PeaksStore } from './catalog/peaks.js';

const inflight = new Map<string, Promise<Peaks>>();

async function computeOnce(store: PeaksStore, track: Track, file: string): Promise<Peaks> {
  const cached = store.get(track.id, track.size, track.mtimeMs);
  if (cached) return cached;
  const key = `${track.id}:${track.size}:${track.mtimeMs}`;
  let p = inflight.get(key);
  if (!p) {
    p = (async () => {
      // The builder's rate is only echoed in its result; the native rate is known after decoding.
      const builder = new PeakBuilder(1, DEFAULT_PEAK_LEVELS);
      const loaded = await loadAudio(file, { peaks: builder, onPcm: () => {} });
      return { ...builder.finish(), sampleRate: loaded.sourceRate };
    })().finally(() => inflight.delete(key));
    inflight.set(key, p);
  }
  const peaks = await p;
  store.set(track.id, track.size, track.mtimeMs, peaks);
  return peaks;
}

export async function trackPeaks(store: PeaksStore, track: Track, file: string, maxPeaks: number): Promise<WavePeaks> {
  const p = await computeOnce(store, track, file);
  const level = p.levels.find((l) => l.min.length <= maxPeaks) ?? p.levels[p.levels.length - 1];
  const out = new Array<number>(level.min.length * 2);
  const r = (v: number) => Math.round(v * 10000) / 10000;
  for (let i = 0; i < level.min.length; i++) {
    out[2 * i] = r(level.max[i]);
    out[2 * i + 1] = r(level.min[i]);
  }
  return { trackId: track.id, sampleRate: p.sampleRate, durationSec: p.length / p.sampleRate, samplesPerPeak: level.samplesPerPeak, peaks: out };
}
