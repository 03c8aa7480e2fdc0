//! The cleaned text and its cuts: line decisions turned into cuts with
//! character and byte offsets, the cleaned text built without them, and the
//! original put back together from the cleaned text and its cuts.

use super::{CLASSIFIER, ClassifierScore, LineDecision, Seen};

/// Why a line was cut, beyond its rule's name: written into the cut's
/// `removed.jsonl` entry, its fields beside the rule's.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Why {
    /// The classifier's score and the features that decided it.
    Scored(ClassifierScore),
    /// A learned line or template, and where it was met.
    Learned(Seen),
}

/// One cut: a span of the original text and the rule that removed it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Cut {
    /// Start, in characters (Unicode scalar values) of the original text.
    pub start: usize,
    /// End (exclusive), in characters.
    pub end: usize,
    /// The rule.
    pub rule: String,
    /// The text removed.
    pub text: String,
    /// For a cut of the classifier, its score and the features that
    /// decided it; for a learned line or template, where it was met.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub why: Option<Why>,
    /// Start, in bytes of the original text: where `doppel run` cuts when
    /// it rebuilds the cleaned text from the original record.
    #[serde(skip)]
    pub byte_start: usize,
    /// End (exclusive), in bytes.
    #[serde(skip)]
    pub byte_end: usize,
}

/// A cleaned text and its cuts, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cleaned {
    /// The text without the cuts.
    pub text: String,
    /// The cuts, ordered and not overlapping.
    pub cuts: Vec<Cut>,
}

/// A [`Cut`] whose rule name is borrowed and whose text is left where it
/// is (`byte_start..byte_end` of the original).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CutSpan<'r> {
    /// Start, in characters of the original text.
    pub start: usize,
    /// End (exclusive), in characters.
    pub end: usize,
    /// The rule.
    pub rule: &'r str,
    /// Start, in bytes.
    pub byte_start: usize,
    /// End (exclusive), in bytes.
    pub byte_end: usize,
    /// For a cut of the classifier or of a learned line: why.
    pub why: Option<Why>,
}

/// Turns line decisions into cuts, and into the cleaned text if
/// `with_text`.
pub(super) fn build(text: &str, lines: &[LineDecision<'_>], with_text: bool) -> Cleaned {
    let (cleaned, cuts) = cut_spans(text, lines, with_text);
    let cuts = cuts
        .into_iter()
        .map(|c| Cut {
            start: c.start,
            end: c.end,
            rule: c.rule.to_string(),
            text: text[c.byte_start..c.byte_end].to_string(),
            why: c.why,
            byte_start: c.byte_start,
            byte_end: c.byte_end,
        })
        .collect();
    Cleaned { text: cleaned, cuts }
}

/// [`build`] with the cuts as spans.
pub(super) fn cut_spans<'r>(text: &str, lines: &[LineDecision<'r>], with_text: bool) -> (String, Vec<CutSpan<'r>>) {
    let mut parts: Vec<(usize, usize, &'r str, Option<Why>)> = Vec::with_capacity(lines.len());
    // Cuts are told in characters; in an ASCII text those are its bytes,
    // not counted again up to every cut.
    let ascii = text.is_ascii();
    let chars_in = |span: &str| if ascii { span.len() } else { span.chars().count() };
    let last_kept = lines.iter().rposition(|l| l.removed_by.is_none());
    for (i, l) in lines.iter().enumerate() {
        match l.removed_by {
            Some(rule) => {
                let span = match last_kept {
                    // A kept line follows: take this line and the break after it.
                    Some(k) if k > i => (l.start, lines[i + 1].start),
                    // Trailing junk: take the break before it instead, so the
                    // text ends where its last kept line ends.
                    _ => {
                        let from = if i > 0 { lines[i - 1].end } else { l.start };
                        (from, l.end)
                    }
                };
                parts.push((span.0, span.1, rule, l.why));
            }
            // A kept line's `why` is that of its classifier cut, if any.
            None => parts.extend(l.cuts.iter().map(|&(s, e, rule)| (s, e, rule, l.why.filter(|_| rule == CLASSIFIER)))),
        }
    }
    parts.sort_by_key(|s| s.0);
    let mut cleaned = String::with_capacity(if with_text { text.len() } else { 0 });
    let mut cuts = Vec::with_capacity(parts.len());
    let (mut pos, mut chars_at_pos) = (0usize, 0usize);
    for (s, e, rule, why) in parts {
        let s = s.max(pos);
        if e <= s {
            continue;
        }
        if with_text {
            cleaned.push_str(&text[pos..s]);
        }
        let start = chars_at_pos + chars_in(&text[pos..s]);
        let end = start + chars_in(&text[s..e]);
        cuts.push(CutSpan { start, end, rule, byte_start: s, byte_end: e, why });
        pos = e;
        chars_at_pos = end;
    }
    if with_text {
        cleaned.push_str(&text[pos..]);
    }
    (cleaned, cuts)
}

/// Puts the cuts back into a cleaned text: the original text.
pub fn restore(cleaned: &str, cuts: &[Cut]) -> String {
    let mut out = String::with_capacity(cleaned.len() + cuts.iter().map(|c| c.text.len()).sum::<usize>());
    let mut chars = cleaned.chars();
    let mut pos = 0usize;
    for c in cuts {
        out.extend(chars.by_ref().take(c.start - pos));
        out.push_str(&c.text);
        pos = c.end;
    }
    out.extend(chars);
    out
}
