//! Lines and words: splitting a text into its lines, the keys a line is
//! known by in the learned tables (its normalised text, its template, the
//! letters at its ends, a tail glued after a separator), and fast word counts.

use xxhash_rust::xxh3::xxh3_64;

use super::{LineDecision, lang};

/// Where a short tail glued to a line after a separator starts, and the
/// tail's key: `Headline | The Paper` -> (start of ` | The Paper`, key of
/// `the paper`). Tails of up to five words after ` | `, ` :: `, ` — `,
/// ` – ` or ` - ` count.
pub(super) fn glued_tail(line: &str, buf: &mut Vec<u8>) -> Option<(usize, u64)> {
    // Headlines and labels, not paragraphs.
    if line.len() > 300 {
        return None;
    }
    let trimmed = line.trim_end();
    let (at, sep) = rightmost_separator(trimmed.as_bytes())?;
    let tail = &trimmed[at + sep.len()..];
    let head = &trimmed[..at];
    if words_upto(tail, 6) > 5 || words_upto(head, 3) < 3 {
        return None;
    }
    let (key, _) = line_key(tail, buf)?;
    Some((at, key))
}

/// The separators a glued tail may follow.
const TAIL_SEPARATORS: [&str; 5] = [" | ", " :: ", " — ", " – ", " - "];

/// The rightmost of [`TAIL_SEPARATORS`] in `bytes` and where it starts.
///
/// Each separator is a space and then `|`, `:`, `-` or the lead byte of a
/// dash (0xE2), so only those bytes are visited, from the right, two vector
/// searches merged: visiting every space, as this first did, cost a few
/// hundred instructions a headline in both passes. At most one separator
/// starts at any byte, so the first found is the rightmost.
fn rightmost_separator(bytes: &[u8]) -> Option<(usize, &'static str)> {
    let mut ascii = memchr::memrchr3_iter(b'|', b':', b'-', bytes).peekable();
    let mut dashes = memchr::memrchr_iter(0xE2, bytes).peekable();
    loop {
        let j = match (ascii.peek(), dashes.peek()) {
            (None, None) => return None,
            (Some(&a), Some(&d)) if d > a => dashes.next(),
            (Some(_), _) => ascii.next(),
            (None, Some(_)) => dashes.next(),
        }?;
        let Some(i) = j.checked_sub(1) else { continue };
        if let Some(sep) = TAIL_SEPARATORS.into_iter().find(|sep| bytes[i..].starts_with(sep.as_bytes())) {
            return Some((i, sep));
        }
    }
}

/// The key of a line's letters at both ends, digits masked (see
/// `shingle::ends_key`); `buf` is scratch for a line whose ends need NFKC.
pub(super) fn line_ends_key(line: &str, buf: &mut Vec<u8>) -> u64 {
    crate::shingle::ends_key(line).unwrap_or_else(|| {
        crate::shingle::normalize_bytes(line, buf);
        crate::shingle::ends_key_normalized(buf)
    })
}

/// Whitespace-separated words, counted up to `limit`: enough to compare
/// with a threshold without walking a long paragraph. A line whose spaces
/// are all ASCII is counted on bytes; any other goes through
/// `split_whitespace`, which knows Unicode's spaces.
pub(super) fn words_upto(line: &str, limit: usize) -> usize {
    if has_unicode_space(line) {
        return line.split_whitespace().take(limit).count();
    }
    count_pairs_upto(line.as_bytes(), limit, |before, b| is_ascii_space(before) & !is_ascii_space(b))
}

/// Whether `line` holds whitespace beyond ASCII (a no-break space, an em
/// space...). Each such character starts with one of four bytes; a news
/// line holds few of them, mostly curly quotes, told apart by decoding.
fn has_unicode_space(line: &str) -> bool {
    let bytes = line.as_bytes();
    let is_space_at = |i: usize| line.get(i..).and_then(|s| s.chars().next()).is_some_and(char::is_whitespace);
    memchr::memchr3_iter(0xC2, 0xE1, 0xE2, bytes).any(is_space_at) || memchr::memchr_iter(0xE3, bytes).any(is_space_at)
}

/// ASCII whitespace as `char::is_whitespace` has it (with the vertical tab).
pub(super) fn is_ascii_space(b: u8) -> bool {
    // Without a branch, so that it vectorises.
    (b == b' ') | (b.wrapping_sub(b'\t') < 5)
}

/// The positions of `bytes` where `start(byte before, byte)` holds (the
/// first byte has a space before it), counted up to `limit`.
///
/// Counted a block at a time, with no state carried from byte to byte, so
/// that the compiler turns each block into vector code: a word counter
/// that tracked whether it was inside a word cost four or five
/// instructions a byte, and counting words was a tenth of the cleaner.
pub(super) fn count_pairs_upto(bytes: &[u8], limit: usize, start: impl Fn(u8, u8) -> bool) -> usize {
    const BLOCK: usize = 64;
    let Some(&first) = bytes.first() else { return 0 };
    let mut count = usize::from(start(b' ', first));
    let mut at = 0;
    while at + 1 < bytes.len() && count < limit {
        let end = (at + 1 + BLOCK).min(bytes.len());
        let pairs = bytes[at..end - 1].iter().zip(&bytes[at + 1..end]);
        // Byte lanes: a block's count fits in a u8.
        let in_block = pairs.fold(0u8, |n, (&before, &b)| n.wrapping_add(u8::from(start(before, b))));
        count += usize::from(in_block);
        at = end - 1;
    }
    count.min(limit)
}

/// True when a normalised line has at least `k` words, counting no further.
pub(super) fn has_words(normalized: &[u8], k: usize) -> bool {
    k == 0 || (!normalized.is_empty() && memchr::memchr_iter(b' ', normalized).take(k - 1).count() == k - 1)
}

fn words_of(normalized: &[u8]) -> usize {
    if normalized.is_empty() { 0 } else { normalized.iter().filter(|&&b| b == b' ').count() + 1 }
}

/// The key of a line for boilerplate tables: the hash of its normalised
/// text and its word count, or `None` for a line with no words.
///
/// Digits are masked, so a line a site repeats with a different count or
/// time on every page (`312 comments`, `Listen to this article · 4:32`) has
/// one key.
/// `buf` is scratch, reused from line to line: the line is normalised and
/// masked in it, in place.
pub(super) fn line_key(line: &str, buf: &mut Vec<u8>) -> Option<(u64, usize)> {
    crate::shingle::normalize_bytes(line, buf);
    if buf.is_empty() {
        return None;
    }
    for b in buf.iter_mut().filter(|b| b.is_ascii_digit()) {
        *b = b'0';
    }
    Some((xxh3_64(buf), words_of(buf)))
}

/// The key of a line's template: its words with names and numbers masked,
/// so that a site's furniture that names a different person, place or date
/// on every page (`By Ana Ruiz | June 3, 2024`, `A view of the crowd as
/// Ana Ruiz takes the stage in Lima.`) has one key. `None` when nothing is
/// masked (the line's own key does) or fewer than two words are left
/// (`Ana Ruiz`, `June 3`: a name or a date alone is no template), and for
/// a line in a script without spaces or capitals.
///
/// A word is masked as a name when it starts with a capital, unless it is
/// the line's first and a stopword (`By`, `The`, `A`: a sentence's first
/// word; further in, `Li` or `Will` is a name), as a number when it holds a digit;
/// a run of names (or of numbers) is one mask. Other words are kept in
/// lower case, without the punctuation around them; a token of symbols
/// only (`|`, `•`, `»`) is kept as it is and counts as a kept word, one of
/// sentence punctuation only is dropped. `buf` is left holding the
/// template, readable: `X` for a name, `0` for a number (a kept word is in
/// lower case and holds no digit, so neither is ever a kept word).
pub(super) fn template_key(line: &str, buf: &mut Vec<u8>) -> Option<u64> {
    // Most lines are ASCII, and a word's bytes are then its characters:
    // lowering them one `char::to_lowercase` at a time was a fifth of
    // cleaning a real news corpus.
    match line.is_ascii() {
        true => template_key_ascii(line.as_bytes(), buf),
        false => template_key_chars(line, buf),
    }
}

/// A template's masks: a name, a number.
const NAME: u8 = 1;
const NUMBER: u8 = 2;

/// A template as its words are written: kept words and masks so far.
#[derive(Default)]
struct Template {
    literal: usize,
    masked: usize,
    last_mask: u8,
}

impl Template {
    /// Ends a word: a kept word (mask 0, already in `buf`) takes a space; a
    /// mask is written unless the word before had the same one.
    fn push(&mut self, mask: u8, buf: &mut Vec<u8>) {
        if mask == 0 {
            self.literal += 1;
            buf.push(b' ');
        } else if mask != self.last_mask {
            self.masked += 1;
            buf.extend_from_slice(if mask == NAME { b"X " } else { b"0 " });
        }
        self.last_mask = mask;
    }

    /// The key: two kept words and a mask at least.
    fn key(&self, buf: &[u8]) -> Option<u64> {
        (self.literal >= 2 && self.masked >= 1).then(|| xxh3_64(buf))
    }
}

/// [`template_key`] of an ASCII line, on its bytes.
fn template_key_ascii(line: &[u8], buf: &mut Vec<u8>) -> Option<u64> {
    buf.clear();
    let mut template = Template::default();
    // `char::is_whitespace` on ASCII, which `u8::is_ascii_whitespace` is
    // not: it leaves out the vertical tab.
    let words = line.split(|b| matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')).filter(|w| !w.is_empty());
    for (i, word) in words.enumerate() {
        let mask = match word.iter().position(u8::is_ascii_alphanumeric) {
            None if word
                .iter()
                .all(|b| matches!(b, b'.' | b',' | b';' | b':' | b'!' | b'?' | b'"' | b'\'' | b'(' | b')')) =>
            {
                continue;
            }
            None => {
                buf.extend_from_slice(word);
                0
            }
            Some(first) => {
                let last = word.iter().rposition(u8::is_ascii_alphanumeric).unwrap_or(first);
                let core = &word[first..=last];
                let start = buf.len();
                if core.iter().any(u8::is_ascii_digit) {
                    NUMBER
                } else if core[0].is_ascii_uppercase() {
                    buf.extend(core.iter().map(u8::to_ascii_lowercase));
                    let lower = std::str::from_utf8(&buf[start..]).unwrap_or_default();
                    if i == 0 && lang::is_capitalising_stopword(lower) {
                        0
                    } else {
                        buf.truncate(start);
                        NAME
                    }
                } else {
                    buf.extend(core.iter().map(u8::to_ascii_lowercase));
                    0
                }
            }
        };
        template.push(mask, buf);
    }
    template.key(buf)
}

/// [`template_key`] of any line, on its characters.
fn template_key_chars(line: &str, buf: &mut Vec<u8>) -> Option<u64> {
    buf.clear();
    let mut template = Template::default();
    for (i, word) in line.split_whitespace().enumerate() {
        let core = word.trim_matches(|c: char| !c.is_alphanumeric());
        // A kept word is written in lower case straight into `buf`, and
        // taken back if it turns out to be a name.
        let start = buf.len();
        let push_lower = |buf: &mut Vec<u8>| {
            for c in core.chars().flat_map(char::to_lowercase) {
                buf.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            }
        };
        let mask = match core.chars().next() {
            None if word.chars().all(|c| matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | '"' | '\'' | '(' | ')')) => {
                continue;
            }
            None => {
                buf.extend_from_slice(word.as_bytes());
                0
            }
            Some(c) if lang::is_unspaced(c) => return None,
            Some(_) if core.chars().any(|c| c.is_numeric()) => NUMBER,
            Some(c) if c.is_uppercase() => {
                push_lower(buf);
                let lower = std::str::from_utf8(&buf[start..]).unwrap_or_default();
                if i == 0 && lang::is_capitalising_stopword(lower) {
                    0
                } else {
                    buf.truncate(start);
                    NAME
                }
            }
            Some(_) => {
                push_lower(buf);
                0
            }
        };
        template.push(mask, buf);
    }
    template.key(buf)
}

/// Non-blank lines with their byte ranges (without the line break or a `\r`).
pub(super) fn split_lines<'r>(text: &str) -> Vec<LineDecision<'r>> {
    // Sized once: grown a push at a time, a page's lines were copied four
    // or five times over.
    let mut out = Vec::with_capacity(memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1);
    for (start, piece) in newline_pieces(text) {
        let body = piece.trim_end_matches('\r');
        if !body.trim().is_empty() {
            out.push(LineDecision { start, end: start + body.len(), ..Default::default() });
        }
    }
    out
}

/// The largest character boundary of `s` at or below `at` (the standard
/// library's `floor_char_boundary` is newer than this crate's oldest Rust).
pub(super) fn floor_boundary(s: &str, at: usize) -> usize {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// `text.split('\n')` with each piece's byte offset, found with the
/// `memchr` crate's vector search (the standard library's own scan for a
/// `char` was a few percent of cleaning and learning).
pub(super) fn newline_pieces(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', text.as_bytes()).map(Some).chain([None]).map(move |newline| {
        let end = newline.unwrap_or(text.len());
        // A line break is ASCII: both ends are character boundaries.
        let piece = (start, &text[start..end]);
        start = end + 1;
        piece
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest::proptest! {
        // The byte walk of an ASCII line's template is the character walk.
        #[test]
        fn an_ascii_template_is_the_character_template(
            words in proptest::collection::vec(
                "(By|The|A|In|[A-Z][a-z]{0,6}|[a-z]{1,7}|[0-9]{1,4}|[a-z]+[0-9]|[|•:.,!?()\"'-]{1,2}|\\([A-Z][a-z]+\\)|[A-Za-z]{1,3}[.,:;]?)",
                0..12,
            ),
            spaces in proptest::collection::vec("[ \t\u{b}\u{c}\r]{1,2}", 12),
        ) {
            let line: String = words.iter().zip(&spaces).flat_map(|(w, s)| [w.as_str(), s.as_str()]).collect();
            let line: String = line.chars().filter(char::is_ascii).collect();
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            let fast_key = template_key_ascii(line.as_bytes(), &mut fast);
            let slow_key = template_key_chars(&line, &mut slow);
            proptest::prop_assert_eq!(fast_key, slow_key, "{:?}", line);
            proptest::prop_assert_eq!(fast, slow);
        }

        #[test]
        fn newline_pieces_are_split_on_line_breaks(text in "[a\n\r é]{0,30}") {
            let pieces: Vec<&str> = super::newline_pieces(&text).map(|(_, p)| p).collect();
            proptest::prop_assert_eq!(pieces, text.split('\n').collect::<Vec<_>>());
            for (start, piece) in super::newline_pieces(&text) {
                proptest::prop_assert_eq!(&text[start..start + piece.len()], piece);
            }
        }

        // The separator search visits only the bytes a separator holds: it
        // finds what visiting every space from the right finds.
        #[test]
        fn the_rightmost_separator_is_found_as_from_every_space(
            line in "[ a|:\\-—–x]{0,40}",
        ) {
            let bytes = line.as_bytes();
            let from_spaces = memchr::memrchr_iter(b' ', bytes).find_map(|i| {
                super::TAIL_SEPARATORS.into_iter().find(|sep| bytes[i..].starts_with(sep.as_bytes())).map(|sep| (i, sep))
            });
            proptest::prop_assert_eq!(super::rightmost_separator(bytes), from_spaces);
        }
    }

    #[test]
    fn templates_mask_names_and_numbers() {
        let mut buf = Vec::new();
        let mut template =
            |line: &str| template_key(line, &mut buf).map(|_| String::from_utf8_lossy(&buf).into_owned());
        assert_eq!(template("By Ana Ruiz | June 3, 2024").as_deref(), Some("by X | X 0 "));
        assert_eq!(template("By Li Wei | May 12, 2023"), template("By Ana Ruiz | June 3, 2024"));
        assert_eq!(
            template("A view of the crowd as Ana Ruiz takes the stage in Lima.").as_deref(),
            Some("a view of the crowd as X takes the stage in X ")
        );
        assert_eq!(template("Follow Ana on Twitter @anaruiz").as_deref(), Some("X on X anaruiz "));
        assert_eq!(template("Image: Ana Ruiz / Reuters").as_deref(), None);
        assert_eq!(template("Photo by Ana Ruiz / Reuters").as_deref(), Some("X by X / X "));
        // Nothing masked, a name or a date alone, a script without spaces.
        for line in ["said the union today.", "Ana Ruiz", "June 3, 2024", "Ana: 12", "東京 Tokyo 電力 power cut", ""]
        {
            assert_eq!(template(line), None, "{line}");
        }
    }

    proptest! {
        // The byte path for ASCII lines must count as `split_whitespace` does.
        #[test]
        fn words_upto_counts_as_split_whitespace(line in "[ a-z.\\t\\x0b\\x0c\\r\\u{a0}\\u{2003}\\u{3000}\\u{1680}\\u{85}é’“]{0,40}", limit in 0usize..12) {
            prop_assert_eq!(words_upto(&line, limit), line.split_whitespace().take(limit).count());
        }
    }
}
