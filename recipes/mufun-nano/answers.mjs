// What an answer of `mufun eval --json` says beyond the letter it is scored by: the model card
// and grpo.sh both report how often the answer names the right label.

/** The label an answer names, whatever its letter: "brass" in "brass (C)" and in "C. brass" (the text after the last ". "). */
export const namedLabel = (s) => {
  const labelFirst = /^(.*\S) \([A-J]\)$/.exec(s.trim());
  return (labelFirst ? labelFirst[1] : s.includes('. ') ? s.slice(s.lastIndexOf('. ') + 2) : s).trim().toLowerCase();
};

/** Whether an eval result's answer names its reference's label. */
export const namesRightLabel = (r) => namedLabel(r.prediction) === namedLabel(r.reference);
