//! JSON text helpers: skipping white space and flat values, decoding a
//! string token (escapes, surrogate pairs) and writing a string exactly as
//! serde_json writes it.

use std::borrow::Cow;

/// The index of the first byte at or after `i` that is not JSON white space.
pub(super) fn skip_json_space(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = b.get(i) {
        i += 1;
    }
    i
}

/// Whether `run` holds a byte below 0x20, which a JSON string may not.
/// Folded without an early exit, so that it compiles to vector code.
pub(super) fn has_control_byte(run: &[u8]) -> bool {
    run.iter().fold(false, |any, &c| any | (c < 0x20))
}

/// Inside a string, the next quote or backslash at or after `run`; `None`
/// when there is none or a control byte comes first (not well formed).
fn string_stop(b: &[u8], run: usize) -> Option<usize> {
    let at = run + memchr::memchr2(b'"', b'\\', &b[run..])?;
    (!has_control_byte(&b[run..at])).then_some(at)
}

/// The string token at `start` (a quote): its value, borrowed when it holds
/// no escape, and the index past its closing quote; why not, when it is not
/// well formed.
///
/// serde_json decodes a string a byte and an escape at a time; news text
/// has an escape on every line (`\n`), and decoding it that way was a tenth
/// of the cleaner's time. Here the runs between escapes are found with
/// `memchr` and copied whole. Surrogates must pair, as serde_json requires
/// of a string.
pub(super) fn decode_json_string(text: &str, start: usize) -> std::result::Result<(Cow<'_, str>, usize), &'static str> {
    let b = text.as_bytes();
    let mut decoded: Option<String> = None;
    let mut run = start + 1;
    loop {
        let at = string_stop(b, run).ok_or("unterminated string or control character in a string")?;
        if b[at] == b'"' {
            let value = match decoded {
                None => Cow::Borrowed(&text[start + 1..at]),
                Some(mut s) => {
                    s.push_str(&text[run..at]);
                    Cow::Owned(s)
                }
            };
            return Ok((value, at + 1));
        }
        // At most the rest of the record: no growing on the way.
        let s = decoded.get_or_insert_with(|| String::with_capacity(b.len() - start));
        s.push_str(&text[run..at]);
        let (c, end) = json_escape(text, at)?;
        s.push(c);
        run = end;
    }
}

/// The end of the flat value at `start`: a string without `\u` escapes, a
/// number, `true`, `false` or `null`. `None` for anything else.
pub(super) fn skip_flat_value(b: &[u8], start: usize) -> Option<usize> {
    let digits = |mut i: usize| {
        let from = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        (i > from).then_some(i)
    };
    match *b.get(start)? {
        b'"' => {
            let mut run = start + 1;
            loop {
                let at = string_stop(b, run)?;
                if b[at] == b'"' {
                    return Some(at + 1);
                }
                match b.get(at + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => run = at + 2,
                    _ => return None,
                }
            }
        }
        b'-' | b'0'..=b'9' => {
            // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
            let mut i = start + usize::from(b[start] == b'-');
            i = match b.get(i)? {
                b'0' => i + 1,
                b'1'..=b'9' => digits(i)?,
                _ => return None,
            };
            if b.get(i) == Some(&b'.') {
                i = digits(i + 1)?;
            }
            if let Some(b'e' | b'E') = b.get(i) {
                i += 1;
                if let Some(b'+' | b'-') = b.get(i) {
                    i += 1;
                }
                i = digits(i)?;
            }
            Some(i)
        }
        first => {
            let word: &[u8] = match first {
                b't' => b"true",
                b'f' => b"false",
                b'n' => b"null",
                _ => return None,
            };
            b[start..].starts_with(word).then_some(start + word.len())
        }
    }
}

/// The value of a JSON string token (`raw`, with its quotes) that serde_json
/// has checked already (every escape well formed), borrowed when it holds
/// no escape: see [`decode_json_string`].
pub(crate) fn json_string_value(raw: &str) -> std::result::Result<Cow<'_, str>, &'static str> {
    if !raw.starts_with('"') {
        return Err("not a string");
    }
    match decode_json_string(raw, 0)? {
        (value, end) if end == raw.len() => Ok(value),
        _ => Err("not a string"),
    }
}

/// The character the escape at `at` in `s` (a backslash) stands for, and
/// where the escape ends. Surrogates must pair, as serde_json requires.
fn json_escape(s: &str, at: usize) -> std::result::Result<(char, usize), &'static str> {
    let hex4 = |at: usize| -> std::result::Result<u32, &'static str> {
        let digits = s.get(at..at + 4).ok_or("short \\u escape")?;
        // from_str_radix would take a sign.
        if !digits.bytes().all(|d| d.is_ascii_hexdigit()) {
            return Err("bad \\u escape");
        }
        u32::from_str_radix(digits, 16).map_err(|_| "bad \\u escape")
    };
    let mut end = at + 2;
    let c = match s.as_bytes().get(at + 1).ok_or("escape at the end")? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let unit = hex4(at + 2)?;
            end = at + 6;
            let code = if (0xD800..0xDC00).contains(&unit) {
                // A leading surrogate needs a trailing one right after.
                let low = match s.get(end..end + 2) {
                    Some("\\u") => hex4(end + 2)?,
                    _ => return Err("lone surrogate in a \\u escape"),
                };
                if !(0xDC00..0xE000).contains(&low) {
                    return Err("lone surrogate in a \\u escape");
                }
                end += 6;
                0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            } else {
                unit
            };
            // A trailing surrogate alone is no character.
            char::from_u32(code).ok_or("lone surrogate in a \\u escape")?
        }
        _ => return Err("bad escape"),
    };
    Ok((c, end))
}

pub(super) fn json_kind(raw: &str) -> &'static str {
    match raw.as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

pub(crate) fn json_string(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    push_json_string(&mut out, s);
    // Escaping keeps UTF-8 valid: only ASCII bytes are replaced.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends `s` as a JSON string, byte for byte what `serde_json` writes.
///
/// News text needs escaping rarely, and nearly only for quotes and line
/// breaks. A text whose only control bytes are line breaks (one pass,
/// which the compiler turns into vector code, tells) is escaped by a
/// vector search for its quotes, backslashes and line breaks, copying the
/// runs between them whole: the word-at-a-time tests below cost about two
/// instructions a byte, and escaping was a tenth of the cleaning pass.
pub(crate) fn push_json_string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // Blocks, so that the test stops early without losing its vector code.
    let other_controls =
        bytes.chunks(256).any(|block| block.iter().fold(false, |any, &b| any | ((b < 0x20) & (b != b'\n'))));
    if other_controls {
        return push_json_string_any(out, s);
    }
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut copied = 0;
    for i in memchr::memchr3_iter(b'"', b'\\', b'\n', bytes) {
        out.extend_from_slice(&bytes[copied..i]);
        out.extend_from_slice(match bytes[i] {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            _ => b"\\n",
        });
        copied = i + 1;
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
}

/// [`push_json_string`] for any text.
///
/// serde_json looks up every byte in a table; text needs escaping rarely
/// (a quote or line break every hundred bytes or so of news), so this
/// tests eight bytes at a time, jumps to the first one that needs escaping,
/// and copies the runs between escapes whole. Stepping a byte at a time
/// through a word that held an escape, as it first did, cost as much again
/// as the tests.
fn push_json_string_any(out: &mut Vec<u8>, s: &str) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte of `w` below `n` (for n <= 0x80). Exact up
    // to the first such byte: a borrow may mark bytes after it, never before.
    let below = |w: u64, n: u64| w.wrapping_sub(ONES * n) & !w & HIGH;
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(chunk) = bytes.get(i..i + 8) {
            let w =
                u64::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7]]);
            // A control byte (below 0x20), a quote or a backslash: a zero
            // after xor with either is a byte below one.
            let special =
                below(w, 0x20) | below(w ^ (ONES * u64::from(b'"')), 1) | below(w ^ (ONES * u64::from(b'\\')), 1);
            if special == 0 {
                i += 8;
                continue;
            }
            // Little-endian: the lowest marked byte is the first special one.
            i += (special.trailing_zeros() / 8) as usize;
        }
        let b = bytes[i];
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0C => b"\\f",
            0..=0x1F => b"",
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[copied..i]);
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xF)]]);
        } else {
            out.extend_from_slice(short);
        }
        i += 1;
        copied = i;
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // Records are rewritten with this escaper and read back by serde:
        // it must write exactly what serde_json writes.
        #[test]
        fn json_strings_are_escaped_as_serde_json_does(
            s in "(?s)[\\x00-\\x20\"\\\\a-z\\x7f é’😀]{0,40}",
            // Text whose only control bytes are line breaks takes the vector path.
            prose in "(?s)[\n\"\\\\a-z\\x7f é’😀]{0,300}",
        ) {
            prop_assert_eq!(json_string(&s), serde_json::to_string(&s).unwrap());
            prop_assert_eq!(json_string(&prose), serde_json::to_string(&prose).unwrap());
            // A control byte past the first block of the scan for them.
            let late = format!("{prose}{}\t{s}", "a".repeat(300));
            prop_assert_eq!(json_string(&late), serde_json::to_string(&late).unwrap());
        }
    }

    /// A JSON string for `s` with each character escaped or not as `escape`
    /// says (`\uXXXX`, surrogate pairs beyond the BMP).
    fn escaped(s: &str, escape: &[bool]) -> String {
        let mut out = String::from("\"");
        for (c, &e) in s.chars().zip(escape.iter().cycle()) {
            if e || c == '"' || c == '\\' || c < ' ' {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04X}"));
                }
            } else {
                out.push(c);
            }
        }
        out.push('"');
        out
    }

    proptest! {
        // The text field is decoded without serde_json: it must give what
        // serde_json gives, for every way of writing the same string.
        #[test]
        fn text_values_decode_as_serde_json_decodes(
            s in "(?s)[\\x00-\\x20\"\\\\/a-z\\x7f é’😀\u{10ffff}]{0,30}",
            escape in proptest::collection::vec(any::<bool>(), 1..8),
        ) {
            for raw in [serde_json::to_string(&s).unwrap(), escaped(&s, &escape)] {
                prop_assert_eq!(json_string_value(&raw).unwrap(), s.as_str(), "{}", raw);
                prop_assert_eq!(serde_json::from_str::<String>(&raw).unwrap(), s.as_str());
            }
        }
    }
}
