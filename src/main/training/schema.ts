// The catalog tables of the training services: one migration (see catalog/migrations.ts).
export const TRAINING_MIGRATION = '';
