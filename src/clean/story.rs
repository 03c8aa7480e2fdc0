//! Which story a document tells, as a small signature: what lets the
//! boilerplate learner tell a site's furniture from a syndicated story.
//!
//! A line that recurs across documents is furniture when the documents
//! are otherwise different (`Share this article` under a thousand
//! stories), and content when they are copies of one story (a wire
//! story's headline and short paragraphs, republished by fifty sites).
//! Counting documents cannot tell the two apart; counting *distinct
//! stories* can. Each document gets a [`StorySignature`]: eight one-
//! permutation MinHash slots over the shingles of its first long lines
//! (word trigrams, or character 4-grams in scripts without spaces). Two
//! documents tell the same story when three slots or more agree: copies
//! of a story share most of their opening shingles (small edits, a new
//! headline or a cut ending change few), two different stories share
//! almost none, and a site's furniture is short lines, which the
//! signature never reads.
//!
//! Only the opening of a document is read: its long lines up to
//! [`SAMPLE_BYTES`], so the signature costs the same for every document,
//! however long.

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::shingle::{Shingling, for_each_shingle_hash, normalize_bytes};

/// Lines shorter than this many bytes are left out: headlines, bylines,
/// menus and share bars are short, the paragraphs of a story long.
pub const LONG_LINE_BYTES: usize = 60;

/// Long lines are read until they come to this many bytes (the last one
/// cut there).
pub const SAMPLE_BYTES: usize = 512;

const SLOTS: usize = 8;
/// Slots that must agree for two documents to tell one story.
const SAME_STORY_SLOTS: usize = 3;
const EMPTY: u16 = u16::MAX;
const SEED: u64 = 0x5EED_5707;

/// Eight MinHash slots of a document's opening paragraphs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StorySignature([u16; SLOTS]);

impl Default for StorySignature {
    fn default() -> Self {
        StorySignature([EMPTY; SLOTS])
    }
}

impl StorySignature {
    /// The signature of `text` (one paragraph a line); `buf` is scratch.
    pub fn of(text: &str, buf: &mut Vec<u8>) -> StorySignature {
        let mut sig = StorySignature::default();
        let mut mins = [u64::MAX; SLOTS];
        for piece in sample(text) {
            normalize_bytes(piece, buf);
            let spaces = buf.iter().filter(|&&b| b == b' ').count();
            // A line of a script without spaces is one normalised "word".
            let shingling = if spaces * 12 >= buf.len() { Shingling::Words(3) } else { Shingling::Chars(4) };
            for_each_shingle_hash(buf, shingling, SEED, |h| {
                // One permutation: the top bits pick the slot.
                let slot = (h >> 61) as usize;
                mins[slot] = mins[slot].min(h & ((1 << 61) - 1));
            });
        }
        for (s, m) in sig.0.iter_mut().zip(mins) {
            if m != u64::MAX {
                // Any 16 bits of a slot's minimum will do; never EMPTY.
                *s = (xxh3_64_with_seed(&m.to_le_bytes(), SEED) as u16).min(EMPTY - 1);
            }
        }
        sig
    }

    /// Whether no long line was read.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&s| s == EMPTY)
    }

    /// Whether two documents tell the same story. A document without long
    /// lines tells none: it is never the same as another.
    pub fn same_story(&self, other: &StorySignature) -> bool {
        self.0.iter().zip(&other.0).filter(|(a, b)| **a != EMPTY && a == b).count() >= SAME_STORY_SLOTS
    }
}

/// What a signature reads of `text`: its long lines, in order, up to
/// [`SAMPLE_BYTES`] in all. The line that fills the sample is cut there (at
/// a character), and nothing after it is read: a story that opens on a
/// paragraph of kilobytes costs no more than one of short paragraphs, and
/// copies of a story are cut at the same byte. A rest of the sample
/// shorter than a long line is left unread: a word or two of the next
/// paragraph, shingled whole, would only add noise.
fn sample(text: &str) -> impl Iterator<Item = &str> {
    let (mut read, mut full) = (0, false);
    super::newline_pieces(text).map(|(_, line)| line.trim()).filter(|line| line.len() >= LONG_LINE_BYTES).map_while(
        move |line| {
            let room = SAMPLE_BYTES - read;
            if full || room < LONG_LINE_BYTES {
                return None;
            }
            let end = super::floor_boundary(line, room);
            read += end;
            full = end < line.len();
            Some(&line[..end])
        },
    )
}

/// The distinct stories a line was seen in, up to [`StoryKeys::MAX`]: one
/// signature a story, the first met.
#[derive(Debug, Clone, Default)]
pub struct StoryKeys {
    stories: Vec<StorySignature>,
}

impl StoryKeys {
    /// Enough to tell furniture: the rules refuse a higher `min_stories`.
    pub const MAX: usize = 4;

    /// Counts one more document's story.
    pub fn add(&mut self, story: StorySignature) {
        if self.stories.len() < Self::MAX && !self.stories.iter().any(|s| s.same_story(&story)) {
            self.stories.push(story);
        }
    }

    /// Distinct stories, up to [`StoryKeys::MAX`].
    pub fn count(&self) -> usize {
        self.stories.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORY: &str = "Dock workers stayed off the job on Monday as the strike at the port entered its third day, the union said.\n\
        Ships waited offshore while talks between the union and the owners stalled over pay, night shifts and pensions.\n\
        The owners said they had made a fair offer and urged the workers to return while negotiations went on.";

    fn sig(text: &str) -> StorySignature {
        StorySignature::of(text, &mut Vec::new())
    }

    #[test]
    fn copies_of_a_story_are_one_story_and_other_stories_are_not() {
        let copy = format!(
            "Harbour Ledger | Home\nPort strike: day three\n{}\nShare this article",
            STORY.replace("Monday", "Monday morning").replace("fair offer", "generous offer")
        );
        assert!(sig(STORY).same_story(&sig(&copy)));
        let other = "The city council voted on Tuesday to extend the tram line to the airport by the end of the decade.\n\
            Opponents said the cost had doubled since the plan was first drawn up and called for a public inquiry.";
        assert!(!sig(STORY).same_story(&sig(other)));
        // Short lines tell no story.
        assert!(sig("Home\nShare this article\nFollow us").is_empty());
        assert!(!sig("Home").same_story(&sig("Home")));
    }

    #[test]
    fn a_story_without_spaces_has_a_signature() {
        let zh = "部长周一表示，谈判将在假期结束后恢复，双方的立场仍然存在分歧，但是他们都希望尽快达成协议。\n\
                  工会说，罢工已经进入第三天，港口外有几十艘船在等待卸货，损失每天都在增加。";
        let copy = format!("首页 | 新闻\n{}", zh.replace("几十艘", "数十艘"));
        assert!(!sig(zh).is_empty());
        assert!(sig(zh).same_story(&sig(&copy)));
    }

    #[test]
    fn the_sample_ends_in_the_line_that_fills_it() {
        // A Chinese opening of 990 bytes: cut at the last character
        // before 512 bytes, and nothing after it is read.
        let zh = "部长周一表示，谈判将在假期结束后恢复，双方的立场仍然存在分歧。".repeat(11);
        let text = format!("首页\n{zh}\nThe ministry said on Monday that the talks would resume after the holiday.");
        let pieces: Vec<&str> = sample(&text).collect();
        assert_eq!(pieces, [&zh[..510]]);
        // Short paragraphs: read whole while they fit, the one that
        // crosses 512 bytes cut there, a rest under a long line not read.
        let para = |i: usize| {
            format!("Paragraph {i} of the story tells what the union said about the strike at the port today.")
        };
        let text: String = (0..10).map(|i| para(i) + "\n").collect();
        let pieces: Vec<&str> = sample(&text).collect();
        assert_eq!(pieces.len(), 6);
        assert!(pieces[..5].iter().zip(0..).all(|(p, i)| *p == para(i)));
        assert_eq!(pieces.iter().map(|p| p.len()).sum::<usize>(), SAMPLE_BYTES);
        let text: String =
            (0..10).map(|i| para(i) + "\n").collect::<String>().replace("today", "today and tomorrow too");
        let read: usize = sample(&text).map(str::len).sum();
        assert!(read <= SAMPLE_BYTES && read > SAMPLE_BYTES - LONG_LINE_BYTES, "{read}");
    }

    #[test]
    fn story_keys_count_distinct_stories() {
        let mut keys = StoryKeys::default();
        keys.add(sig(STORY));
        keys.add(sig(STORY));
        assert_eq!(keys.count(), 1);
        keys.add(StorySignature::default());
        keys.add(StorySignature::default());
        assert_eq!(keys.count(), 3);
    }
}
