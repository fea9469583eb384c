// Small display helpers.

/** 83.25 → "1:23.3" (tenths shown below an hour, for segment edges). */
export function formatTime(sec: number | null | undefined, tenths = false): string {
  if (sec == null || !Number.isFinite(sec)) return '–';
  const sign = sec < 0 ? '-' : '';
  sec = Math.abs(sec);
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  const ss = tenths ? s.toFixed(1).padStart(4, '0') : String(Math.floor(s)).padStart(2, '0');
  return h ? `${sign}${h}:${String(m).padStart(2, '0')}:${ss}` : `${sign}${m}:${ss}`;
}

export function segmentLabel(seg: { start: number; end: number } | null): string {
  return seg ? `${formatTime(seg.start, true)}–${formatTime(seg.end, true)}` : 'whole track';
}
