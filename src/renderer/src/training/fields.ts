// The training form's fields: the runner's most used settings by MuFun's flag names, per kind,
// and the "more settings" text, where any other flag can be given as MuFun's scripts write it.
import type { TrainingKind, TrainingSettingValue, TrainingSettings } from '../../../shared/api-training.js';

export interface Field {
  flag: string;
  label: string;
  /** a fixed set of values (a select) */
  choices?: readonly string[];
}

export const KIND_LABELS: Record<TrainingKind, string> = {
  warmup: 'Warm-up (connector only)',
  finetune: 'Finetune (full)',
  lora: 'Finetune (LoRA)',
  grpo: 'GRPO (rewards)',
  tagging: 'Tagging (the audio tower learns to hear)',
};

const COMMON: Field[] = [
  { flag: 'learning_rate', label: 'Learning rate' },
  { flag: 'num_train_epochs', label: 'Epochs' },
  { flag: 'max_steps', label: 'Max steps (−1 = all)' },
  { flag: 'per_device_train_batch_size', label: 'Batch size' },
  { flag: 'gradient_accumulation_steps', label: 'Gradient accumulation' },
  { flag: 'model_max_length', label: 'Max length (positions)' },
  { flag: 'lr_scheduler_type', label: 'Schedule', choices: ['cosine', 'linear', 'constant'] },
  { flag: 'warmup_ratio', label: 'Warm-up ratio' },
  { flag: 'save_steps', label: 'Save every (steps)' },
];

const EVAL: Field[] = [
  { flag: 'eval_steps', label: 'Evaluate every (steps)' },
  { flag: 'eval_accuracy_samples', label: 'Accuracy samples per eval' },
];

const TUNE: Field[] = [
  { flag: 'tune_type_vision_tower', label: 'Audio tower', choices: ['frozen', 'full', 'partially-tune'] },
  { flag: 'tune_type_connector', label: 'Connector', choices: ['frozen', 'full'] },
];

const LORA: Field[] = [
  { flag: 'lora_r', label: 'LoRA rank' },
  { flag: 'lora_alpha', label: 'LoRA alpha' },
  { flag: 'lora_dropout', label: 'LoRA dropout' },
];

const GRPO: Field[] = [
  { flag: 'num_generations', label: 'Generations per prompt' },
  { flag: 'beta', label: 'KL coefficient (beta)' },
  { flag: 'temperature', label: 'Sampling temperature' },
  { flag: 'max_completion_length', label: 'Max completion tokens' },
  { flag: 'reward', label: 'Rewards (answer, choice, wer, format as name:weight, comma-separated)' },
];

// `mufun tag-train`'s flags: the tower and connector learn a synthetic set's labels
const TAGGING: Field[] = [
  { flag: 'learning_rate', label: 'Learning rate' },
  { flag: 'num_train_epochs', label: 'Epochs' },
  { flag: 'per_device_train_batch_size', label: 'Clips per step' },
  { flag: 'frames', label: 'Frame tasks (what sounds in each audio token)', choices: ['false', 'true'] },
  { flag: 'frame_weight', label: 'Frame tasks\' weight' },
  { flag: 'spectrum_weight', label: 'Spectrum weight (every audio token also regresses its log-mel; 0: off)' },
  { flag: 'tempo_weight', label: 'Tempo weight (the mean audio token also regresses each piece\'s log2 BPM; 0: off)' },
  { flag: 'tempo_token_weight', label: 'Tempo token weight (every audio token on its own regresses it too; 0: off)' },
  { flag: 'tasks', label: 'Tasks (comma-separated)' },
  { flag: 'seed', label: 'Seed' },
];

export function fieldsFor(kind: TrainingKind): Field[] {
  if (kind === 'tagging') return TAGGING;
  if (kind === 'grpo') return [...COMMON, ...GRPO];
  if (kind === 'lora') return [...COMMON, ...EVAL, ...LORA];
  if (kind === 'finetune') return [...COMMON, ...EVAL, ...TUNE];
  return [...COMMON, ...EVAL];
}

export function showValue(v: TrainingSettingValue | undefined): string {
  if (v === undefined) return '';
  return Array.isArray(v) ? v.join(',') : String(v);
}

/**
 * "More settings": `--flag value`, `flag=value` or `flag value`, on one line or many (a line of
 * MuFun's finetune.sh works as it is; `\` line ends are ignored). A flag given twice (reward)
 * becomes a list. Returns the settings or a message naming what could not be read.
 */
export function parseMore(text: string): { settings: TrainingSettings } | { error: string } {
  const tokens = text.replace(/\\\n/g, ' ').split(/\n/).flatMap((l) => (l.trim().startsWith('#') ? [] : l.trim().split(/\s+/))).filter(Boolean);
  const out: TrainingSettings = {};
  const put = (k: string, v: string) => {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i].replace(/^--?/, '');
    const eq = t.indexOf('=');
    if (eq > 0) {
      put(t.slice(0, eq), t.slice(eq + 1));
      continue;
    }
    const value = tokens[i + 1];
    if (value === undefined || /^--/.test(value)) return { error: `${t} has no value (write ${t}=value)` };
    put(t, value);
    i++;
  }
  return { settings: out };
}
