// Player choices that outlive the page (going to Chat and back keeps them).
export const playerPrefs = $state({ spectrogram: false });
