// Questions and answers about a clip, in MuFun's JSON sample format.
//
// Multiple choice follows MuCUE: "<audio>\n{question} (choose from: A. x, B. y, …)" answered
// "B. y" (the text after the answer's last ". " is the label, as MuFun's GRPO reward reads it),
// or "y (B)", or "y" (see McAnswers). Open questions get a short sentence; captions one line. Every sample has
// extra fields: task (for per-task accuracy), format (mc | open | caption) and label.

import type { ChordSpec, ClipSpec, PieceSpec } from './compose.js';
import { Prng } from './prng.js';
import {
  ALL_KEYS, CHORD_QUALITIES, DIRECTIONS, DYNAMICS, type Dynamics, type Direction, FAMILIES, type Family, METERS, type Meter,
  TEMPO_CLASSES,
} from './theory.js';

export const TASKS = ['instrument', 'tempo', 'mode', 'key', 'meter', 'chord', 'drums', 'direction', 'dynamics', 'caption'] as const;
export type Task = (typeof TASKS)[number];

/** Tasks asked of piece clips and of held-chord clips. */
export const PIECE_TASKS: readonly Task[] = ['instrument', 'tempo', 'mode', 'key', 'meter', 'drums', 'direction', 'dynamics', 'caption'];
export const CHORD_TASKS: readonly Task[] = ['instrument', 'chord', 'caption'];

/** The classes of each multiple-choice task and how many options a question shows. */
export const TASK_CLASSES: Record<Exclude<Task, 'caption'>, { classes: readonly string[]; options: number; description: string }> = {
  instrument: { classes: FAMILIES, options: 4, description: 'instrument family of the melody (piece clips) or of the held chord (chord clips)' },
  tempo: { classes: TEMPO_CLASSES, options: 3, description: 'tempo class: slow < 80 BPM <= medium < 120 BPM <= fast (beats felt: dotted quarters in 6/8)' },
  mode: { classes: ['major', 'minor'], options: 2, description: 'major or minor key' },
  key: { classes: ALL_KEYS, options: 4, description: 'key (tonic and mode); distractors always include the parallel key (same tonic, other mode)' },
  meter: { classes: METERS, options: 3, description: 'time signature 3/4, 4/4 or 6/8 (downbeat accents in bass, comp and drums)' },
  chord: { classes: CHORD_QUALITIES, options: 4, description: 'quality of the held chord' },
  drums: { classes: ['yes', 'no'], options: 2, description: 'whether drums are playing' },
  direction: { classes: DIRECTIONS, options: 3, description: 'overall melodic direction: ascending, descending, or arch (up then down)' },
  dynamics: { classes: DYNAMICS, options: 3, description: 'loudness change over the clip: crescendo, diminuendo (= decrescendo), steady' },
};

export interface Sample {
  id: string;
  audio?: string; // absent only in binding questions (text alone)
  conversations: { from: 'human' | 'gpt'; value: string }[];
  task: Task;
  format: 'mc' | 'open' | 'caption';
  label: string;
}

const LETTERS = 'ABCDEFGHIJ';

/**
 * How a multiple-choice answer is written: MuCUE's "B. blues" (letter-first), "blues (B)"
 * (label-first) or "blues" (label-only: the option's text, which MuCUE scoring and `mufun eval`
 * accept as well as its letter). The letter is a lookup of the label among the options, a skill of
 * its own for an LLM trained from nothing: MuFun-nano v4.2 named the right key for 77 % of test
 * clips and gave a letter agreeing with its own label for 29 %, and 1200 steps label-first did not
 * teach it to copy the letter of a label it had just written (bench/results/nano-v4.4-2026-11-28.json).
 * `mufun eval` reads all three, and counts "blues (B)" only when B is blues.
 */
export const MC_ANSWERS = ['letter-first', 'label-first', 'label-only'] as const;
export type McAnswers = (typeof MC_ANSWERS)[number];

export function mcAnswer(letter: string, label: string, answers: McAnswers): string {
  if (answers === 'label-only') return label;
  return answers === 'label-first' ? `${label} (${letter})` : `${letter}. ${label}`;
}

/**
 * How a clip's multiple-choice questions are answered: the form (default letter-first), and
 * whether major/minor is answered through the key ("In D major, so major."). A mode question asks
 * for the tonic and the mode in one answer token; MuFun-nano v4.3 named the right mode for 61 % of
 * test clips that way and for 86 % inside its key answers, where the tonic comes first.
 */
export interface AnswerStyle {
  answers?: McAnswers;
  modeViaKey?: boolean;
}

/** "(choose from: A. x, B. y)" and the answer "B. y" (or "y (B)", "y"), with the options in a seeded order. */
export function multipleChoice(
  rng: Prng, label: string, distractors: readonly string[], answers: McAnswers = 'letter-first',
): { options: string[]; text: string; answer: string } {
  const options = rng.shuffle([label, ...distractors]);
  if (new Set(options).size !== options.length) throw new Error(`duplicate options: ${options.join(', ')}`);
  const at = options.indexOf(label);
  return {
    options,
    text: `(choose from: ${options.map((o, i) => `${LETTERS[i]}. ${o}`).join(', ')})`,
    answer: mcAnswer(LETTERS[at], label, answers),
  };
}

/**
 * The letter and label of a multiple-choice answer in any form this generator writes: "B. y",
 * "y (B)" or "y" (letter null), each also through the key ("In D major, so B. major.").
 */
export function answerParts(answer: string): { letter: string | null; label: string } {
  const viaKey = /^In [^,]+, so (.+?)\.?$/.exec(answer.trim());
  const a = (viaKey ? viaKey[1] : answer).trim();
  const letterFirst = /^([A-J])\. (.+)$/.exec(a);
  if (letterFirst) return { letter: letterFirst[1], label: letterFirst[2].trim() };
  const labelFirst = /^(.*\S) \(([A-J])\)$/.exec(a);
  if (labelFirst) return { letter: labelFirst[2], label: labelFirst[1] };
  return { letter: null, label: a };
}

/** The label of a multiple-choice answer ("y" of "B. y", as MuFun's reward reads it, of "y (B)" and of "y"). */
export const answerLabel = (answer: string): string => answerParts(answer).label;

export function labelOf(spec: ClipSpec, task: Exclude<Task, 'caption'>): string {
  if (task === 'instrument') return spec.family;
  if (task === 'chord') {
    if (spec.kind !== 'chord') throw new Error(`task chord needs a chord clip, ${spec.id} is a piece`);
    return spec.quality;
  }
  if (spec.kind !== 'piece') throw new Error(`task ${task} needs a piece clip, ${spec.id} is a held chord`);
  switch (task) {
    case 'tempo': return spec.tempoClass;
    case 'mode': return spec.mode;
    case 'key': return spec.key;
    case 'meter': return spec.meter;
    case 'drums': return spec.drums ? 'yes' : 'no';
    case 'direction': return spec.direction;
    case 'dynamics': return spec.dynamics;
  }
}

const MC_QUESTIONS: Record<Exclude<Task, 'caption'>, readonly string[]> = {
  instrument: ['Which instrument family plays the melody?', 'What family of instruments carries the melody in this clip?', 'Which instrument family do you hear playing the tune?'],
  tempo: ['How would you describe the tempo of this piece?', 'Is this music slow, medium or fast?', 'What is the tempo class of this clip?'],
  mode: ['Is this piece in a major or a minor key?', 'What is the mode of this music?', 'Does this clip sound major or minor?'],
  key: ['What key is this piece in?', 'Which key is this music in?', 'What is the key of this clip?'],
  meter: ['What is the time signature of this piece?', 'What meter is this music in?', 'How many beats are in each bar, and how are they grouped?'],
  chord: ['What is the quality of the chord being held?', 'Which kind of chord do you hear?', 'What type of chord is sustained in this clip?'],
  drums: ['Are drums playing in this clip?', 'Does this music have drums?', 'Can you hear a drum kit?'],
  direction: ['What is the overall direction of the melody?', 'How does the melody move over the clip?', 'Does the melody go up, go down, or rise and then fall?'],
  dynamics: ['How does the loudness change over the clip?', 'What happens to the volume of this music?', 'Is the music getting louder, getting softer, or staying at the same level?'],
};
const CHORD_INSTRUMENT_QUESTIONS = ['Which instrument family is playing?', 'What family of instruments holds this chord?', 'Which instrument family do you hear?'];

const OPEN_QUESTIONS: Record<Exclude<Task, 'caption'>, readonly string[]> = {
  instrument: ['What instrument plays the melody?', 'Which instrument do you hear?'],
  tempo: ['What is the tempo of this piece?', 'How fast is this music?'],
  mode: ['Is this piece major or minor?', 'What is the mode of this clip?'],
  key: ['What key is this in?', 'Can you tell the key of this piece?'],
  meter: ['What is the time signature?', 'What meter does this music have?'],
  chord: ['What chord is being held?', 'Name the chord you hear.'],
  drums: ['Are there drums in this clip?', 'Is there any percussion?'],
  direction: ['How does the melody move?', 'Describe the shape of the melody.'],
  dynamics: ['How does the loudness change?', 'Describe the dynamics of this clip.'],
};
const CAPTION_QUESTIONS = ['Describe this music in one sentence.', 'Write a one-line caption for this clip.', 'Give a short description of what you hear.'];

const FAMILY_PHRASE: Record<Family, string> = {
  piano: 'a piano', guitar: 'a guitar', strings: 'strings', brass: 'brass', woodwind: 'woodwinds', organ: 'an organ', 'synth lead': 'a synth lead',
};
const METER_PHRASE: Record<Meter, string> = {
  '3/4': '3/4: three beats to the bar, the first one accented.',
  '4/4': '4/4: four beats to the bar.',
  '6/8': '6/8: two dotted-quarter beats to the bar, each divided in three.',
};
const DIRECTION_PHRASE: Record<Direction, string> = {
  ascending: 'a rising melody', descending: 'a falling melody', arch: 'a melody that rises and then falls',
};
const DYNAMICS_PHRASE: Record<Dynamics, string> = {
  crescendo: 'getting louder', diminuendo: 'getting softer', steady: 'at a steady volume',
};

function cap(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

/** The one-line caption of a clip. */
export function caption(spec: ClipSpec): string {
  if (spec.kind === 'chord') return `A held ${spec.chordName} chord played by ${FAMILY_PHRASE[spec.family]}.`;
  return `A ${spec.tempoClass} ${spec.meter} piece in ${spec.key} played by ${FAMILY_PHRASE[spec.family]}, ` +
    `${spec.drums ? 'with drums' : 'without drums'}, ${DYNAMICS_PHRASE[spec.dynamics]}, with ${DIRECTION_PHRASE[spec.direction]}.`;
}

function openAnswer(spec: ClipSpec, task: Exclude<Task, 'caption'>): string {
  if (task === 'instrument') return `${cap(spec.family)}: ${spec.kind === 'chord' ? 'the chord is played on' : 'the melody is played on'} ${article(spec.programName)}.`;
  if (task === 'chord') return `A ${(spec as ChordSpec).chordName} chord.`;
  const p = spec as PieceSpec;
  switch (task) {
    case 'tempo': return `About ${p.bpm} BPM, a ${p.tempoClass} tempo.`;
    case 'mode': return `It is in a ${p.mode} key.`;
    case 'key': return `${p.key}.`;
    case 'meter': return METER_PHRASE[p.meter];
    case 'drums': return p.drums ? 'Yes, drums keep the beat.' : 'No, there are no drums.';
    case 'direction': return `${cap(DIRECTION_PHRASE[p.direction])}: ${p.direction === 'arch' ? 'an arch' : p.direction}.`;
    case 'dynamics': return p.dynamics === 'steady' ? 'The loudness stays steady.' : `It keeps ${DYNAMICS_PHRASE[p.dynamics]} (${p.dynamics}).`;
  }
}

function article(name: string): string {
  return /^[aeiou]/i.test(name) ? `an ${name}` : `a ${name}`;
}

/** Distractors for a multiple-choice question (seeded); key questions always offer the parallel key. */
function distractors(rng: Prng, task: Exclude<Task, 'caption'>, label: string): string[] {
  const { classes, options } = TASK_CLASSES[task];
  const others = classes.filter((c) => c !== label);
  if (task === 'key') {
    const parallel = ALL_KEYS[(ALL_KEYS.indexOf(label) + 12) % 24]; // ALL_KEYS: 12 major keys by tonic, then 12 minor
    return [parallel, ...rng.shuffle(others.filter((c) => c !== parallel)).slice(0, options - 2)];
  }
  return rng.shuffle(others).slice(0, options - 1);
}

export interface QuestionOptions {
  seed: number;
  /** Share of non-caption questions asked open instead of multiple choice. */
  openShare: number;
  /**
   * Questions per task (default 1; the caption is written once): each further one is asked in its
   * own words, with its own option order. A model that must bind an option's letter to what it
   * hears learns that from seeing the same clip under several orders.
   */
  perTask?: number;
  /** How multiple-choice answers are written (default letter-first, MuCUE's). */
  answers?: McAnswers;
  /** Major/minor answered through the key (see AnswerStyle). */
  modeViaKey?: boolean;
}

/** Tasks whose questions offer only some of their labels (instrument, key, chord). */
export const PARTIAL_OPTION_TASKS = (Object.keys(TASK_CLASSES) as Exclude<Task, 'caption'>[])
  .filter((t) => TASK_CLASSES[t].classes.length > TASK_CLASSES[t].options);

/** The tasks a clip of this kind has labels for. */
const tasksOf = (spec: ClipSpec): readonly Task[] => (spec.kind === 'chord' ? CHORD_TASKS : PIECE_TASKS);

/** One sample per task that applies to the clip's kind, in the order of `tasks`. */
export function questionsFor(spec: ClipSpec, tasks: readonly Task[], audio: string, o: QuestionOptions): Sample[] {
  const applicable = tasksOf(spec);
  const out: Sample[] = [];
  for (const task of tasks) {
    if (!applicable.includes(task)) continue;
    const repeats = task === 'caption' ? 1 : (o.perTask ?? 1);
    for (let k = 0; k < repeats; k++) out.push(question(spec, task, audio, o, k));
  }
  return out;
}

/**
 * n further multiple-choice questions per task about one clip, by default for the tasks that offer
 * only some of their labels (PARTIAL_OPTION_TASKS), each with its own options and order. Picking
 * the letter there needs a lookup of what is heard among the options, which no option order learnt
 * by heart gives: these are that lookup's practice on audio. Each task has its own stream, so the
 * tasks asked do not change one another's questions.
 */
export function optionOrderQuestions(
  spec: ClipSpec, tasks: readonly Task[], audio: string, seed: number, n: number,
  orderTasks: readonly Exclude<Task, 'caption'>[] = PARTIAL_OPTION_TASKS, style: AnswerStyle = {},
): Sample[] {
  const applicable = tasksOf(spec);
  const out: Sample[] = [];
  for (const task of tasks) {
    if (task === 'caption' || !orderTasks.includes(task) || !applicable.includes(task)) continue;
    for (let k = 0; k < n; k++) {
      const rng = Prng.for(seed, `orders:${task}`, splitNumber(spec), spec.index, k);
      out.push(multipleChoiceSample(spec, task, audio, rng, `${spec.id}-${task}-orders-${k}`, style));
    }
  }
  return out;
}

function splitNumber(spec: ClipSpec): number {
  return spec.split === 'train' ? 1 : spec.split === 'val' ? 2 : 3;
}

/** The k-th question about one task of a clip (k = 0: the one every data set has). */
function question(spec: ClipSpec, task: Task, audio: string, o: QuestionOptions, k: number): Sample {
  const split = splitNumber(spec);
  const rng = k === 0 ? Prng.for(o.seed, `question:${task}`, split, spec.index) : Prng.for(o.seed, `question:${task}`, split, spec.index, k);
  const id = k === 0 ? `${spec.id}-${task}` : `${spec.id}-${task}-${k}`;
  if (task === 'caption') {
    const label = caption(spec);
    return { id, audio, task, format: 'caption', label, conversations: [
      { from: 'human', value: `<audio>\n${rng.pick(CAPTION_QUESTIONS)}` }, { from: 'gpt', value: label },
    ] };
  }
  const label = labelOf(spec, task);
  if (rng.chance(o.openShare)) {
    return { id, audio, task, format: 'open', label, conversations: [
      { from: 'human', value: `<audio>\n${rng.pick(OPEN_QUESTIONS[task])}` }, { from: 'gpt', value: openAnswer(spec, task) },
    ] };
  }
  return multipleChoiceSample(spec, task, audio, rng, id, o);
}

function multipleChoiceSample(spec: ClipSpec, task: Exclude<Task, 'caption'>, audio: string, rng: Prng, id: string, style: AnswerStyle = {}): Sample {
  const label = labelOf(spec, task);
  const q = task === 'instrument' && spec.kind === 'chord' ? rng.pick(CHORD_INSTRUMENT_QUESTIONS) : rng.pick(MC_QUESTIONS[task]);
  const mc = multipleChoice(rng, label, distractors(rng, task, label), style.answers);
  const answer = task === 'mode' && style.modeViaKey ? `In ${labelOf(spec, 'key')}, so ${mc.answer}.` : mc.answer;
  return { id, audio, task, format: 'mc', label, conversations: [
    { from: 'human', value: `<audio>\n${q} ${mc.text}` }, { from: 'gpt', value: answer },
  ] };
}

/**
 * A question about audio nobody labelled (a real recording): a piece clip's words and option sets,
 * the options drawn around a label picked uniformly, so that no option is favoured.
 */
export function unlabelledQuestion(rng: Prng, task: Task): { prompt: string; options: string[] } {
  if (task === 'caption') return { prompt: `<audio>\n${rng.pick(CAPTION_QUESTIONS)}`, options: [] };
  const label = rng.pick(TASK_CLASSES[task].classes);
  const q = rng.pick(MC_QUESTIONS[task]);
  const mc = multipleChoice(rng, label, distractors(rng, task, label));
  return { prompt: `<audio>\n${q} ${mc.text}`, options: mc.options };
}

/**
 * A text-only multiple-choice question that teaches the letter binding: the label is given in the
 * prompt ("Hint: brass."), in place of the audio, and the answer is the letter of the option that
 * holds it. Picking the option by its letter is a skill of its own for an LLM trained from
 * nothing (MuFun-nano v2 named the right label under a letter at chance); here it is learnt on
 * text, where it is cheap, and the same questions asked of audio reuse it. The label is drawn
 * uniformly from the task's classes and the options in a seeded order, so no letter and no label
 * is favoured.
 */
export function bindingQuestion(seed: number, index: number, tasks: readonly Task[], anyLabelShare = 0, answers: McAnswers = 'letter-first'): Sample {
  const asked = tasks.filter((t): t is Exclude<Task, 'caption'> => t !== 'caption');
  if (!asked.length) throw new Error('binding questions need a multiple-choice task');
  const rng = Prng.for(seed, 'binding', index);
  const task = rng.pick(asked);
  const label = rng.pick(TASK_CLASSES[task].classes);
  const id = `binding-${String(index).padStart(6, '0')}-${task}`;
  // its own stream, so that anyLabelShare 0 leaves every question as it was
  if (anyLabelShare > 0 && Prng.for(seed, 'binding-any', index).chance(anyLabelShare)) return anyLabelQuestion(rng, id, task, label, asked, answers);
  const mc = multipleChoice(rng, label, distractors(rng, task, label), answers);
  return { id, task, format: 'mc', label, conversations: [
    { from: 'human', value: `Hint: ${label}.\n${rng.pick(MC_QUESTIONS[task])} ${mc.text}` }, { from: 'gpt', value: mc.answer },
  ] };
}

const ANY_LABEL_QUESTIONS = ['Which option is the hint?', 'Which of these options does the hint name?', 'Pick the option the hint gives.'];

/**
 * A binding question whose 2 to 5 options are drawn from every task's labels. Within one task
 * the options are a few labels in some order (meter: 3 labels, 6 orders), few enough to learn
 * each (label, order) by heart, and MuFun-nano v4 did: it bound those on held-out text and
 * stayed at chance on the four of eight instrument families. Over all labels no order recurs:
 * only finding the hint among the options answers it.
 */
function anyLabelQuestion(
  rng: Prng, id: string, task: Exclude<Task, 'caption'>, label: string, asked: readonly Exclude<Task, 'caption'>[], answers: McAnswers,
): Sample {
  const pool = [...new Set(asked.flatMap((t) => TASK_CLASSES[t].classes))].filter((c) => c !== label);
  const mc = multipleChoice(rng, label, rng.shuffle(pool).slice(0, rng.int(1, 4)), answers);
  return { id: `${id}-any`, task, format: 'mc', label, conversations: [
    { from: 'human', value: `Hint: ${label}.\n${rng.pick(ANY_LABEL_QUESTIONS)} ${mc.text}` }, { from: 'gpt', value: mc.answer },
  ] };
}
