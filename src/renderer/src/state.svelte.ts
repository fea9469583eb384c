// What the pages share: the page shown, the track in the player, its selected segment, and
// the audio waiting to be attached to the next question.
import type { Track } from '../../shared/api.js';
import type { Page } from './pages.js';

export interface Selection {
  start: number;
  end: number;
}

export interface PendingAttachment {
  track: Track;
  /** null = the whole track */
  segment: Selection | null;
}

export const studio = $state({
  page: 'Library' as Page,
  track: null as Track | null,
  selection: null as Selection | null,
  attachments: [] as PendingAttachment[],
});

export function openTrack(track: Track): void {
  if (studio.track?.id !== track.id) studio.selection = null;
  studio.track = track;
  studio.page = 'Player';
}

export function attach(a: PendingAttachment): void {
  const same = (b: PendingAttachment) =>
    b.track.id === a.track.id && b.segment?.start === a.segment?.start && b.segment?.end === a.segment?.end;
  if (!studio.attachments.some(same)) studio.attachments.push(a);
}
