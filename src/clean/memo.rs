//! A worker's memory of the whole-line verdicts it reached on lines it met
//! before, and of what the classifier counted in them.
//!
//! News dumps repeat short lines: the furniture a site prints on every
//! page, and the headlines and short paragraphs every copy of a syndicated
//! story shares. On the synthetic 88 MB benchmark corpus half of the lines
//! short enough for the whole-line rules are repeats, and those rules (a
//! keyword scan and a few regexes a line) were the largest part of
//! cleaning. A [`LineMemo`] keeps each short line's verdict, so a repeat
//! costs a hash, a probe and a comparison. It keeps too what the line
//! classifier counts in a line (words, stopwords, character classes),
//! which was the classifier's largest cost.
//!
//! The verdict depends on the line and the rules alone, the counts on the
//! line and its page's language alone, and the memo
//! compares a line's bytes, not only its hash, so a cleaner gives the same
//! output with or without a memo, whatever the memo held before: the
//! thread count and the order documents reach a thread cannot change a
//! result.

use rustc_hash::FxHashMap as HashMap;
use xxhash_rust::xxh3::xxh3_64;

use super::features::LineStats;
use super::lang::Stopwords;

/// A whole-line verdict: the index of the first rule that covers the line
/// in the compiled rules' order, or `None`, and whether the line may hold a
/// glued credit's words (see [`LineScan`]).
pub(crate) type Verdict = super::rules::LineScan;

// The memo starts afresh when it holds this many lines or bytes of them:
// about 3 MiB a thread in all, map included. Four times as much saved only
// a further 1% of the cleaning pass's instructions on the 88 MB corpus, for
// 17 MB more peak memory with two workers.

/// Lines held at most.
const MAX_LINES: usize = 1 << 14;
/// Bytes of held lines at most.
const MAX_BYTES: usize = 2 << 20;
/// Longer lines are decided each time, never held: the built-in rules look
/// at lines of at most 500 bytes, but a rules file may raise that, and one
/// huge line must not empty the memo or outgrow it.
const MAX_LINE_BYTES: usize = MAX_BYTES / 64;

/// Whole-line verdicts already reached, keyed by the line's text.
///
/// One per worker thread:
/// [`Cleaner::clean_with_memo`](super::Cleaner::clean_with_memo) takes it
/// by `&mut`, and it is not shared. It holds the verdicts of one set of
/// compiled rules at a time: a cleaner's clones and
/// [`Cleaner::with_table`](super::Cleaner::with_table) share them, while
/// rules from another [`Cleaner::new`](super::Cleaner::new) empty it (the
/// results stay right; a memo passed between two such cleaners in turn
/// only gains nothing).
///
/// ```
/// use doppel::clean::{Cleaner, LineMemo, Rules};
/// let cleaner = Cleaner::new(&Rules::default(), Default::default())?;
/// let mut memo = LineMemo::default();
/// let text = "Port strike enters third day\n\nShare this article\n\nDock workers stayed off the job.";
/// let first = cleaner.clean_with_memo(text, None, &mut memo);
/// // The second time, every line's verdict comes from the memo: the same.
/// assert_eq!(cleaner.clean_with_memo(text, None, &mut memo), first);
/// assert_eq!(first, cleaner.clean(text, None));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Default)]
pub struct LineMemo {
    /// The rules the verdicts are for (see `Cleaner::rules_id`); 0 for none yet.
    rules_id: u64,
    /// By the line's hash: where its bytes are in `bytes`, and its verdict.
    slots: HashMap<u64, Held<Verdict>>,
    /// By the line's hash and its page's language: where its bytes are in
    /// `bytes`, and what the classifier counts in it.
    stats: HashMap<(u64, &'static str), Held<LineStats>>,
    bytes: Vec<u8>,
}

/// Longer lines' counts are made each time. A syndicated story's
/// paragraphs repeat as its short lines do: holding lines up to 4 KiB, not
/// only a site's short furniture (256 bytes), saved a little more on the
/// 100 MB corpus (13.64G against 13.71G instructions), and no one line can
/// take much of the memo's room.
const MAX_STATS_LINE_BYTES: usize = 4096;

/// What is held, not the held lines themselves (up to 2 MiB of them).
impl std::fmt::Debug for LineMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineMemo")
            .field("verdicts", &self.slots.len())
            .field("counts", &self.stats.len())
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// A value held for a line: where the line's bytes are in `bytes`.
#[derive(Debug, Clone, Copy)]
struct Held<T> {
    at: u32,
    len: u32,
    value: T,
}

impl LineMemo {
    /// The verdict on `line` for the rules `rules_id` names: the one held,
    /// or `decide()`'s, which is then held.
    pub(crate) fn verdict(&mut self, rules_id: u64, line: &str, decide: impl FnOnce() -> Verdict) -> Verdict {
        if line.len() > MAX_LINE_BYTES {
            return decide();
        }
        if self.rules_id != rules_id {
            self.clear();
            self.rules_id = rules_id;
        }
        self.held(|memo| &mut memo.slots, xxh3_64(line.as_bytes()), line, decide)
    }

    /// What the classifier counts in `line` on a page of the language of
    /// `stops` ([`LineStats::of`], which depends on nothing else): the
    /// counts held, or `count()`'s, which are then held. Repeated lines
    /// are most of a news dump's short lines, and counting a line's words
    /// and characters was the classifier's largest cost.
    pub(crate) fn stats(
        &mut self,
        line: &str,
        stops: &'static Stopwords,
        count: impl FnOnce() -> LineStats,
    ) -> LineStats {
        if line.len() > MAX_STATS_LINE_BYTES {
            return count();
        }
        self.held(|memo| &mut memo.stats, (xxh3_64(line.as_bytes()), stops.code), line, count)
    }

    /// The value held in the map `map` picks for `line` under `key`, or
    /// `make()`'s, which is then held.
    fn held<K: std::hash::Hash + Eq, T: Copy>(
        &mut self,
        map: fn(&mut LineMemo) -> &mut HashMap<K, Held<T>>,
        key: K,
        line: &str,
        make: impl FnOnce() -> T,
    ) -> T {
        if let Some(&slot) = map(self).get(&key) {
            let held = &self.bytes[slot.at as usize..][..slot.len as usize];
            // Another line with the same hash keeps its slot; this one is
            // decided afresh each time.
            return if held == line.as_bytes() { slot.value } else { make() };
        }
        let value = make();
        self.make_room(line.len());
        let slot = Held { at: self.bytes.len() as u32, len: line.len() as u32, value };
        self.bytes.extend_from_slice(line.as_bytes());
        map(self).insert(key, slot);
        value
    }

    /// Entries held: a line's verdict and its counts are two.
    pub fn len(&self) -> usize {
        self.slots.len() + self.stats.len()
    }

    /// True when no line is held.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty() && self.stats.is_empty()
    }

    /// Starts afresh when holding a line of `len` more bytes would pass
    /// either bound: the store stays under MAX_BYTES (2 MiB), so its
    /// offsets fit in u32.
    fn make_room(&mut self, len: usize) {
        if self.slots.len() + self.stats.len() >= MAX_LINES || self.bytes.len() + len > MAX_BYTES {
            self.clear();
        }
    }

    fn clear(&mut self) {
        self.slots.clear();
        self.stats.clear();
        self.bytes.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A verdict naming rule `rule`.
    fn v(rule: Option<usize>) -> Verdict {
        Verdict { rule, credit_words: rule.is_some() }
    }

    #[test]
    fn a_held_verdict_is_given_back_and_other_rules_start_afresh() {
        let mut memo = LineMemo::default();
        assert_eq!(memo.verdict(1, "Share this", || v(Some(2))), v(Some(2)));
        assert_eq!(memo.verdict(1, "Share this", || panic!("held")), v(Some(2)));
        assert_eq!(memo.verdict(1, "Share that", || v(None)), v(None));
        assert_eq!(memo.len(), 2);
        // Another cleaner's rules: nothing held is theirs.
        assert_eq!(memo.verdict(2, "Share this", || v(Some(5))), v(Some(5)));
        assert_eq!(memo.len(), 1);
    }

    #[test]
    fn a_line_whose_hash_is_held_for_another_is_decided_afresh() {
        let mut memo = LineMemo::default();
        memo.verdict(1, "b", || v(Some(3)));
        // Plant `b`'s slot under `a`'s hash: a collision.
        let slot = memo.slots[&xxh3_64(b"b")];
        memo.slots.insert(xxh3_64(b"a"), slot);
        assert_eq!(memo.verdict(1, "a", || v(None)), v(None));
        assert_eq!(memo.verdict(1, "b", || panic!("held")), v(Some(3)));
    }

    #[test]
    fn long_lines_are_decided_each_time_and_keep_the_memo() {
        let mut memo = LineMemo::default();
        memo.verdict(1, "Share this", || v(Some(2)));
        let long = "x".repeat(MAX_LINE_BYTES + 1);
        assert_eq!(memo.verdict(1, &long, || v(Some(4))), v(Some(4)));
        assert_eq!(memo.verdict(1, &long, || v(None)), v(None));
        assert_eq!(memo.len(), 1);
    }

    #[test]
    fn a_full_memo_starts_afresh() {
        let mut memo = LineMemo::default();
        for i in 0..MAX_LINES + 10 {
            memo.verdict(1, &format!("line {i}"), || v(None));
        }
        assert_eq!(memo.len(), 10);
        // The verdicts held after starting afresh are still right.
        let last = format!("line {}", MAX_LINES + 9);
        assert_eq!(memo.verdict(1, &last, || panic!("held")), v(None));
    }
}
