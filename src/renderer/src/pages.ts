// The studio's pages, in navigation order.

export const pages = ['Library', 'Player', 'Chat', 'Datasets', 'Training', 'Models'] as const;
export type Page = (typeof pages)[number];

/** What each page will do; shown honestly until it is built. */
export const plannedFeature: Record<Exclude<Page, 'Models'>, string> = {
  Library: 'Browsing and tagging your music folder',
  Player: 'The waveform and spectrogram player with passage selection',
  Chat: 'Asking the model about a track or a selected passage',
  Datasets: 'Labeling passages into a dataset',
  Training: 'Finetuning the model on a dataset and watching it learn',
};
