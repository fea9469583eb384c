// What an answer of `mufun eval --json` says beyond the letter it is scored by: the model card
// and grpo.sh both report how often the answer names the right label.

/**
 * The label an answer names, whatever its letter: "brass" in "brass (C)" and in "C. brass" (the
 * text after the last ". "); an answer through the key ("In D major, so major.") names what follows "so".
 */
export const namedLabel = (s) => {
  const viaKey = /^In [^,]+, so (.+?)\.?$/.exec(s.trim());
  const t = (viaKey ? viaKey[1] : s).trim();
  const labelFirst = /^(.*\S) \([A-J]\)$/.exec(t);
  return (labelFirst ? labelFirst[1] : t.includes('. ') ? t.slice(t.lastIndexOf('. ') + 2) : t).trim().toLowerCase();
};

/** Whether an eval result's answer names its reference's label. */
export const namesRightLabel = (r) => namedLabel(r.prediction) === namedLabel(r.reference);
