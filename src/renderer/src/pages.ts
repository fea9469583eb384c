// The studio's pages, in navigation order.

export const pages = ['Library', 'Player', 'Chat', 'Datasets', 'Training', 'Models'] as const;
export type Page = (typeof pages)[number];

/** Pages not built yet, and what each will do; shown honestly until it is built. */
export const plannedFeature: Partial<Record<Page, string>> = {};
