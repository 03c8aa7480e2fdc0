//! Shallow text features of a page's lines, for the line classifier
//! ([`super::model`]).
//!
//! The method is Kohlschütter et al.'s "Boilerplate detection using shallow
//! text features" (2010) and jusText's: a line's length, its share of
//! stopwords, its punctuation, capitals, digits and separators, where it
//! stands on the page, and above all the run of prose around it. Prose is
//! long and full of function words; menus, credits, share bars and related
//! headlines are short, capitalised and come in runs. Context decides the
//! hard cases: a short line between two paragraphs is a subheading, the
//! same line in a run of short lines after the last paragraph is a link.
//!
//! [`LineStats`] counts one line in one pass over its characters;
//! [`page_features`] turns a page's stats into one feature row per line.
//! Every feature is a number of order one (shares, flags and logarithms of
//! counts), so that the model's standardisation has little to do. None
//! measures the page's size: a model trained on whole web pages would
//! read a three-paragraph story, far smaller than any page it saw, as
//! something it never learned, and guess.

use std::sync::LazyLock;

use super::is_ascii_space;
use super::lang::{Stopwords, is_unspaced};

/// What one pass over a line counts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LineStats {
    /// Characters that are not white space.
    pub chars: u32,
    /// Whitespace-separated words with a letter or digit.
    pub spaced_words: u32,
    /// Characters of scripts without spaces (Han, kana, Thai).
    pub unspaced_chars: u32,
    /// Stopword tokens: spaced words and unspaced characters.
    pub stopwords: u32,
    /// Spaced words that start with a capital letter.
    pub capitalised: u32,
    /// Letters, upper-case letters, digits, punctuation marks.
    pub letters: u32,
    /// Upper-case letters.
    pub upper: u32,
    /// Decimal digits.
    pub digits: u32,
    /// Punctuation and symbols.
    pub punct: u32,
    /// Commas (Latin and CJK).
    pub commas: u32,
    /// Sentence ends inside the line (a stop followed by a space).
    pub inner_stops: u32,
    /// Separators of navigation and credits: `|`, `•`, `·`, `»`, `›`, `>`,
    /// `<`, `«`, `‹`, `~`, `/`.
    pub separators: u32,
    /// `#` and `@`: hashtags, handles, e-mail.
    pub tags: u32,
    /// The line ends like a sentence: `.`, `!`, `?`, `。`, `！`, `？`, `…`,
    /// perhaps followed by closing quotes or brackets.
    pub sentence_end: bool,
    /// The line ends in a colon.
    pub colon_end: bool,
    /// The line holds an address (`http`, `www.`, `.com`...) or `©`.
    pub link_or_copyright: bool,
    /// The line starts with a bullet, a digit or a symbol.
    pub marked_start: bool,
    /// The line is short and names readers' comments (`12 Comments`,
    /// `Leave a Reply`, `Kommentare`, `评论`): the head of a comment thread
    /// when it comes after the story's first paragraph.
    pub comment_marker: bool,
    /// Other lines of the page with the same text: a signature under every
    /// comment, a headline in two link boxes. Set by [`count_copies`].
    pub copies_on_page: u32,
}

/// Whether a line holds an address (`http:`, `https:`, `www.`, `.com`) or
/// a copyright mark (`©`, `(c)`): each is found from the byte that marks
/// it, by vector search for those bytes (`©` is `C2 A9` in UTF-8: its
/// first byte is searched for).
fn link_or_copyright(line: &[u8]) -> bool {
    let at = |i: usize, s: &[u8]| line.get(i..).is_some_and(|t| t.starts_with(s));
    let before = |i: usize, s: &[u8]| i >= s.len() && &line[i - s.len()..i] == s;
    memchr::memchr3_iter(b'.', b':', b'(', line).any(|i| match line[i] {
        b'.' => at(i + 1, b"com") || before(i, b"www"),
        b':' => before(i, b"http") || before(i, b"https"),
        _ => at(i + 1, b"c)"),
    }) || memchr::memchr_iter(0xC2, line).any(|i| line.get(i + 1) == Some(&0xA9))
}

/// Sets each line's [`LineStats::copies_on_page`]: `stats` and `lines`
/// are a page's, in order.
pub fn count_copies(lines: &[&str], stats: &mut [LineStats]) {
    let mut keys: Vec<(u64, usize)> =
        lines.iter().enumerate().map(|(i, l)| (xxhash_rust::xxh3::xxh3_64(l.trim().as_bytes()), i)).collect();
    keys.sort_unstable();
    for run in keys.chunk_by(|a, b| a.0 == b.0) {
        for &(_, i) in run {
            stats[i].copies_on_page = run.len() as u32 - 1;
        }
    }
}

/// Lines longer than this many bytes are never a comment thread's head.
const COMMENT_MARKER_BYTES: usize = 48;
/// Nor are lines of more words than this.
const COMMENT_MARKER_WORDS: usize = 6;

/// Words that head a thread of readers' comments, lower case, in the
/// languages of a news corpus: stems, so that one covers its forms
/// (`comment` is also French and the stem of Italian `commenti`).
const COMMENT_WORDS: &[&str] = &[
    "comment",
    "coment",
    "kommentar",
    "reactie",
    "reply",
    "replies",
    "responses",
    "discussion",
    "коммент",
    "评论",
    "評論",
    "留言",
    "コメント",
    "تعليق",
];

/// Whether `line` is short (a few words) and names readers' comments.
fn is_comment_marker(line: &str) -> bool {
    static WORDS: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    let line = line.trim();
    if line.is_empty() || line.len() > COMMENT_MARKER_BYTES || line.split_whitespace().count() > COMMENT_MARKER_WORDS {
        return false;
    }
    let words = WORDS.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(COMMENT_WORDS)
            .expect("a handful of short literals")
    });
    // Cyrillic capitals are not ASCII: such a line is lower-cased first.
    match line.is_ascii() {
        true => words.is_match(line),
        false => words.is_match(&line.to_lowercase()),
    }
}

/// Bytes of a line whose words are counted (see [`LineStats::of`]).
pub const SAMPLE_BYTES: usize = 128;

impl LineStats {
    /// Counts `line` against a language's `stops`; `lower` is scratch.
    ///
    /// A line longer than [`SAMPLE_BYTES`] is counted on its words in the
    /// first [`SAMPLE_BYTES`], and the counts scaled up to its length: a
    /// paragraph that long is prose or a wall of links either way, its
    /// shares are read well enough from its start, and counting every byte
    /// of every paragraph was most of the classifier's cost. Its ends
    /// (sentence end, colon) and its links are read whole.
    pub fn of(line: &str, stops: &Stopwords, lower: &mut String) -> LineStats {
        let mut s = LineStats::default();
        let sample = match line.len() > SAMPLE_BYTES {
            // Up to the last space of the sample, so no word is cut.
            true => {
                let end = super::floor_boundary(line, SAMPLE_BYTES);
                line[..end].rfind(char::is_whitespace).map_or(&line[..end], |at| &line[..at])
            }
            false => line,
        };
        match sample.is_ascii() {
            true => s.count_ascii(sample, stops, lower),
            false => {
                for word in sample.split_whitespace() {
                    match word.is_ascii() {
                        true => s.count_ascii(word, stops, lower),
                        false => s.count_word(word, stops, lower),
                    }
                }
            }
        }
        if sample.len() < line.len() {
            s.scale(line.len() as f32 / sample.len().max(1) as f32);
        }
        let trimmed = line.trim_end().trim_end_matches(['"', '\'', '”', '’', ')', ']', '»', '」', '』', '）']);
        let last = trimmed.chars().next_back();
        s.sentence_end = matches!(last, Some('.' | '!' | '?' | '。' | '！' | '？' | '…'));
        s.colon_end = matches!(last, Some(':' | '：'));
        s.marked_start = line
            .trim_start()
            .chars()
            .next()
            .is_some_and(|c| !c.is_alphabetic() && !matches!(c, '"' | '\'' | '“' | '‘' | '(' | '«' | '「'));
        s.link_or_copyright = link_or_copyright(line.as_bytes());
        s.comment_marker = is_comment_marker(line);
        s
    }

    /// Multiplies every count by `factor`.
    fn scale(&mut self, factor: f32) {
        for n in [
            &mut self.chars,
            &mut self.spaced_words,
            &mut self.unspaced_chars,
            &mut self.stopwords,
            &mut self.capitalised,
            &mut self.letters,
            &mut self.upper,
            &mut self.digits,
            &mut self.punct,
            &mut self.commas,
            &mut self.inner_stops,
            &mut self.separators,
            &mut self.tags,
        ] {
            *n = (*n as f32 * factor).round() as u32;
        }
    }

    /// [`LineStats::count_word`] for every word of an ASCII text, with the
    /// same counts at a fraction of the cost: the classes of characters are
    /// counted over the whole text in one pass that vectorises, and only
    /// what needs a word (its core, its capital, whether it is a stopword)
    /// is asked word by word, on bytes. Most lines of most pages take this
    /// path; a proptest holds it to the general one.
    fn count_ascii(&mut self, text: &str, stops: &Stopwords, lower: &mut String) {
        let bytes = text.as_bytes();
        let (mut small, mut upper, mut digits, mut spaces) = (0u32, 0u32, 0u32, 0u32);
        let (mut commas, mut separators, mut tags) = (0u32, 0u32, 0u32);
        // Counted in bytes, a chunk of at most 255 at a time, then added up:
        // byte counters fill a vector register four times as full as u32
        // ones, and a line's sample is at most `SAMPLE_BYTES` anyway.
        for chunk in bytes.chunks(u8::MAX as usize) {
            let (mut s, mut u, mut d, mut sp, mut c, mut sep, mut t) = (0u8, 0u8, 0u8, 0u8, 0u8, 0u8, 0u8);
            for &b in chunk {
                s += u8::from(b.is_ascii_lowercase());
                u += u8::from(b.is_ascii_uppercase());
                d += u8::from(b.is_ascii_digit());
                sp += u8::from(is_ascii_space(b));
                c += u8::from(b == b',');
                sep += u8::from(matches!(b, b'|' | b'>' | b'<' | b'~' | b'/'));
                t += u8::from(matches!(b, b'#' | b'@'));
            }
            small += u32::from(s);
            upper += u32::from(u);
            digits += u32::from(d);
            spaces += u32::from(sp);
            commas += u32::from(c);
            separators += u32::from(sep);
            tags += u32::from(t);
        }
        let chars = bytes.len() as u32 - spaces;
        self.chars += chars;
        self.letters += small + upper;
        self.upper += upper;
        self.digits += digits;
        self.punct += chars - small - upper - digits;
        self.commas += commas;
        self.separators += separators;
        self.tags += tags;
        let mut at = 0;
        while at < bytes.len() {
            let start = at + bytes[at..].iter().take_while(|&&b| is_ascii_space(b)).count();
            at = start + bytes[start..].iter().take_while(|&&b| !is_ascii_space(b)).count();
            let word = &bytes[start..at];
            // A word that ends in a stop ends a sentence (the line's last
            // word too: `sentence_end` tells that one apart).
            if word.last().is_some_and(|b| matches!(b, b'.' | b'!' | b'?')) {
                self.inner_stops += 1;
            }
            let Some(first) = word.iter().position(u8::is_ascii_alphanumeric) else { continue };
            let last = word.iter().rposition(u8::is_ascii_alphanumeric).unwrap_or(first);
            let core = &text[start + first..=start + last];
            self.spaced_words += 1;
            self.capitalised += u32::from(word[first].is_ascii_uppercase());
            let is_stop = match core.bytes().any(|b| b.is_ascii_uppercase()) {
                true => {
                    lower.clear();
                    lower.push_str(core);
                    lower.make_ascii_lowercase();
                    stops.is_word(lower)
                }
                false => stops.is_word(core),
            };
            self.stopwords += u32::from(is_stop);
        }
    }

    fn count_word(&mut self, word: &str, stops: &Stopwords, lower: &mut String) {
        let mut alnum = false;
        let mut has_upper = false;
        let mut prev_stop = false;
        for c in word.chars() {
            self.chars += 1;
            if c.is_alphabetic() {
                self.letters += 1;
                alnum = true;
                if c.is_uppercase() {
                    self.upper += 1;
                    has_upper = true;
                }
                if is_unspaced(c) {
                    self.unspaced_chars += 1;
                    self.stopwords += u32::from(stops.is_char(c));
                }
            } else if c.is_ascii_digit() {
                self.digits += 1;
                alnum = true;
            } else if !c.is_alphanumeric() {
                self.punct += 1;
                match c {
                    ',' | '，' | '、' | '،' => self.commas += 1,
                    '|' | '•' | '·' | '»' | '›' | '>' | '<' | '«' | '‹' | '~' | '/' | '¦' => {
                        self.separators += 1
                    }
                    '#' | '@' => self.tags += 1,
                    '。' | '！' | '？' => self.inner_stops += 1,
                    _ => {}
                }
                prev_stop = matches!(c, '.' | '!' | '?');
                continue;
            }
            prev_stop = false;
        }
        // A word that ends in a stop ends a sentence (the line's last word
        // too: `sentence_end` tells that one apart).
        if prev_stop {
            self.inner_stops += 1;
        }
        if !alnum {
            return;
        }
        let core = word.trim_matches(|c: char| !c.is_alphanumeric());
        // A word of a script without spaces is counted by its characters.
        if core.chars().next().is_some_and(is_unspaced) {
            return;
        }
        self.spaced_words += 1;
        if core.chars().next().is_some_and(char::is_uppercase) {
            self.capitalised += 1;
        }
        let is_stop = if has_upper {
            lower.clear();
            lower.extend(core.chars().flat_map(char::to_lowercase));
            stops.is_word(lower)
        } else {
            stops.is_word(core)
        };
        self.stopwords += u32::from(is_stop);
    }

    /// Words, counting two unspaced characters as a word (the mean length
    /// of a Chinese word).
    pub fn words(&self) -> f32 {
        self.spaced_words as f32 + self.unspaced_chars as f32 / 2.0
    }

    /// Stopwords over tokens.
    pub fn stop_share(&self) -> f32 {
        let tokens = self.spaced_words + self.unspaced_chars;
        if tokens == 0 { 0.0 } else { self.stopwords as f32 / tokens as f32 }
    }

    /// A line of prose, as jusText would call it: long enough, and with
    /// the function words of a sentence. A language without a stopword
    /// list falls back on length and a sentence end.
    ///
    /// Chinese has fewer one-character function words than Japanese has
    /// particles or a spaced language has short words: a line mostly
    /// without spaces needs a lower share, or a sentence end.
    pub fn is_prose(&self, has_stopwords: bool) -> bool {
        let words = self.words();
        let unspaced = self.unspaced_chars as f32 > self.spaced_words as f32;
        match (has_stopwords, unspaced) {
            (true, false) => words >= 8.0 && self.stop_share() >= 0.2,
            (true, true) => words >= 8.0 && (self.stop_share() >= 0.05 || self.sentence_end),
            (false, _) => words >= 20.0 || (words >= 8.0 && self.sentence_end),
        }
    }
}

/// Names of the features of a row of [`page_features`], in order: what
/// explanations print.
pub const FEATURE_NAMES: &[&str] = &[
    "log_chars",
    "log_words",
    "stopword_share",
    "log_stopwords",
    "sentence_end",
    "colon_end",
    "log_inner_stops",
    "capitalised_share",
    "upper_share",
    "digit_share",
    "letter_share",
    "punct_share",
    "comma_rate",
    "log_separators",
    "log_hash_at",
    "link_or_copyright",
    "marked_start",
    "chars_per_word",
    "unspaced_share",
    "relative_position",
    "log_lines_before",
    "log_lines_after",
    "prev2_log_chars",
    "prev2_stopword_share",
    "prev2_sentence_end",
    "prev2_prose",
    "prev_log_chars",
    "prev_stopword_share",
    "prev_sentence_end",
    "prev_prose",
    "next_log_chars",
    "next_stopword_share",
    "next_sentence_end",
    "next_prose",
    "next2_log_chars",
    "next2_stopword_share",
    "next2_sentence_end",
    "next2_prose",
    "log_lines_to_prose_before",
    "log_lines_to_prose_after",
    "before_first_prose",
    "after_last_prose",
    "prose_share_before",
    "prose_share_of_page",
    "log_prose_chars_near",
    "prose",
    "share_of_longest_line",
    "log_short_run",
    "prose_language",
    "after_comment_marker",
    "log_lines_after_comment_marker",
    "log_copies_on_page",
];

/// Features of each line of a page: `FEATURE_NAMES.len()` numbers a line,
/// row after row, appended to `out`.
pub fn page_features(stats: &[LineStats], has_stopwords: bool, out: &mut Vec<f32>) {
    let n = stats.len();
    if n == 0 {
        return;
    }
    let prose: Vec<bool> = stats.iter().map(|s| s.is_prose(has_stopwords)).collect();
    // Each line's own, read again as a neighbour's by four other lines.
    let ln_chars: Vec<f32> = stats.iter().map(|s| ln_count(s.chars as usize)).collect();
    let prose_chars: Vec<f32> = stats.iter().zip(&prose).map(|(s, &p)| if p { s.chars as f32 } else { 0.0 }).collect();
    let total_prose: f32 = prose_chars.iter().sum();
    let total_chars: f32 = stats.iter().map(|s| s.chars as f32).sum();
    let longest = stats.iter().map(|s| s.chars).max().unwrap_or(1).max(1) as f32;
    let first_prose = prose.iter().position(|&p| p);
    let last_prose = prose.iter().rposition(|&p| p);
    // A comment thread's head after the story has begun: a count of
    // comments above the headline is a link, not the thread.
    let comment_marker = first_prose.and_then(|p| (p + 1..n).find(|&i| stats[i].comment_marker));
    // Lines to the nearest prose line before and after each line.
    let mut to_prev = vec![None; n];
    let mut to_next = vec![None; n];
    let mut last = None;
    for i in 0..n {
        if let Some(j) = last {
            to_prev[i] = Some(i - j);
        }
        if prose[i] {
            last = Some(i);
        }
    }
    last = None;
    for i in (0..n).rev() {
        if let Some(j) = last {
            to_next[i] = Some(j - i);
        }
        if prose[i] {
            last = Some(i);
        }
    }
    // The run of consecutive lines that are not prose each line belongs to.
    let mut short_run = vec![0u32; n];
    let mut i = 0;
    while i < n {
        if prose[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < n && !prose[i] {
            i += 1;
        }
        short_run[start..i].fill((i - start) as u32);
    }
    let far = ln_count(n + 1);
    let mut prose_before = 0.0;
    for i in 0..n {
        let s = &stats[i];
        let words = s.words();
        let chars = s.chars.max(1) as f32;
        let neighbour = |d: isize, out: &mut Vec<f32>| match i.checked_add_signed(d).filter(|&j| j < n) {
            Some(j) => {
                let t = &stats[j];
                out.extend_from_slice(&[ln_chars[j], t.stop_share(), f(t.sentence_end), f(prose[j])]);
            }
            None => out.extend_from_slice(&[0.0, 0.0, 0.0, 0.0]),
        };
        let near: f32 = (i.saturating_sub(3)..(i + 4).min(n)).filter(|&j| j != i).map(|j| prose_chars[j]).sum();
        out.extend_from_slice(&[
            ln_chars[i],
            ln_one_plus(words),
            s.stop_share(),
            ln_count(s.stopwords as usize),
            f(s.sentence_end),
            f(s.colon_end),
            ln_count(s.inner_stops as usize),
            share(s.capitalised, s.spaced_words),
            share(s.upper, s.letters),
            s.digits as f32 / chars,
            s.letters as f32 / chars,
            s.punct as f32 / chars,
            s.commas as f32 / words.max(1.0),
            ln_count(s.separators as usize),
            ln_count(s.tags as usize),
            f(s.link_or_copyright),
            f(s.marked_start),
            (chars / words.max(1.0)).min(30.0) / 10.0,
            s.unspaced_chars as f32 / chars,
            if n > 1 { i as f32 / (n - 1) as f32 } else { 0.5 },
            ln_count(i),
            ln_count(n - 1 - i),
        ]);
        for d in [-2, -1, 1, 2] {
            neighbour(d, out);
        }
        out.extend_from_slice(&[
            to_prev[i].map_or(far, ln_count),
            to_next[i].map_or(far, ln_count),
            f(first_prose.is_none_or(|p| i < p)),
            f(last_prose.is_none_or(|p| i > p)),
            if total_prose > 0.0 { prose_before / total_prose } else { 0.0 },
            total_prose / total_chars.max(1.0),
            ln_one_plus(near),
            f(prose[i]),
            s.chars as f32 / longest,
            ln_count(short_run[i] as usize),
            f(has_stopwords),
            f(comment_marker.is_some_and(|m| i > m)),
            comment_marker.filter(|&m| i > m).map_or(0.0, |m| ln_count(i - m)),
            ln_count(s.copies_on_page as usize),
        ]);
        prose_before += prose_chars[i];
    }
}

/// Room for a word lowered to look it up as a stopword ([`LineStats::of`]'s
/// `lower`): most words fit, so that the buffer is made once a page, not
/// grown word by word.
pub const LOWER_WORD_BYTES: usize = 32;

/// `ln(1 + x)`, the scale of every count among the features (not
/// `f32::ln_1p`, which rounds differently: the shipped weights were fit to
/// this one).
fn ln_one_plus(x: f32) -> f32 {
    (1.0 + x).ln()
}

/// Counts below this are read from a table by [`ln_count`].
const LN_TABLE_COUNTS: usize = 256;

/// [`ln_one_plus`] of a count, to the bit: a page's few dozen lines each
/// take about twenty (their words, place, distances to prose), nearly all
/// small, and libm's logarithm was one percent of `run`.
fn ln_count(count: usize) -> f32 {
    static TABLE: LazyLock<[f32; LN_TABLE_COUNTS]> = LazyLock::new(|| std::array::from_fn(|k| ln_one_plus(k as f32)));
    match TABLE.get(count) {
        Some(&v) => v,
        None => ln_one_plus(count as f32),
    }
}

fn f(b: bool) -> f32 {
    if b { 1.0 } else { 0.0 }
}

fn share(part: u32, whole: u32) -> f32 {
    if whole == 0 { 0.0 } else { part as f32 / whole as f32 }
}

/// Names of the context features [`context_features`] adds to a row.
pub const CONTEXT_NAMES: &[&str] = &[
    "score",
    "prev3_score",
    "prev2_score",
    "prev_score",
    "next_score",
    "next2_score",
    "next3_score",
    "mean_score_near",
    "min_score_before",
    "min_score_after",
    "page_mean_score",
    "inside_content_span",
    "log_lines_to_content_before",
    "log_lines_to_content_after",
    "content_share_before",
    "inside_main_block",
    "log_lines_before_main_block",
    "log_lines_after_main_block",
    "main_block_share",
];

/// Lines that are not content which a block of content spans (a
/// subheading, a caption); more end it (see [`main_block`]).
const MAIN_BLOCK_GAP: usize = 2;

/// The page's main block of content, first and last line: of the runs of
/// content lines (gaps of at most [`MAIN_BLOCK_GAP`] other lines), the one
/// with the most characters of content, and the characters it holds. A
/// story is one block; readers' comments, a sponsor's paragraphs or a
/// sidebar's teasers after it are prose too, but a block apart.
fn main_block(content: &[bool], chars: &[u32]) -> Option<(usize, usize, u64)> {
    let mut best: Option<(usize, usize, u64)> = None;
    let mut run: Option<(usize, usize, u64)> = None;
    for (i, (&c, &n)) in content.iter().zip(chars).enumerate() {
        if !c {
            continue;
        }
        run = match run {
            Some((start, end, sum)) if i - end <= MAIN_BLOCK_GAP + 1 => Some((start, i, sum + u64::from(n))),
            _ => Some((i, i, u64::from(n))),
        };
        // The earlier of two blocks of the same size stands.
        if run.is_some_and(|r| best.is_none_or(|b| r.2 > b.2)) {
            best = run;
        }
    }
    best
}

/// The second stage's context: each line's first-stage junk probability
/// and those of the lines around it, appended to `out` a row a line. A
/// line whose neighbours the first stage calls content is likelier content
/// itself, whatever its own shape. `chars` are the lines' characters (not
/// white space, as [`LineStats::chars`] counts them), which tell the page's
/// main block of content.
pub fn context_features(scores: &[f32], chars: &[u32], out: &mut Vec<f32>) {
    let n = scores.len();
    if n == 0 {
        return;
    }
    let mean = scores.iter().sum::<f32>() / n as f32;
    let content: Vec<bool> = scores.iter().map(|&p| p < 0.5).collect();
    let first = content.iter().position(|&c| c);
    let last = content.iter().rposition(|&c| c);
    let total_content = content.iter().filter(|&&c| c).count().max(1) as f32;
    let main = main_block(&content, chars);
    let content_chars: u64 = content.iter().zip(chars).filter(|(c, _)| **c).map(|(_, &n)| u64::from(n)).sum();
    let main_share = main.map_or(0.0, |(_, _, n)| n as f32 / content_chars.max(1) as f32);
    let far = ln_count(n + 1);
    let mut to_prev = vec![far; n];
    let mut to_next = vec![far; n];
    let mut seen = None;
    for i in 0..n {
        if let Some(j) = seen {
            to_prev[i] = ln_count(i - j);
        }
        if content[i] {
            seen = Some(i);
        }
    }
    seen = None;
    for i in (0..n).rev() {
        if let Some(j) = seen {
            to_next[i] = ln_count(j - i);
        }
        if content[i] {
            seen = Some(i);
        }
    }
    let mut content_before = 0.0;
    for i in 0..n {
        let at = |d: isize| i.checked_add_signed(d).filter(|&j| j < n).map_or(mean, |j| scores[j]);
        let lo = i.saturating_sub(6);
        let hi = (i + 7).min(n);
        // Summed in order, as a collected Vec's sum would be, without one
        // allocation a line.
        let (mut near_sum, mut near_count) = (0.0f32, 0usize);
        for j in (lo..hi).filter(|&j| j != i) {
            near_sum += scores[j];
            near_count += 1;
        }
        let near_mean = if near_count == 0 { mean } else { near_sum / near_count as f32 };
        let min_before = scores[lo..i].iter().copied().fold(1.0f32, f32::min);
        let min_after = scores[(i + 1).min(n)..hi].iter().copied().fold(1.0f32, f32::min);
        out.extend_from_slice(&[
            scores[i],
            at(-3),
            at(-2),
            at(-1),
            at(1),
            at(2),
            at(3),
            near_mean,
            min_before,
            min_after,
            mean,
            f(first.is_some_and(|a| a <= i) && last.is_some_and(|b| i <= b)),
            to_prev[i],
            to_next[i],
            content_before / total_content,
            f(main.is_some_and(|(a, b, _)| a <= i && i <= b)),
            main.filter(|&(a, _, _)| i < a).map_or(0.0, |(a, _, _)| ln_count(a - i)),
            main.filter(|&(_, b, _)| i > b).map_or(0.0, |(_, b, _)| ln_count(i - b)),
            main_share,
        ]);
        content_before += f(content[i]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clean::lang::stopwords;

    fn stats(line: &str, code: &str) -> LineStats {
        LineStats::of(line, stopwords(code), &mut String::new())
    }

    #[test]
    fn prose_in_any_script_is_prose_and_a_menu_is_not() {
        assert!(stats("The union said on Monday that the strike would go on for a third day.", "en").is_prose(true));
        assert!(
            stats("部长周一表示，谈判将在假期结束后恢复，双方的立场仍然存在分歧，但是他们都希望达成协议。", "zh")
                .is_prose(true)
        );
        assert!(
            stats("大臣は月曜日、休暇の後に交渉が再開されると述べたが、詳細は明らかにしなかった。", "ja")
                .is_prose(true)
        );
        assert!(!stats("Home | World | Business | Sport", "en").is_prose(true));
        assert!(!stats("Jane Doe, Harbour Ledger", "en").is_prose(true));
    }

    #[test]
    fn every_row_has_one_number_per_name() {
        let lines =
            ["Home | News", "A headline about the port", "The union said the strike would go on for a day.", "Share"];
        let s: Vec<LineStats> = lines.iter().map(|l| stats(l, "en")).collect();
        let mut out = Vec::new();
        page_features(&s, true, &mut out);
        assert_eq!(out.len(), lines.len() * FEATURE_NAMES.len());
        assert!(out.iter().all(|x| x.is_finite()));
        let mut ctx = Vec::new();
        context_features(&[0.9, 0.4, 0.1, 0.8], &[11, 25, 50, 5], &mut ctx);
        assert_eq!(ctx.len(), 4 * CONTEXT_NAMES.len());
    }

    proptest::proptest! {
        // The ASCII path counts as the general one does.
        #[test]
        fn ascii_words_are_counted_as_any_word(line in "[ \t\x0b\x0c\x01a-zA-Z0-9.,!?|/<>~#@:'\"()_-]{0,60}|(The|the|AND|And|of) [a-z]{1,4}") {
            let stops = stopwords("en");
            let mut fast = LineStats::default();
            let mut slow = LineStats::default();
            let mut lower = String::new();
            fast.count_ascii(&line, stops, &mut lower);
            for word in line.split_whitespace() {
                slow.count_word(word, stops, &mut lower);
            }
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    #[test]
    fn links_and_copyright_marks_are_found() {
        for line in ["see https://x.org", "http://a", "www.example.org", "example.com/a", "© 2024 Ledger", "(c) Ledger"]
        {
            assert!(link_or_copyright(line.as_bytes()), "{line}");
        }
        for line in ["The union said so.", "Time: 10:30", "(AP) Workers", "comment. com", ""] {
            assert!(!link_or_copyright(line.as_bytes()), "{line}");
        }
    }

    #[test]
    fn comment_thread_heads_are_short_lines_naming_comments_in_any_language() {
        for line in
            ["12 Comments", "Leave a Reply", "Kommentare (3)", "Комментарии", "评论 (5)", "コメント", "Responses"]
        {
            assert!(is_comment_marker(line), "{line}");
        }
        for line in
            ["The minister declined to comment on the report on Monday, his office said.", "Share this article", ""]
        {
            assert!(!is_comment_marker(line), "{line}");
        }
    }

    #[test]
    fn the_main_block_is_the_run_of_content_with_the_most_characters() {
        let content = [false, true, false, true, true, false, false, false, true, true, true, false];
        let chars = [10, 400, 20, 300, 250, 15, 15, 15, 120, 90, 100, 10];
        // Lines 1-4 span a one-line gap; three lines of junk end the block.
        assert_eq!(main_block(&content, &chars), Some((1, 4, 950)));
        // A block later on with more characters is the main one.
        let chars = [10, 400, 20, 300, 250, 15, 15, 15, 500, 500, 100, 10];
        assert_eq!(main_block(&content, &chars), Some((8, 10, 1100)));
        assert_eq!(main_block(&[false, false], &[5, 5]), None);
    }

    #[test]
    fn copies_of_a_line_on_its_page_are_counted() {
        let lines = ["Posted by Ana", "A paragraph of the story.", "Posted by Ana ", "Posted by Ana", "Reply"];
        let mut s: Vec<LineStats> = lines.iter().map(|l| stats(l, "en")).collect();
        count_copies(&lines, &mut s);
        assert_eq!(s.iter().map(|s| s.copies_on_page).collect::<Vec<_>>(), [2, 0, 2, 2, 0]);
    }

    #[test]
    fn separators_and_sentence_ends_are_counted() {
        let s = stats("Photo: Jane Doe / Agency | Harbour Ledger", "en");
        assert_eq!(s.separators, 2);
        assert!(!s.sentence_end);
        let s = stats("He left. She stayed. \"Fine.\"", "en");
        assert!(s.sentence_end);
        assert_eq!(s.inner_stops, 2);
    }
}
