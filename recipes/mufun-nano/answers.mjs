// What an answer of `mufun eval --json` says beyond the letter it is scored by: the model card
// and grpo.sh both report how often the answer names the right label. The answer shapes are read
// by the generator's own reader (the recipe builds dist first), so the card and the data agree.
import { answerParts } from '../../dist/src/synth/questions.js';

/** The label an answer names, whatever its letter: "brass" in "brass (C)", "C. brass" and "brass"; "major" in "In D major, so major.". */
export const namedLabel = (s) => answerParts(s).label.toLowerCase();

/** Whether an eval result's answer names its reference's label. */
export const namesRightLabel = (r) => namedLabel(r.prediction) === namedLabel(r.reference);
