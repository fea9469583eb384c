// The catalog tables of the datasets services: one migration (see catalog/migrations.ts).
export const DATASET_MIGRATION = '';
