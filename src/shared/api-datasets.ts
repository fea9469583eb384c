// The datasets part of the API contract (see api.ts): its calls with their argument checks,
// and its events. api.ts merges these tables into ApiCalls, argChecks and ApiEvents.
//
// A dataset holds items; an item is one sample of MuFun's JSON format (see MUFUN.md): library
// tracks as its audio (whole or one segment each), question/answer turns, and a train/eval split.
// Task templates turn a label into turns; import and export read and write MuFun's JSON files.
import type { NoArgs } from './api.js';
import {
  array,
  boolean,
  id,
  nullable,
  number,
  object,
  oneOf,
  optional,
  refine,
  string,
  type Check,
} from './check.js';

export const SPLITS = ['train', 'eval'] as const;
export type Split = (typeof SPLITS)[number];

export const TEMPLATE_KINDS = ['choice', 'open', 'caption'] as const;
/** choice: "(choose from: A. x, B. y, …)" answered "B. y"; open: a question answered by the label; caption: a description. */
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

/** One turn of MuFun's `conversations`: from "human" (the question) or "gpt" (the answer). */
export interface DatasetTurn {
  from: string;
  value: string;
}

/** An item's audio: a library track, whole (start/end null) or one segment, in seconds. */
export interface ItemAudio {
  trackId: number;
  title: string;
  path: string;
  durationSec: number | null;
  start: number | null;
  end: number | null;
}

export interface DatasetItem {
  id: number;
  datasetId: number;
  position: number;
  /** MuFun's `id` field (null: one is made at export, `<dataset>-<item id>`). */
  sampleId: string | null;
  audios: ItemAudio[];
  turns: DatasetTurn[];
  split: Split;
  /** What the item was labelled with (MuFun's answer label, e.g. "blues"), exported as `label`. */
  label: string | null;
  /** Exported as MuFun's `task` field (per-task evaluation). */
  task: string | null;
  templateId: number | null;
  /** Fields of an imported sample the studio has no column for, kept verbatim for export. */
  extra: Record<string, unknown>;
  /** Why this item cannot be exported or trained on yet (empty = valid). */
  problems: string[];
  updatedAt: number;
}

export interface DatasetCounts {
  items: number;
  train: number;
  eval: number;
  /** Items with at least one problem. */
  invalid: number;
  /** Items without any turns yet. */
  unlabeled: number;
}

export interface Dataset {
  id: number;
  name: string;
  description: string;
  /** The audio root it was imported from; export writes paths relative to it when all audio lies inside. */
  audioRoot: string | null;
  createdAt: number;
  updatedAt: number;
  counts: DatasetCounts;
  /** Samples an import could not take, kept with the reason (see datasets.rejects). */
  rejects: number;
}

export interface DatasetTemplate {
  id: number;
  name: string;
  kind: TemplateKind;
  /** The question, without the "<audio>" placeholder (added per audio) or the options list. */
  question: string;
  /** The labels a choice template offers (in order; number keys pick them). */
  choices: string[];
  /** How many options a question shows (the label plus distractors); null = all choices. */
  maxOptions: number | null;
  /** Options in a seeded order per item (MuCUE style) rather than the choices' order. */
  shuffle: boolean;
  /** The item's `task` field when labelled with it. */
  task: string | null;
  /** How a choice template's answers are written: "B. y" (letter-first, MuCUE's), "y (B)" or "y" (label-only, as MuFun-nano answers). */
  answers: McAnswerForm;
}

export interface ImportProblem {
  /** The sample's position in the file (0-based). */
  index: number;
  sampleId: string | null;
  message: string;
}

export interface DatasetReject extends ImportProblem {
  id: number;
  /** The file it came from. */
  source: string;
  /** The sample as it was in the file (JSON text), so nothing is lost. */
  raw: string;
}

export interface ImportResult {
  dataset: Dataset;
  imported: number;
  problems: ImportProblem[];
  /** Library folders the import added (audio that was in no library folder yet). */
  foldersAdded: string[];
  /** Tracks the import added to the catalog. */
  tracksAdded: number;
}

export interface ExportResult {
  train: string;
  eval: string | null;
  /** The audio root: every sample's audio path is relative to it (`mufun train --audio-folder`). */
  audioFolder: string;
  counts: { train: number; eval: number };
}

export interface AudioRefArgs {
  trackId: number;
  start?: number | null;
  end?: number | null;
}

export interface TemplateArgs {
  id?: number;
  name: string;
  kind: TemplateKind;
  question: string;
  choices: string[];
  maxOptions?: number | null;
  shuffle: boolean;
  task?: string | null;
  /** Default letter-first. */
  answers?: McAnswerForm;
}

/** The synthetic data's multiple-choice tasks (src/synth/questions.ts's TASKS but captions). */
export const SYNTHESIS_CHOICE_TASKS = ['instrument', 'tempo', 'mode', 'key', 'meter', 'chord', 'drums', 'direction', 'dynamics'] as const;
export type SynthesisChoiceTask = (typeof SYNTHESIS_CHOICE_TASKS)[number];
/** How multiple-choice answers are written, by synthesis and by choice templates (src/synth/questions.ts's MC_ANSWERS): "B. y", "y (B)" or "y". */
export const MC_ANSWER_FORMS = ['letter-first', 'label-first', 'label-only'] as const;
export type McAnswerForm = (typeof MC_ANSWER_FORMS)[number];

/** What the studio's form and `mufun dataset synth` start from. */
export const SYNTHESIS_DEFAULTS = {
  clips: 50, seconds: 10, seed: 1, questionsPerClip: 1, optionOrders: 0,
  /** the tasks that offer only some of their labels as options */
  optionOrderTasks: ['instrument', 'key', 'chord'] as readonly SynthesisChoiceTask[],
  bindingQuestions: 0, bindingAnyLabelShare: 0.5, mcAnswers: 'letter-first' as McAnswerForm, modeViaKey: false,
} as const;

/** A synthetic music data set to render (src/synth) and import as a new dataset. */
export interface SynthesisArgs {
  /** The new dataset's name. */
  name: string;
  clips: number;
  /** Seconds per clip. */
  seconds: number;
  seed: number;
  /** Train questions per task and clip, each in its own words and option order (default 1). */
  questionsPerClip?: number;
  /**
   * Further multiple-choice questions per clip for each of optionOrderTasks, each with its own
   * options and order (default 0): practice for picking what is heard among the options by its letter.
   */
  optionOrders?: number;
  /** The tasks those are asked for (default instrument, key and chord, the tasks that offer only some of their labels). */
  optionOrderTasks?: SynthesisChoiceTask[];
  /**
   * Text-only train items that teach picking an option by its letter, the label given as a hint
   * (default 0). A small model trained from scratch names what it hears long before it binds a
   * name to its letter; MuFun-nano's recipe adds 96000.
   */
  bindingQuestions?: number;
  /** Share of those whose options come from every task's labels, so no option order can be learnt by heart (default 0.5). */
  bindingAnyLabelShare?: number;
  /**
   * How multiple-choice answers are written: MuCUE's "B. y" (letter-first, the default), "y (B)"
   * (label-first) or "y" (label-only: the option's text, as MuFun-nano's last stage answers).
   */
  mcAnswers?: McAnswerForm;
  /** Major/minor questions about a clip answered through its key: "In D major, so major." (default false). */
  modeViaKey?: boolean;
  /** Where the clips, MIDI files and MuFun JSON go (default: a folder named after the dataset beside the catalog). */
  outDir?: string;
}

export interface SynthesisProgress {
  runId: number;
  name: string;
  outDir: string;
  /** rendering the clips, importing them into the catalog, then one of the last three */
  phase: 'rendering' | 'importing' | 'done' | 'failed' | 'cancelled';
  /** clips rendered or found already there, of total */
  done: number;
  total: number;
  /** the new dataset (when done) */
  datasetId: number | null;
  /** why it failed, or what was made */
  message: string | null;
}

/** name → { args, result } */
export interface DatasetCalls {
  'datasets.list': { args: NoArgs; result: Dataset[] };
  'datasets.get': { args: { id: number }; result: Dataset };
  'datasets.create': { args: { name: string; description?: string }; result: Dataset };
  'datasets.update': { args: { id: number; name?: string; description?: string }; result: Dataset };
  /** Deletes the dataset and its items (the tracks stay in the library). */
  'datasets.delete': { args: { id: number }; result: { deleted: boolean } };

  'datasets.items': { args: { datasetId: number; split?: Split }; result: DatasetItem[] };
  'datasets.addItem': {
    args: { datasetId: number; audios: AudioRefArgs[]; turns?: DatasetTurn[]; split?: Split; sampleId?: string | null };
    result: DatasetItem;
  };
  'datasets.updateItem': {
    args: { id: number; audios?: AudioRefArgs[]; turns?: DatasetTurn[]; split?: Split; sampleId?: string | null; label?: string | null; task?: string | null };
    result: DatasetItem;
  };
  'datasets.deleteItem': { args: { id: number }; result: { deleted: boolean } };
  /** Applies a template with a label to items: their turns become the template's question and answer. */
  'datasets.label': { args: { itemIds: number[]; templateId: number; label: string }; result: DatasetItem[] };
  'datasets.setSplit': { args: { itemIds: number[]; split: Split }; result: DatasetItem[] };
  /** A seeded random split: round(items × evalFraction) items go to eval, the rest to train. */
  'datasets.randomSplit': { args: { datasetId: number; evalFraction: number; seed: number }; result: Dataset };

  'datasets.templates': { args: NoArgs; result: DatasetTemplate[] };
  'datasets.saveTemplate': { args: TemplateArgs; result: DatasetTemplate };
  'datasets.deleteTemplate': { args: { id: number }; result: { deleted: boolean } };
  /** What a template makes of a label for an item (nothing saved). */
  'datasets.previewLabel': { args: { itemId: number; templateId: number; label: string }; result: DatasetTurn[] };

  /** Reads a MuFun JSON file whose audio paths are relative to audioRoot, into a new (name) or an existing (datasetId) dataset. */
  'datasets.import': {
    args: { path: string; audioRoot: string; name?: string; datasetId?: number; split?: Split };
    result: ImportResult;
  };
  /** Writes outDir/train.json (and eval.json when there are eval items) in MuFun's JSON format. */
  'datasets.export': { args: { id: number; outDir: string }; result: ExportResult };
  'datasets.rejects': { args: { datasetId: number }; result: DatasetReject[] };
  'datasets.clearRejects': { args: { datasetId: number }; result: { cleared: number } };
  /**
   * Renders a synthetic music data set with ground truth (FluidSynth; `mufun synth-data`) and
   * imports it as a new dataset: train → train, val → eval (test.json stays in outDir, for
   * `mufun eval`). One at a time; progress arrives as `datasets.synthesis` events.
   */
  'datasets.synthesize': { args: SynthesisArgs; result: SynthesisProgress };
  /** Stops rendering before the next clip; what was rendered stays (the same settings resume). */
  'datasets.cancelSynthesis': { args: NoArgs; result: { cancelled: boolean } };
  /** The synthesis running, else the last one (null before any). */
  'datasets.synthesisStatus': { args: NoArgs; result: SynthesisProgress | null };
}

const path = () => string({ nonEmpty: true, maxLength: 4096 });
const name = () => string({ nonEmpty: true, maxLength: 200 });
const split = () => oneOf(SPLITS);
const itemIds = () => array(id(), { maxLength: 100_000 });

// "human" and "gpt" in practice; any other speaker is kept (MuFun skips a leading one) and the
// item's problems say when the turns do not alternate as MuFun's loader needs.
const turnCheck: Check<DatasetTurn> = object({
  from: string({ nonEmpty: true, maxLength: 50 }),
  value: string({ maxLength: 100_000 }),
});

const audioRefCheck: Check<AudioRefArgs> = refine(
  object({
    trackId: id(),
    start: optional(nullable(number({ min: 0 }))),
    end: optional(nullable(number({ min: 0 }))),
  }),
  (a) => {
    const hasStart = a.start != null, hasEnd = a.end != null;
    if (hasStart !== hasEnd) return 'give both start and end, or neither (the whole track)';
    if (hasStart && !(a.end! > a.start!)) return 'end must be after start';
    return null;
  },
);

const templateCheck: Check<TemplateArgs> = refine(
  object({
    id: optional(id()),
    name: name(),
    kind: oneOf(TEMPLATE_KINDS),
    question: string({ nonEmpty: true, maxLength: 5000 }),
    choices: array(string({ nonEmpty: true, maxLength: 200 }), { maxLength: 26 }),
    maxOptions: optional(nullable(number({ min: 2, max: 26, integer: true }))),
    shuffle: boolean(),
    task: optional(nullable(string({ maxLength: 100 }))),
    answers: optional(oneOf(MC_ANSWER_FORMS)),
  }),
  (t) => {
    if (t.kind === 'choice' && t.choices.length < 2) return 'a multiple-choice template needs at least two choices';
    if (new Set(t.choices.map((c) => c.trim().toLowerCase())).size !== t.choices.length) return 'choices must differ';
    if (/<audio>/.test(t.question)) return 'leave <audio> out of the question (it is added for each audio)';
    return null;
  },
);

export const datasetsArgChecks: { [N in keyof DatasetCalls]: Check<DatasetCalls[N]['args']> } = {
  'datasets.list': object({}),
  'datasets.get': object({ id: id() }),
  'datasets.create': object({ name: name(), description: optional(string({ maxLength: 5000 })) }),
  'datasets.update': object({ id: id(), name: optional(name()), description: optional(string({ maxLength: 5000 })) }),
  'datasets.delete': object({ id: id() }),

  'datasets.items': object({ datasetId: id(), split: optional(split()) }),
  'datasets.addItem': object({
    datasetId: id(),
    audios: array(audioRefCheck, { maxLength: 64 }),
    turns: optional(array(turnCheck, { maxLength: 200 })),
    split: optional(split()),
    sampleId: optional(nullable(string({ nonEmpty: true, maxLength: 500 }))),
  }),
  'datasets.updateItem': object({
    id: id(),
    audios: optional(array(audioRefCheck, { maxLength: 64 })),
    turns: optional(array(turnCheck, { maxLength: 200 })),
    split: optional(split()),
    sampleId: optional(nullable(string({ nonEmpty: true, maxLength: 500 }))),
    label: optional(nullable(string({ maxLength: 5000 }))),
    task: optional(nullable(string({ maxLength: 100 }))),
  }),
  'datasets.deleteItem': object({ id: id() }),
  'datasets.label': object({ itemIds: itemIds(), templateId: id(), label: string({ nonEmpty: true, maxLength: 5000 }) }),
  'datasets.setSplit': object({ itemIds: itemIds(), split: split() }),
  'datasets.randomSplit': object({
    datasetId: id(),
    evalFraction: number({ min: 0, max: 1 }),
    seed: number({ min: 0, max: 2 ** 32 - 1, integer: true }),
  }),

  'datasets.templates': object({}),
  'datasets.saveTemplate': templateCheck,
  'datasets.deleteTemplate': object({ id: id() }),
  'datasets.previewLabel': object({ itemId: id(), templateId: id(), label: string({ nonEmpty: true, maxLength: 5000 }) }),

  'datasets.import': refine(
    object({ path: path(), audioRoot: path(), name: optional(name()), datasetId: optional(id()), split: optional(split()) }),
    (a) => ((a.name === undefined) === (a.datasetId === undefined) ? 'give either a name for a new dataset or the datasetId to add to' : null),
  ),
  'datasets.export': object({ id: id(), outDir: path() }),
  'datasets.rejects': object({ datasetId: id() }),
  'datasets.clearRejects': object({ datasetId: id() }),
  'datasets.synthesize': object({
    name: name(),
    clips: number({ integer: true, min: 1, max: 10_000 }),
    seconds: number({ min: 1, max: 60 }),
    seed: number({ integer: true, min: 0, max: 0xffffffff }),
    questionsPerClip: optional(number({ integer: true, min: 1, max: 10 })),
    optionOrders: optional(number({ integer: true, min: 0, max: 20 })),
    optionOrderTasks: optional(refine(array(oneOf(SYNTHESIS_CHOICE_TASKS), { maxLength: SYNTHESIS_CHOICE_TASKS.length }), (xs) => (xs.length ? null : 'give at least one task'))),
    bindingQuestions: optional(number({ integer: true, min: 0, max: 1_000_000 })),
    bindingAnyLabelShare: optional(number({ min: 0, max: 1 })),
    mcAnswers: optional(oneOf(MC_ANSWER_FORMS)),
    modeViaKey: optional(boolean()),
    outDir: optional(path()),
  }),
  'datasets.cancelSynthesis': object({}),
  'datasets.synthesisStatus': object({}),
};

export interface DatasetEvents {
  /** A dataset or its items changed (any window, the CLI's next open sees the catalog). */
  'datasets.changed': { datasetId: number | null };
  'datasets.synthesis': SynthesisProgress;
}

export const datasetsEventNames: (keyof DatasetEvents)[] = ['datasets.changed', 'datasets.synthesis'];
