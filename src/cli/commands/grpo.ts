import { Command, InvalidArgumentError, Option } from 'commander';
import { defaultModelDir } from '../../model/default-model.js';
import type { ExecutionProvider } from '../../model/runtime.js';
import { GRPO_LOSS_TYPES, type GrpoEvent, type GrpoLossType, grpo } from '../../model/train/grpo.js';
import { addTrainOptions, parseTrainOptions } from '../../model/train/options.js';
import { loadRewards } from '../../model/train/rewards.js';
import { trainerConfigFrom } from '../../model/train/trainer.js';
import { parseEp, parseThreads } from '../main.js';

/** MuFun's scripts/grpo.sh settings, applied where the command line does not say otherwise. */
export const GRPO_SH_DEFAULTS: Record<string, unknown> = {
  tune_type_llm: 'full', tune_type_vision_tower: 'frozen', tune_type_connector: 'full', conv_version: 'qwen2_instruct',
  learning_rate: 2e-6, weight_decay: 0, num_train_epochs: 1, per_device_train_batch_size: 8, gradient_accumulation_steps: 5,
  warmup_ratio: 0.02, lr_scheduler_type: 'cosine', save_strategy: 'steps', save_steps: 10, save_total_limit: 1,
  model_max_length: 8192, eval_strategy: 'no', output_dir: 'checkpoints/mufun-grpo',
};

const num = (what: string, check: (n: number) => boolean = Number.isFinite) => (v: string) => {
  const n = Number(v);
  if (!check(n)) throw new InvalidArgumentError(`${what}: got ${v}`);
  return n;
};
const collect = (v: string, prev: string[]) => [...prev, v];
const bool = (v: string) => {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new InvalidArgumentError(`true or false: got ${v}`);
};

export function grpoCommand(): Command {
  const cmd = new Command('grpo')
    .description("refine a MuFun model with GRPO (rewards instead of labels); MuFun's grpo.sh flags plus TRL's GRPO options")
    .option('--tokenizer <dir>', 'tokenizer folder when the model folder has none')
    .option('--ep <provider>', 'execution provider: cpu, webgpu or cuda', parseEp, 'cpu' as ExecutionProvider)
    .option('--threads <n>', 'CPU threads', parseThreads)
    .option('--json', 'print each event as a JSON line on stdout instead of progress lines')
    .option('--num_generations <n>', 'completions per prompt, G (default 8)', num('an integer ≥ 2', (n) => Number.isInteger(n) && n >= 2), 8)
    .option('--beta <x>', 'KL coefficient to the starting model; 0 = no reference model (default 0.04)', num('a number ≥ 0', (n) => n >= 0), 0.04)
    .option('--epsilon <x>', 'clip range of the importance ratio (default 0.2)', num('a number in (0, 1)', (n) => n > 0 && n < 1), 0.2)
    .option('--epsilon_high <x>', 'upper clip range (default: --epsilon)', num('a number > 0', (n) => n > 0))
    .option('--temperature <t>', 'sampling temperature of the rollouts (default 1)', num('a number > 0', (n) => n > 0), 1)
    .option('--top_p <p>', 'nucleus sampling of the rollouts (default 1)', num('a number in (0, 1]', (n) => n > 0 && n <= 1), 1)
    .option('--top_k <k>', 'top-k sampling of the rollouts, 0 = off (default 0)', num('an integer ≥ 0', (n) => Number.isInteger(n) && n >= 0), 0)
    .option('--max_completion_length <n>', 'tokens per completion at most (default 256)', parseThreads, 256)
    .option('--num_iterations <n>', 'optimizer steps per rollout batch, TRL\'s μ (default 1)', parseThreads, 1)
    .addOption(new Option('--loss_type <type>', 'loss reduction: bnpo (TRL default, what MuFun ran), grpo, dr_grpo').choices([...GRPO_LOSS_TYPES]).default('bnpo'))
    .option('--scale_rewards <bool>', 'divide advantages by the group std (default true)', bool, true)
    .option('--log_completions', 'write every rollout (completion, rewards, advantage) to completions.jsonl in the output folder')
    .option('--reward <name:weight>', 'a reward and its weight (repeatable): answer, choice, wer, format, or a .js/.mjs module path (default answer:1)', collect, []);
  addTrainOptions(cmd);
  return cmd.action(async (raw: Record<string, unknown>) => {
    const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
    const opts = parseTrainOptions({ ...GRPO_SH_DEFAULTS, ...given, pretrained_model_path: raw.pretrained_model_path ?? raw.model ?? defaultModelDir() });
    const base = trainerConfigFrom(opts, { tokenizerDir: raw.tokenizer as string | undefined, runtime: { ep: raw.ep as ExecutionProvider, threads: raw.threads as number | undefined } });
    const rewards = await loadRewards(raw.reward as string[]);
    const json = !!raw.json;
    const controller = new AbortController();
    process.once('SIGINT', () => {
      console.error('\nmufun grpo: stopping after this step (the last checkpoint stays; resume with --resume_from_checkpoint last)');
      controller.abort();
    });
    const r = await grpo({
      ...base, numGenerations: raw.num_generations as number, beta: raw.beta as number, epsilon: raw.epsilon as number,
      epsilonHigh: raw.epsilon_high as number | undefined, temperature: raw.temperature as number, topP: raw.top_p as number,
      topK: raw.top_k as number, maxCompletionLength: raw.max_completion_length as number, numIterations: raw.num_iterations as number,
      lossType: raw.loss_type as GrpoLossType, scaleRewards: raw.scale_rewards as boolean, rewards,
      logCompletions: !!raw.log_completions,
    }, (e: GrpoEvent) => {
      if (json) return console.log(JSON.stringify(e));
      if (e.type === 'start') {
        console.error(`mufun grpo: ${e.prompts} prompts (${e.skipped.length} skipped), ${e.promptsPerStep} per step, ${e.totalSteps} steps, ${e.trainable.toLocaleString()} trainable values, rewards ${rewards.map((x) => `${x.name}:${x.weight}`).join(' ')}${e.resumedFrom ? `, resuming at step ${e.resumedFrom}` : ''}`);
        for (const p of e.skipped) console.error(`  skipped ${p.id}: ${p.message}`);
      } else if (e.type === 'reward_failure') {
        console.error(`  reward ${e.failure.reward} failed on sample ${e.failure.id} (generation ${e.failure.generation}): ${e.failure.message}; its group is left out of step ${e.step}`);
      } else if (e.type === 'step') {
        console.error(`step ${e.step}/${e.totalSteps} reward ${e.reward.toFixed(3)} ±${e.rewardStd.toFixed(3)} kl ${e.kl.toFixed(4)} clip ${e.clipRatio.toFixed(3)} len ${e.completionLength.mean.toFixed(1)} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)}`);
      } else if (e.type === 'save') {
        console.error(`  saved ${e.dir}`);
      } else {
        console.error(`mufun grpo: done at step ${e.step}; model in ${e.finalDir} (metrics: ${e.outputDir}/metrics.jsonl)`);
      }
    }, controller.signal);
    if (json) console.log(JSON.stringify({ type: 'result', ...r }));
  });
}
