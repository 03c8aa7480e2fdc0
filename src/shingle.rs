//! Text normalisation and shingling: the text a document is compared by.
//!
//! Two copies of one story differ in ways that say nothing about their
//! content: curly versus straight quotes, full-width digits, case, runs of
//! spaces, punctuation. [`normalize_into`] folds all of these away: Unicode
//! NFKC, lower-casing, apostrophes dropped inside words (`Kremlin’s` and
//! `Kremlin's` both become `kremlins`), and every other non-alphanumeric
//! character treated as a word break. The result is the document's words
//! joined by single spaces.
//!
//! Shingles are either word n-grams (runs of `n` consecutive words) or
//! character n-grams over the normalised text. Each shingle is hashed with
//! seeded XXH3-64 over its normalised bytes, so a shingle's hash is a pure
//! function of its text and the seed. A document shorter than one shingle
//! gets exactly one shingle, its whole normalised text, so that two short
//! documents match only when their words are the same.

use unicode_normalization::UnicodeNormalization;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// How a document is cut into shingles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "size")]
pub enum Shingling {
    /// Runs of `n` consecutive words.
    Words(usize),
    /// Runs of `n` consecutive characters of the normalised text (spaces included).
    Chars(usize),
}

impl Default for Shingling {
    fn default() -> Self {
        Shingling::Words(5)
    }
}

impl Shingling {
    /// The n-gram size.
    pub fn size(self) -> usize {
        match self {
            Shingling::Words(n) | Shingling::Chars(n) => n,
        }
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`')
}

/// Normalises `text` into `out` (cleared first): NFKC, lower case, words
/// joined by single spaces, no leading or trailing space.
///
/// ```
/// let mut out = String::new();
/// doppel::normalize_into("The  KREMLIN’s “tragic” incident!", &mut out);
/// assert_eq!(out, "the kremlins tragic incident");
/// ```
pub fn normalize_into(text: &str, out: &mut String) {
    let mut bytes = std::mem::take(out).into_bytes();
    normalize_bytes(text, &mut bytes);
    // normalize_bytes writes whole UTF-8 characters only.
    *out = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
}

/// [`normalize_into`] writing UTF-8 bytes, the form shingling reads.
pub fn normalize_bytes(text: &str, out: &mut Vec<u8>) {
    out.clear();
    out.reserve(text.len());
    let mut w = WordWriter { out, pending_space: false };
    // Where the current word began, in the text and in the output, so that
    // a word can be normalised again from its start.
    let mut word_start = 0usize;
    let mut word_out = 0usize;
    let mut word_pending = false;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii() {
            // ASCII is NFKC already and maps byte to byte through a table:
            // the path for nearly all of a news text, taken a run at a time.
            let end = i + ascii_prefix_len(&bytes[i..]);
            if let Some((after_separator, out_len, pending)) = w.push_ascii(&bytes[i..end]) {
                (word_start, word_out, word_pending) = (i + after_separator, out_len, pending);
            }
            i = end;
            continue;
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        match fast_class(c) {
            Some(Class::Apostrophe) => i += c.len_utf8(),
            Some(Class::Separator) => {
                w.separate();
                i += c.len_utf8();
                (word_start, word_out, word_pending) = (i, w.out.len(), w.pending_space);
            }
            Some(Class::Letter) => {
                for lower in c.to_lowercase() {
                    w.push(lower);
                }
                i += c.len_utf8();
            }
            None => {
                // NFKC can compose or reorder across the whole word (a
                // combining mark joins the letter before it), so the word is
                // normalised again from its start, up to the next ASCII
                // separator, which the ASCII branch then handles.
                if w.out.len() > word_out {
                    w.out.truncate(word_out);
                    w.pending_space = word_pending;
                }
                let end = text[i..]
                    .find(|ch: char| ch.is_ascii() && !ch.is_ascii_alphanumeric() && ch != '\'' && ch != '`')
                    .map_or(text.len(), |k| i + k);
                for n in text[word_start..end].nfkc() {
                    w.push_normalized(n);
                }
                i = end;
            }
        }
    }
}

/// Letter bytes taken from each end of a text for its ends key.
const ENDS: usize = 16;

/// The letters of a text as [`normalize_bytes`] writes them, without its
/// word breaks and with digits masked as `0`, read from either end one
/// character at a time, for the characters normalisation maps one at a
/// time (ASCII, and those of `fast_class`). `None` marks a letter that
/// only a full normalisation knows: a character that needs NFKC, or one
/// followed by such a character (a combining mark joins the letter before
/// it).
struct Letters<I: Iterator<Item = char>> {
    chars: std::iter::Peekable<I>,
    // The bytes of one lower-cased letter, popped in the order of reading.
    pending: [u8; 4],
    pending_len: usize,
    reverse: bool,
}

impl<I: Iterator<Item = char>> Letters<I> {
    fn new(chars: I, reverse: bool) -> Self {
        Letters { chars: chars.peekable(), pending: [0; 4], pending_len: 0, reverse }
    }
}

/// The letter an ASCII byte leaves in the normalised text, digits masked;
/// `None` for a byte that leaves none.
fn ascii_letter(b: u8) -> Option<u8> {
    let m = ASCII_MAP[usize::from(b)];
    (m > SKIP).then_some(if m.is_ascii_digit() { b'0' } else { m })
}

fn needs_nfkc(c: char) -> bool {
    !c.is_ascii() && fast_class(c).is_none()
}

impl<I: Iterator<Item = char>> Iterator for Letters<I> {
    type Item = Option<u8>;

    fn next(&mut self) -> Option<Option<u8>> {
        loop {
            if self.pending_len > 0 {
                self.pending_len -= 1;
                return Some(Some(self.pending[self.pending_len]));
            }
            let c = self.chars.next()?;
            // Reading forwards, a mark after the letter changes it; reading
            // backwards the mark comes first and is itself unknown.
            if needs_nfkc(c) || (!self.reverse && self.chars.peek().is_some_and(|&n| needs_nfkc(n))) {
                return Some(None);
            }
            if c.is_ascii() {
                match ascii_letter(c as u8) {
                    Some(letter) => return Some(Some(letter)),
                    None => continue,
                }
            }
            if let Some(Class::Letter) = fast_class(c) {
                // A Latin-1 letter lower-cases to one character. Its bytes
                // are stacked so that popping gives reading order.
                let mut buf = [0u8; 4];
                let lower = c.to_lowercase().next().unwrap_or(c).encode_utf8(&mut buf).as_bytes();
                self.pending_len = lower.len();
                for (k, &b) in lower.iter().enumerate() {
                    let at = if self.reverse { k } else { lower.len() - 1 - k };
                    self.pending[at] = b;
                }
            }
        }
    }
}

/// A key of the first and last [`ENDS`] letter bytes of `text` as
/// [`normalize_bytes`] writes it, word breaks left out and digits masked as
/// `0`: [`ends_key_normalized`] of the normalised text, read from its two
/// ends without normalising it. `None` when a character there needs NFKC.
///
/// Two texts that normalise alike (digits aside) always get the same key,
/// and two paragraphs that do not rarely do, so the cleaner keys every
/// line with it and normalises only the few whose keys meet another
/// line's or a learned boilerplate line's.
pub(crate) fn ends_key(text: &str) -> Option<u64> {
    let (mut first, mut last) = ([0u8; ENDS], [0u8; ENDS]);
    let bytes = text.as_bytes();
    // Byte by byte while the ends are ASCII, as they nearly always are.
    let n_first = match fill_ascii(&mut first, bytes.iter()) {
        Some(n) => n,
        None => fill(&mut first, Letters::new(text.chars(), false))?,
    };
    let n_last = match fill_ascii(&mut last, bytes.iter().rev()) {
        Some(n) => n,
        None => fill(&mut last, Letters::new(text.chars().rev(), true))?,
    };
    Some(key_of_ends(&first[..n_first], &last[..n_last]))
}

/// [`fill`] from ASCII bytes; `None` at a byte that is not ASCII, read or
/// next (which may be a mark joining the last letter).
fn fill_ascii<'t>(out: &mut [u8; ENDS], bytes: impl Iterator<Item = &'t u8>) -> Option<usize> {
    let mut bytes = bytes.peekable();
    let mut n = 0;
    while n < ENDS {
        let Some(&b) = bytes.next() else { return Some(n) };
        if !b.is_ascii() {
            return None;
        }
        if let Some(letter) = ascii_letter(b) {
            out[n] = letter;
            n += 1;
        }
    }
    bytes.peek().is_none_or(|b| b.is_ascii()).then_some(n)
}

/// Fills `out` from `letters`; how many, or `None` at an unknown letter.
fn fill(out: &mut [u8; ENDS], letters: impl Iterator<Item = Option<u8>>) -> Option<usize> {
    let mut n = 0;
    for (slot, letter) in out.iter_mut().zip(letters) {
        *slot = letter?;
        n += 1;
    }
    Some(n)
}

/// [`ends_key`] of a text already normalised (any script).
pub(crate) fn ends_key_normalized(normalized: &[u8]) -> u64 {
    let letter = |&b: &u8| (b != b' ').then_some(Some(if b.is_ascii_digit() { b'0' } else { b }));
    let (mut first, mut last) = ([0u8; ENDS], [0u8; ENDS]);
    // Normalised text has no unknown letters: both fills succeed.
    let n_first = fill(&mut first, normalized.iter().filter_map(letter)).unwrap_or(0);
    let n_last = fill(&mut last, normalized.iter().rev().filter_map(letter)).unwrap_or(0);
    key_of_ends(&first[..n_first], &last[..n_last])
}

fn key_of_ends(first: &[u8], last: &[u8]) -> u64 {
    let mut ends = [0u8; 2 * ENDS + 1];
    ends[..first.len()].copy_from_slice(first);
    // A byte no letter is, so that short texts key apart.
    ends[first.len()] = 0;
    ends[first.len() + 1..][..last.len()].copy_from_slice(last);
    xxhash_rust::xxh3::xxh3_64(&ends[..first.len() + 1 + last.len()])
}

/// False when the normalised `text` cannot start with the normalised
/// `prefix`, judged on their letters; true when it may, or when a letter
/// before the first difference needs a full normalisation. A difference is
/// usually found within the first word.
///
/// Asked of every two neighbouring paragraphs; read a byte at a time while
/// both are ASCII, since a [`Letters`] step cost about seventy instructions
/// and this was a tenth of the cleaner. At the first byte that is not
/// ASCII, next to a letter still to compare, [`Letters`], which knows
/// every character, takes over from there.
pub(crate) fn letters_may_start_with(text: &str, prefix: &str) -> bool {
    let (t, p) = (text.as_bytes(), prefix.as_bytes());
    let (mut i, mut j) = (0, 0);
    // The next letter at or after `at`: its position, or the length at the
    // end; `None` at a byte that is not ASCII.
    let next_letter = |bytes: &[u8], mut at: usize| -> Option<usize> {
        while let Some(&b) = bytes.get(at) {
            if !b.is_ascii() {
                return None;
            }
            if ascii_letter(b).is_some() {
                break;
            }
            at += 1;
        }
        Some(at)
    };
    // A letter is known when the byte after it is ASCII (a combining mark
    // would change it).
    let known = |bytes: &[u8], at: usize| bytes.get(at + 1).is_none_or(u8::is_ascii);
    while let Some(pj) = next_letter(p, j) {
        if pj == p.len() {
            return true;
        }
        if !known(p, pj) {
            break;
        }
        let Some(ti) = next_letter(t, i) else { break };
        if ti == t.len() {
            return false;
        }
        if !known(t, ti) {
            break;
        }
        if ascii_letter(p[pj]) != ascii_letter(t[ti]) {
            return false;
        }
        (i, j) = (ti + 1, pj + 1);
    }
    // Every letter before `i` and `j` is known and matched, and both
    // follow an ASCII byte: the character path goes on from there as it
    // would have from the start.
    letters_may_start_with_any(&text[i..], &prefix[j..])
}

/// [`letters_may_start_with`] for any text, a character at a time.
fn letters_may_start_with_any(text: &str, prefix: &str) -> bool {
    let mut of_text = Letters::new(text.chars(), false);
    for p in Letters::new(prefix.chars(), false) {
        match (p, of_text.next()) {
            (None, _) | (_, Some(None)) => return true,
            (Some(p), Some(Some(t))) if p == t => {}
            _ => return false,
        }
    }
    true
}

const SEPARATOR: u8 = 0;
const SKIP: u8 = 1;

/// What each ASCII byte becomes: its lower case if alphanumeric, [`SKIP`]
/// for apostrophes (dropped inside words), [`SEPARATOR`] for the rest.
const ASCII_MAP: [u8; 128] = {
    let mut map = [SEPARATOR; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() {
            map[b] = c.to_ascii_lowercase();
        } else if c == b'\'' || c == b'`' {
            map[b] = SKIP;
        }
        b += 1;
    }
    map
};

/// Appends words, collapsing separators.
struct WordWriter<'a> {
    out: &'a mut Vec<u8>,
    // Deferred so that runs of separators collapse and none trails.
    pending_space: bool,
}

/// Length of the ASCII prefix of `bytes`, eight bytes at a time.
fn ascii_prefix_len(bytes: &[u8]) -> usize {
    let mut n = 0;
    for chunk in bytes.chunks_exact(8) {
        let word = u64::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7]]);
        if word & 0x8080_8080_8080_8080 != 0 {
            break;
        }
        n += 8;
    }
    n + bytes[n..].iter().position(|b| !b.is_ascii()).unwrap_or(bytes.len() - n)
}

/// Sixteen ASCII bytes, classified lane by lane in a form the compiler
/// turns into SSE2 (about thirty vector instructions, no table lookups).
/// Returns what each byte writes (lower case, or a space for a
/// separator), and two words of lanes (least significant first) with
/// `0xff` where a byte is a letter or digit and where
/// [`WordWriter::push_ascii`] keeps it: a letter or digit, or a separator
/// right after one (`after_word` for the first lane). A byte not kept is a
/// separator after a separator, or an apostrophe.
#[inline(always)]
fn classify16(chunk: &[u8; 16], after_word: bool) -> ([u8; 16], [u64; 2], [u64; 2]) {
    let mut written = [0u8; 16];
    let mut word = [0u8; 16];
    let mut apostrophe = [0u8; 16];
    for j in 0..16 {
        let b = chunk[j];
        let upper = b.wrapping_sub(b'A') < 26;
        let alnum = upper | (b.wrapping_sub(b'a') < 26) | (b.wrapping_sub(b'0') < 10);
        word[j] = if alnum { 0xff } else { 0 };
        apostrophe[j] = if b == b'\'' || b == b'`' { 0xff } else { 0 };
        written[j] = if alnum { b | (u8::from(upper) << 5) } else { b' ' };
    }
    let halves = |lanes: [u8; 16]| {
        let (lo, hi) = lanes.split_at(8);
        [lo, hi].map(|h| u64::from_le_bytes(<[u8; 8]>::try_from(h).unwrap_or([0; 8])))
    };
    let ([word_lo, word_hi], [apos_lo, apos_hi]) = (halves(word), halves(apostrophe));
    let before_lo = (word_lo << 8) | if after_word { 0xff } else { 0 };
    let before_hi = (word_hi << 8) | (word_lo >> 56);
    let kept = [word_lo | (before_lo & !apos_lo), word_hi | (before_hi & !apos_hi)];
    (written, [word_lo, word_hi], kept)
}

/// Index of the first lane of `kept` (from [`classify16`]) that is not
/// kept, or 16.
fn first_dropped(kept: [u64; 2]) -> usize {
    match kept.map(|h| !h) {
        [lo, _] if lo != 0 => (lo.trailing_zeros() / 8) as usize,
        [_, hi] if hi != 0 => 8 + (hi.trailing_zeros() / 8) as usize,
        _ => 16,
    }
}

/// `b` in every byte lane.
fn splat(b: u8) -> u64 {
    u64::from(b) * 0x0101_0101_0101_0101
}

/// 0x80 in exactly the zero bytes of `x`, 0 elsewhere. Exact: no borrow
/// runs between lanes, so a byte next to a zero byte is never taken for one.
fn zero_lanes(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((x & LOW7) + LOW7) | x | LOW7)
}

impl WordWriter<'_> {
    /// Appends a run of ASCII bytes. Returns, when the run holds a
    /// separator, where the word after the last one starts: its offset in
    /// the run, the output length then, and whether a space was pending.
    ///
    /// Inside the run spaces are written eagerly, sixteen bytes at a
    /// time: each chunk is classified by [`classify16`] and stored whole,
    /// and the write position advances over the prefix that is kept. The
    /// first byte not kept (a second separator, or an apostrophe) changes
    /// nothing, so the next chunk starts just after it. Running prose keeps
    /// most chunks whole. This ran at 1.29 GiB/s (`cargo bench --bench
    /// stages -- normalize`), against 0.80 for eight bytes at a time by
    /// arithmetic on a `u64` with a byte loop for the chunks that were not
    /// plain prose.
    fn push_ascii(&mut self, run: &[u8]) -> Option<(usize, usize, bool)> {
        let mut after_word = !self.out.is_empty();
        if self.pending_space {
            self.out.push(b' ');
            after_word = false;
        }
        let start = self.out.len();
        // Sixteen bytes of slack: every chunk is stored whole.
        self.out.resize(start + run.len() + 16, 0);
        let buf = &mut self.out[start..];
        let mut k = 0usize;
        let mut i = 0usize;
        while i < run.len() {
            let remaining = run.len() - i;
            let chunk = match run.get(i..i + 16) {
                Some(c) => <[u8; 16]>::try_from(c).unwrap_or([0; 16]),
                None => {
                    let mut padded = [0u8; 16];
                    padded[..remaining].copy_from_slice(&run[i..]);
                    padded
                }
            };
            let (written, word, kept) = classify16(&chunk, after_word);
            buf[k..k + 16].copy_from_slice(&written);
            // The kept prefix is in place; the byte after it is dropped and
            // leaves the state as it was, so the next chunk starts after it.
            let prefix = first_dropped(kept).min(remaining);
            k += prefix;
            if prefix > 0 {
                let lane = prefix - 1;
                after_word = (word[lane / 8] >> (8 * (lane % 8))) & 1 != 0;
            }
            i += prefix + usize::from(prefix < remaining.min(16));
        }
        self.out.truncate(start + k);
        self.pending_space = self.out.last() == Some(&b' ');
        if self.pending_space {
            self.out.pop();
        }
        let last_separator = run.iter().rposition(|&b| ASCII_MAP[b as usize] == SEPARATOR)?;
        let letters_after = run[last_separator + 1..].iter().filter(|&&b| ASCII_MAP[b as usize] > SKIP).count();
        let len = self.out.len();
        Some(match len - letters_after {
            _ if letters_after == 0 => (last_separator + 1, len, self.pending_space),
            0 => (last_separator + 1, 0, false),
            before => (last_separator + 1, before - 1, true),
        })
    }

    fn start_word(&mut self) {
        if self.pending_space {
            self.out.push(b' ');
            self.pending_space = false;
        }
    }

    fn push(&mut self, c: char) {
        self.start_word();
        let mut buf = [0u8; 4];
        self.out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }

    fn separate(&mut self) {
        if !self.out.is_empty() {
            self.pending_space = true;
        }
    }

    /// A character that is already NFKC: the general rule.
    fn push_normalized(&mut self, c: char) {
        // Apostrophes first: U+02BC is a letter to Unicode, but folding it
        // away is what makes `Kremlinʼs` match `Kremlin's`.
        if is_apostrophe(c) {
            return;
        }
        if c.is_alphanumeric() {
            if c.is_ascii() {
                self.push(c.to_ascii_lowercase());
            } else {
                for lower in c.to_lowercase() {
                    self.push(lower);
                }
            }
        } else {
            self.separate();
        }
    }
}

enum Class {
    Apostrophe,
    Separator,
    Letter,
}

/// Non-ASCII characters whose NFKC form is known without running NFKC.
fn fast_class(c: char) -> Option<Class> {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{02BC}' => Some(Class::Apostrophe),
        // No-break space, and General Punctuation (dashes, curly quotes,
        // ellipsis, spaces): NFKC maps none of them to a letter or digit.
        '\u{00A0}' | '\u{2000}'..='\u{206F}' => Some(Class::Separator),
        // Latin-1 letters: precomposed, NFKC-stable (ª º µ are not in range).
        '\u{00C0}'..='\u{00FF}' if c != '\u{00D7}' && c != '\u{00F7}' => Some(Class::Letter),
        _ => None,
    }
}

/// Calls `emit` with the seeded XXH3 hash of every shingle of an already
/// normalised text (see [`normalize_into`]), in text order. Repeated
/// shingles are emitted each time they occur. Returns the number of
/// shingles emitted: zero only for an empty text.
pub fn for_each_shingle_hash(normalized: &[u8], shingling: Shingling, seed: u64, mut emit: impl FnMut(u64)) -> usize {
    if normalized.is_empty() {
        return 0;
    }
    let bytes = normalized;
    match shingling {
        Shingling::Words(n) => {
            // Ring of the last `n` word starts (n <= 64, validated by the
            // configuration; a power-of-two ring indexes without a division);
            // the shingle ending at a word runs from the start of the word
            // n-1 words back to its end.
            let n = n.clamp(1, 64);
            let mut starts = [0usize; 64];
            let mut words = 0usize;
            let mut count = 0usize;
            let mut word_start = 0usize;
            // Words end at the spaces and at the end.
            for end in SpaceOffsets::new(bytes).chain(std::iter::once(bytes.len())) {
                starts[words & 63] = word_start;
                words += 1;
                if words >= n {
                    let first = starts[(words - n) & 63];
                    emit(xxh3_64_with_seed(&bytes[first..end], seed));
                    count += 1;
                }
                word_start = end + 1;
            }
            if count == 0 {
                emit(xxh3_64_with_seed(bytes, seed));
                count = 1;
            }
            count
        }
        Shingling::Chars(n) => {
            let n = n.max(1);
            // Byte offsets of char starts, walked as a sliding window.
            let mut window: std::collections::VecDeque<usize> = std::collections::VecDeque::with_capacity(n + 1);
            let mut count = 0usize;
            // Char starts are the bytes that are not UTF-8 continuations.
            let starts = bytes.iter().enumerate().filter(|(_, b)| (**b & 0xC0) != 0x80).map(|(p, _)| p);
            for pos in starts {
                window.push_back(pos);
                if window.len() > n {
                    let first = window.pop_front().unwrap_or(0);
                    emit(xxh3_64_with_seed(&bytes[first..pos], seed));
                    count += 1;
                }
            }
            if window.len() == n {
                emit(xxh3_64_with_seed(&bytes[window[0]..], seed));
                count += 1;
            }
            if count == 0 {
                emit(xxh3_64_with_seed(bytes, seed));
                count = 1;
            }
            count
        }
    }
}

/// The offsets of the spaces in a text, in order, found eight bytes at a
/// time.
///
/// Normalised words average five or six bytes: `memchr_iter` set up a
/// vector search for each one, and that setup was a tenth of the floor's
/// time on real news. A word-sized mask of the spaces is computed once per
/// eight bytes and its bits are read off in a register.
struct SpaceOffsets<'a> {
    bytes: &'a [u8],
    /// Offset of the eight bytes `mask` was read from.
    base: usize,
    /// 0x80 in each byte of that word that is a space not yet returned.
    mask: u64,
}

impl<'a> SpaceOffsets<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let mut s = SpaceOffsets { bytes, base: 0, mask: 0 };
        s.mask = s.mask_at(0);
        s
    }

    /// The space mask of the (up to) eight bytes at `at`.
    fn mask_at(&self, at: usize) -> u64 {
        let word = match self.bytes.get(at..at + 8) {
            Some(eight) => <[u8; 8]>::try_from(eight).unwrap_or([0xff; 8]),
            // The last few bytes, padded with bytes that are not spaces.
            None => {
                let mut word = [0xffu8; 8];
                let tail = &self.bytes[at.min(self.bytes.len())..];
                word[..tail.len()].copy_from_slice(tail);
                word
            }
        };
        zero_lanes(u64::from_le_bytes(word) ^ splat(b' '))
    }
}

impl Iterator for SpaceOffsets<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.base += 8;
            if self.base >= self.bytes.len() {
                return None;
            }
            self.mask = self.mask_at(self.base);
        }
        let at = self.base + (self.mask.trailing_zeros() / 8) as usize;
        self.mask &= self.mask - 1;
        Some(at)
    }
}

/// The 32-bit fingerprint of a shingle hash that exact verification counts
/// shared shingles by: the hash's top half.
///
/// Exact sets are logged for every document while signing, and on a big
/// corpus that log is the largest thing written, all of it fresh page
/// cache. At 4 bytes a shingle instead of 8, `doppel dedup --duplicates-only
/// --cluster union` on 1 GB of news took 2.60 s instead of 3.18 s (system
/// time 0.59 s instead of 1.58 s; medians of 5, alternated). What it costs
/// in exactness: two different shingles share a fingerprint with odds of 1
/// in 2^32, so a set loses one shingle to a collision within itself with
/// odds of about `|A|^2 / 2^33` (1 in 8,600 for 1,000 shingles), and a pair
/// gains a false shared shingle with odds of about `|A \ B| |B \ A| / 2^32`
/// (3 in a million for two 1,000-shingle articles at Jaccard 0.8). Either
/// moves Jaccard by about `1 / |A ∪ B|`, so a decision changes only for a
/// pair that close to the threshold. Taking the top half keeps a sorted set
/// of hashes sorted.
pub fn fingerprint(hash: u64) -> u32 {
    (hash >> 32) as u32
}

/// The [`fingerprint`]s of every shingle of a text, in text order with
/// repeats, into `out`: what `doppel dedup` logs for exact verification,
/// without signing. Nothing is sorted: judging counts with hash tables.
pub fn shingle_fingerprints(text: &str, shingling: Shingling, seed: u64, out: &mut Vec<u32>) {
    let mut normalized = Vec::new();
    normalize_bytes(text, &mut normalized);
    out.clear();
    for_each_shingle_hash(&normalized, shingling, seed, |h| out.push(fingerprint(h)));
}

/// The set of shingle hashes of a text, sorted and without repeats: the
/// exact representation that Jaccard similarity is defined on.
pub fn shingle_set(text: &str, shingling: Shingling, seed: u64) -> Vec<u64> {
    let mut normalized = Vec::new();
    normalize_bytes(text, &mut normalized);
    let mut set = Vec::new();
    for_each_shingle_hash(&normalized, shingling, seed, |h| set.push(h));
    sort_set(&mut set, &mut SetScratch::default());
    set
}

/// Reusable buffers for [`sort_set`].
#[derive(Debug, Default, Clone)]
pub struct SetScratch {
    counts: Vec<u32>,
    sorted: Vec<u64>,
}

/// Below this many hashes a comparison sort is as fast as bucketing.
const BUCKET_SORT_MIN: usize = 128;

/// Sorts shingle hashes and drops repeats, leaving the set form that exact
/// Jaccard is computed on.
///
/// Shingle hashes are uniform over 64 bits, so a counting pass on their top
/// bits (twice as many buckets as hashes) scatters them in bucket order with
/// most buckets holding none or one; an insertion sort then has little to
/// move, and its branch is mostly predicted. That is two passes over the
/// data where a comparison sort makes about `log2 n` (criterion
/// `set_sort_*`: 1.7x faster than `sort_unstable` + `dedup` on articles of
/// about 570 shingles). Repeats of one hash land together and cost no moves. Input
/// that defeats the spread (many distinct hashes sharing their top bits,
/// which a hash collision attack could build) is caught by counting moves
/// and finished by a comparison sort, so no input is quadratic.
pub fn sort_set(hashes: &mut Vec<u64>, scratch: &mut SetScratch) {
    let n = hashes.len();
    if n < BUCKET_SORT_MIN {
        hashes.sort_unstable();
        hashes.dedup();
        return;
    }
    // n < 2^bits <= 2n: most buckets hold none or one hash, so most
    // hashes are already in place after the scatter.
    let bits = (usize::BITS - n.leading_zeros()).min(20);
    let shift = 64 - bits;
    let counts = &mut scratch.counts;
    counts.clear();
    counts.resize(1 << bits, 0);
    for &h in hashes.iter() {
        counts[(h >> shift) as usize] += 1;
    }
    let mut next = 0u32;
    for c in counts.iter_mut() {
        let here = *c;
        *c = next;
        next += here;
    }
    let sorted = &mut scratch.sorted;
    sorted.clear();
    sorted.resize(n, 0);
    for &h in hashes.iter() {
        let slot = &mut counts[(h >> shift) as usize];
        sorted[*slot as usize] = h;
        *slot += 1;
    }
    // Insertion sort over the bucketed order; each hash moves only within
    // its bucket.
    let budget = 8 * n;
    let mut moves = 0usize;
    for i in 1..n {
        let h = sorted[i];
        let mut j = i;
        while j > 0 && sorted[j - 1] > h {
            sorted[j] = sorted[j - 1];
            j -= 1;
        }
        sorted[j] = h;
        moves += i - j;
        if moves > budget {
            sorted.sort_unstable();
            break;
        }
    }
    sorted.dedup();
    std::mem::swap(hashes, sorted);
}

/// Exact Jaccard similarity of two sorted, repeat-free sets.
/// Two empty sets have similarity 0: an empty document is like nothing.
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let inter = intersection_size(a, b);
    let union = a.len() + b.len() - inter;
    if union == 0 { 0.0 } else { inter as f64 / union as f64 }
}

/// Size of the intersection of two sorted, repeat-free sets.
pub fn intersection_size<T: Ord>(a: &[T], b: &[T]) -> usize {
    let (mut i, mut j, mut inter) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    inter
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition: NFKC of the whole text, then the word rule per character.
    fn reference(text: &str) -> String {
        let mut out = Vec::new();
        let mut w = WordWriter { out: &mut out, pending_space: false };
        for c in text.nfkc() {
            w.push_normalized(c);
        }
        String::from_utf8(out).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn fast_normalisation_equals_whole_text_nfkc(
            parts in proptest::collection::vec(prop_oneof![
                Just("e"), Just("E"), Just("\u{301}"), Just("\u{327}"), Just("é"), Just("É"), Just("ﬁ"), Just("Ⅻ"),
                Just("’"), Just("'"), Just("“"), Just(" "), Just("\u{a0}"), Just("."), Just("ß"), Just("İ"),
                Just("ｱ"), Just("ﾞ"), Just("가"), Just("\u{1100}"), Just("\u{1161}"), Just("Ω"), Just("x²"),
                Just("½"), Just("…"), Just("—"), Just("a"), Just("Z9"), Just("\u{2126}"), Just("Å"), Just("\u{30a}"),
                Just("\u{2bc}"), Just("`"),
            ], 0..24),
        ) {
            let text: String = parts.concat();
            let mut out = String::new();
            normalize_into(&text, &mut out);
            prop_assert_eq!(out, reference(&text));
        }

        // Long ASCII runs, where sixteen bytes are written at once: letters
        // of both cases and the bytes just outside their ranges, digits,
        // control bytes, runs of separators, apostrophes, after a non-ASCII
        // word or not, and ending at one (a run's last chunk is partial).
        #[test]
        fn ascii_prose_normalises_as_nfkc_does(
            head in prop_oneof![Just(""), Just("é"), Just("é "), Just("x"), Just(" ")],
            body in "[a-zA-Z0-9@\\[`{/:' ,.\n\t\x00\x7f-]{0,120}",
            tail in prop_oneof![Just(""), Just("é"), Just("’s and more"), Just("—an aside, then prose")],
        ) {
            let text = format!("{head}{body}{tail}");
            let mut out = String::new();
            normalize_into(&text, &mut out);
            prop_assert_eq!(out, reference(&text));
        }

        // Bytes next to a space, 0x20 with its high bit set, and 0x00 or
        // 0x21 catch a mask that borrows between bytes or matches near misses.
        #[test]
        fn space_offsets_are_the_spaces(
            bytes in proptest::collection::vec(prop_oneof![
                Just(b' '), Just(b'a'), Just(0xa0u8), Just(0x00), Just(0x21), Just(0x1f), Just(0xff), any::<u8>(),
            ], 0..70),
        ) {
            let expected: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == b' ').collect();
            prop_assert_eq!(SpaceOffsets::new(&bytes).collect::<Vec<_>>(), expected);
        }

        // The cleaner trusts these as filters: they may let a pair through
        // that normalises differently, never stop one that normalises alike.
        #[test]
        fn letter_filters_agree_with_normalisation(
            a in "[ a-zA-Z0-9.,'`’“é\\u{301}\\u{a0}ﬁÉß-]{0,40}",
            b in "[ a-zA-Z0-9.,'`’“é\\u{301}\\u{a0}ﬁÉß-]{0,40}",
            tail in "[ a-zA-Z.]{0,12}",
        ) {
            let key = |s: &str| {
                let mut n = Vec::new();
                normalize_bytes(s, &mut n);
                let k = ends_key_normalized(&n);
                if let Some(fast) = ends_key(s) {
                    assert_eq!(fast, k, "{s:?}");
                }
                k
            };
            let masked = |s: &str| norm(s).replace(|c: char| c.is_ascii_digit(), "0");
            if masked(&a) == masked(&b) {
                prop_assert_eq!(key(&a), key(&b));
            }
            let longer = format!("{b}{tail}");
            if norm(&longer).starts_with(&norm(&a)) {
                prop_assert!(letters_may_start_with(&longer, &a));
            }
            // The byte path answers as the character path does.
            // Texts that share long starts with `a` once normalised: other
            // case, other apostrophes, a tail.
            let extended = format!("{a}{tail}");
            let shouted = format!("{}{tail}", a.to_uppercase());
            let curly = a.replace('\'', "’").replace(' ', " ’");
            for (text, prefix) in [
                (&longer, &a),
                (&a, &b),
                (&b, &a),
                (&extended, &a),
                (&a, &extended),
                (&shouted, &a),
                (&curly, &a),
                (&a, &curly),
            ] {
                prop_assert_eq!(letters_may_start_with(text, prefix), letters_may_start_with_any(text, prefix));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        // Uniform hashes, hashes that share their top bits (the quadratic
        // case the move budget guards), and heavy repeats, at sizes on both
        // sides of the bucketing cut-off; the scratch is reused across them.
        #[test]
        fn sort_set_equals_a_comparison_sort_and_dedup(
            uniform in proptest::collection::vec(any::<u64>(), 0..3000),
            clustered in proptest::collection::vec(0u64..4096, 0..3000),
            repeats in proptest::collection::vec(0u64..8, 0..600),
            top in any::<u64>(),
        ) {
            let mut scratch = SetScratch::default();
            let shared_top = clustered.iter().map(|&v| (top << 20) | v).collect::<Vec<_>>();
            let repeated = repeats.iter().map(|&v| v.wrapping_mul(0x9E37_79B9_7F4A_7C15)).collect::<Vec<_>>();
            for input in [uniform, shared_top, repeated] {
                let mut expected = input.clone();
                expected.sort_unstable();
                expected.dedup();
                let mut got = input;
                sort_set(&mut got, &mut scratch);
                prop_assert_eq!(got, expected);
            }
        }
    }

    fn norm(s: &str) -> String {
        let mut out = String::new();
        normalize_into(s, &mut out);
        out
    }

    fn shingles(s: &str, sh: Shingling) -> Vec<String> {
        // Recover shingle texts by hashing candidate windows: simpler to
        // assert on counts and on equality of hash sets.
        let mut v = Vec::new();
        for_each_shingle_hash(norm(s).as_bytes(), sh, 0, |h| v.push(h.to_string()));
        v
    }

    #[test]
    fn folds_case_punctuation_quotes_and_width() {
        assert_eq!(norm("  Hello,   WORLD!! "), "hello world");
        assert_eq!(norm("Kremlin’s"), norm("Kremlin's"));
        // Regression: U+02BC was dropped on the fast path but kept when the
        // word needed NFKC.
        assert_eq!(norm("ʼfine day"), norm("ʼﬁne day"));
        assert_eq!(norm("“quoted”"), norm("\"quoted\""));
        // NFKC folds full-width digits and letters.
        assert_eq!(norm("ＡＢＣ １２３"), "abc 123");
        assert_eq!(norm("Straße ÉTÉ"), "straße été");
        assert_eq!(norm("...!!!"), "");
        assert_eq!(norm(""), "");
    }

    #[test]
    fn word_shingle_counts() {
        let five = Shingling::Words(5);
        assert_eq!(shingles("a b c d e f g", five).len(), 3);
        assert_eq!(shingles("a b c d e", five).len(), 1);
        // Shorter than one shingle: one shingle, the whole text.
        assert_eq!(shingles("a b", five).len(), 1);
        assert_eq!(shingles("", five).len(), 0);
    }

    #[test]
    fn short_documents_differ_unless_equal() {
        let five = Shingling::Words(5);
        assert_ne!(shingle_set("Breaking.", five, 1), shingle_set("Updated.", five, 1));
        assert_eq!(shingle_set("Breaking.", five, 1), shingle_set("breaking", five, 1));
    }

    #[test]
    fn word_shingle_is_hash_of_its_text() {
        let set = shingle_set("One two three. Four", Shingling::Words(3), 7);
        let mut expect = vec![xxh3_64_with_seed(b"one two three", 7), xxh3_64_with_seed(b"two three four", 7)];
        expect.sort_unstable();
        assert_eq!(set, expect);
    }

    #[test]
    fn char_shingles() {
        let set = shingle_set("abcd", Shingling::Chars(3), 0);
        let mut expect = vec![xxh3_64_with_seed(b"abc", 0), xxh3_64_with_seed(b"bcd", 0)];
        expect.sort_unstable();
        assert_eq!(set, expect);
        // Multi-byte characters are counted as characters.
        assert_eq!(shingles("ééé", Shingling::Chars(2)).len(), 2);
        assert_eq!(shingles("é", Shingling::Chars(2)).len(), 1);
    }

    #[test]
    fn jaccard_of_sets() {
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard(&[], &[]), 0.0);
        assert_eq!(jaccard(&[1], &[1]), 1.0);
    }
}
