// A passage chosen in the Player, waiting to be added to a dataset on the Datasets page.
import type { Track } from '../../../shared/api.js';
import type { Selection } from '../state.svelte.js';

export interface PendingClip {
  track: Track;
  /** null = the whole track */
  segment: Selection | null;
}

export const datasetsState = $state({
  pending: null as PendingClip | null,
  /** The dataset last open on the page (kept while the user visits other pages). */
  datasetId: null as number | null,
});
