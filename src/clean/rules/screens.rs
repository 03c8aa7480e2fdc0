//! The prefilters behind the pattern searches: a loose regex in front of
//! each exact one, patterns that need a rare byte searched apart, and the
//! analysis of parsed patterns (the bytes and literals every match holds, how
//! much text a match can hold) that tells which lines a search can skip.

use regex_automata::meta::Regex;
use regex_automata::nfa::thompson::WhichCaptures;
use regex_syntax::hir::{self, Hir, HirKind};

/// A regex behind a looser one that matches wherever it does.
///
/// The junk patterns bound their spans (`^.{0,200}\bcookies`, `[^|]{1,60}$`)
/// so that they never reach deep into a paragraph. A lazy DFA pays for each
/// bound: its states count how far a span has run, and with a few dozen
/// partly matched words alongside, nearly every line built states of its own
/// (state building was most of the cleaner's regex time). The loose regex
/// leaves wide bounds open (`.*`), so its few states are built once and
/// then reused; it fails on almost every line, and only where it matches
/// does the exact regex decide.
#[derive(Debug, Clone)]
pub(super) struct Screened {
    pub(super) exact: Regex,
    /// None when the pattern has no wide bound to loosen.
    pub(super) loose: Option<Regex>,
}

impl Screened {
    /// The error is the build error's message (the rule names itself).
    pub(super) fn new(pattern: &Hir, captures: WhichCaptures) -> std::result::Result<Screened, String> {
        let config = regex_automata::meta::Config::new()
            .which_captures(captures)
            .nfa_size_limit(Some(100 << 20))
            // The alternations outgrow the default 2 MB lazy-DFA cache,
            // which then keeps rebuilding states.
            .hybrid_cache_capacity(32 << 20);
        let build = |hir: &Hir, config: regex_automata::meta::Config| {
            regex_automata::meta::Builder::new().configure(config).build_from_hir(hir).map_err(|e| e.to_string())
        };
        let mut loosened = false;
        let loose = rebuild(pattern, true, 1, &mut loosened);
        // The loose regex only answers whether: it needs no captures.
        let loose = match loosened {
            true => Some(build(&loose, config.clone().which_captures(WhichCaptures::None))?),
            false => None,
        };
        Ok(Screened { exact: build(pattern, config)?, loose })
    }

    pub(super) fn is_match(&self, haystack: &[u8]) -> bool {
        self.loose.as_ref().is_none_or(|re| re.is_match(haystack)) && self.exact.is_match(haystack)
    }

    pub(super) fn find(&self, haystack: &[u8]) -> Option<regex_automata::Match> {
        if self.loose.as_ref().is_some_and(|re| !re.is_match(haystack)) {
            return None;
        }
        self.exact.find(haystack)
    }
}

/// A rule's alternation searched a pattern at a time where a pattern needs
/// a rare byte: such a pattern runs only on a line that holds the byte
/// (one `memchr`), and the patterns that need none run as one alternation.
///
/// Every match of `\s*\|\s*image\s*:\s*[^|]{1,60}$` holds a `|`, and
/// nearly no paragraph does. Searched inside the alternation, though, such
/// a pattern walks back its 60 bytes from the end of every line, alongside
/// the others: the glued-credit search was a fifth of the cleaning pass.
///
/// The result is the alternation's: its leftmost-first match starts where
/// the earliest of the parts' matches starts, and is that part's match when
/// no other part starts there too. When two do, the pattern order decides,
/// which only the alternation knows, so it is asked.
#[derive(Debug, Clone)]
pub(super) struct ByteScreens {
    /// A pattern alone, the byte each of its matches holds, and the tail
    /// its matches lie in (see [`end_tail_text`]).
    alone: Vec<(u8, Screened, Option<usize>)>,
    /// The patterns that need no rare byte, as one alternation.
    rest: Option<Screened>,
    /// Strings one of which every match of `rest` holds (see
    /// [`required_literals`]), when there is such a set.
    pub(super) rest_literals: Option<Vec<Vec<u8>>>,
    /// Searchers for `rest_literals`, and the tail `rest`'s matches lie in.
    rest_tail: Option<(Vec<memchr::memmem::Finder<'static>>, usize)>,
}

/// For a pattern whose every match ends at the end of the line (`...$`)
/// and holds at most this many bytes besides white space (see
/// [`max_text_bytes`]): matches then lie in the line's tail that holds no
/// more, and a byte or a literal they need can be looked for there alone.
///
/// The glued credit's patterns end their lines: `... | Image: X`, `...
/// said. Photo by Name`. Searched for on the whole line (the byte `|`, or
/// a credit's words found anywhere by the keyword scan), their regexes
/// walked back over the line's last sentence for nothing, on every
/// paragraph longer than the keyword scan reads.
fn end_tail_text(hir: &Hir) -> Option<usize> {
    hir.properties().look_set_suffix().contains(hir::Look::End).then(|| max_text_bytes(hir)).flatten()
}

/// Where the tail of `line` begins that holds every match of a pattern
/// ending the line with at most `most` bytes of text (see
/// [`end_tail_text`]): at or before the match's start.
fn tail_start(line: &[u8], most: usize) -> usize {
    // Back from the end a 32-byte block at a time until the blocks hold
    // more text than a match can. A match starts past the last of those
    // bytes of text, white space it begins with included, so past the
    // block that holds it. Bytes above the space are counted as text (a
    // control byte is not white space, but counting fewer only lengthens
    // the tail), so that a block counts as one vector.
    let mut start = line.len();
    let mut text = 0usize;
    while start >= 32 && text <= most {
        let (block, _) = line[start - 32..start].as_chunks::<32>();
        text += block.iter().map(|b| usize::from(b.iter().fold(0u8, |n, &b| n + u8::from(b > b' ')))).sum::<usize>();
        start -= 32;
    }
    if text <= most { 0 } else { start }
}

/// Whether `tail` holds one of the literals `finders` look for (in lower
/// case), ASCII case aside; true when the tail is too long to copy.
fn tail_holds_literal(tail: &[u8], finders: &[memchr::memmem::Finder<'static>]) -> bool {
    let mut lower = [0u8; 512];
    let Some(lower) = lower.get_mut(..tail.len()) else { return true };
    for (l, b) in lower.iter_mut().zip(tail) {
        *l = b.to_ascii_lowercase();
    }
    finders.iter().any(|f| f.find(lower).is_some())
}

/// Bytes too common in text to screen lines by: letters, digits, spaces and
/// the punctuation of every sentence.
fn is_common_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b.is_ascii_whitespace() || b".,'\"-:;!?".contains(&b)
}

impl ByteScreens {
    /// `None` when no pattern needs a rare byte: the alternation alone is best.
    pub(super) fn new(trees: &[Hir]) -> std::result::Result<Option<ByteScreens>, String> {
        let needs: Vec<Option<u8>> = trees
            .iter()
            .map(|t| {
                let required = required_bytes(t);
                (0..=255u8).find(|&b| !is_common_byte(b) && required[usize::from(b)])
            })
            .collect();
        if needs.iter().all(Option::is_none) {
            return Ok(None);
        }
        let mut alone = Vec::new();
        let mut rest = Vec::new();
        for (tree, need) in trees.iter().zip(needs) {
            match need {
                Some(b) => alone.push((b, Screened::new(tree, WhichCaptures::Implicit)?, end_tail_text(tree))),
                None => rest.push(tree.clone()),
            }
        }
        if rest.is_empty() {
            return Ok(Some(ByteScreens { alone, rest: None, rest_literals: None, rest_tail: None }));
        }
        let rest = Hir::alternation(rest);
        let rest_literals = required_literals(&rest).filter(|set| set.iter().all(|l| !l.is_empty()));
        let rest_tail = rest_literals
            .as_ref()
            .zip(end_tail_text(&rest))
            .map(|(set, most)| (set.iter().map(|l| memchr::memmem::Finder::new(l).into_owned()).collect(), most));
        let rest = Some(Screened::new(&rest, WhichCaptures::Implicit)?);
        Ok(Some(ByteScreens { alone, rest, rest_literals, rest_tail }))
    }

    /// The alternation's first match; `rest_literal` is false when the
    /// haystack is known to hold none of `rest_literals`, which spares the
    /// search of `rest`.
    pub(super) fn find(
        &self,
        haystack: &[u8],
        combined: &Screened,
        rest_literal: bool,
    ) -> Option<regex_automata::Match> {
        // Each tail is found only for a regex about to run, the line being
        // found to hold what the regex needs.
        let tail = |most: usize| &haystack[tail_start(haystack, most)..];
        let rest =
            self.rest.as_ref().filter(|_| rest_literal || self.rest_literals.is_none()).filter(|_| {
                self.rest_tail.as_ref().is_none_or(|(finders, most)| tail_holds_literal(tail(*most), finders))
            });
        let mut best: Option<regex_automata::Match> = rest.and_then(|re| re.find(haystack));
        let mut tied = false;
        for (byte, re, most) in &self.alone {
            let holds = |bytes: &[u8]| memchr::memchr(*byte, bytes).is_some();
            if !holds(haystack) || most.is_some_and(|most| !holds(tail(most))) {
                continue;
            }
            let Some(m) = re.find(haystack) else { continue };
            match best {
                Some(b) if b.start() < m.start() => {}
                Some(b) if b.start() == m.start() => tied = true,
                _ => {
                    best = Some(m);
                    tied = false;
                }
            }
        }
        if tied { combined.find(haystack) } else { best }
    }
}

/// The bytes every match of `hir` holds: `set[b]` is true for each.
fn required_bytes(hir: &Hir) -> [bool; 256] {
    let mut set = [false; 256];
    match hir.kind() {
        HirKind::Literal(lit) => lit.0.iter().for_each(|&b| set[usize::from(b)] = true),
        HirKind::Class(hir::Class::Bytes(class)) => {
            if let [range] = class.ranges()
                && range.start() == range.end()
            {
                set[usize::from(range.start())] = true;
            }
        }
        HirKind::Class(hir::Class::Unicode(class)) => {
            if let [range] = class.ranges()
                && range.start() == range.end()
                && range.start().is_ascii()
            {
                set[range.start() as usize] = true;
            }
        }
        HirKind::Repetition(rep) if rep.min > 0 => set = required_bytes(&rep.sub),
        HirKind::Capture(cap) => set = required_bytes(&cap.sub),
        HirKind::Concat(subs) => {
            for sub in subs {
                for (s, r) in set.iter_mut().zip(required_bytes(sub)) {
                    *s |= r;
                }
            }
        }
        HirKind::Alternation(subs) => {
            set = [true; 256];
            for sub in subs {
                for (s, r) in set.iter_mut().zip(required_bytes(sub)) {
                    *s &= r;
                }
            }
        }
        HirKind::Empty | HirKind::Look(_) | HirKind::Repetition(_) => {}
    }
    set
}

/// A set of strings one of which every match of `hir` holds, in lower case
/// (to be searched ASCII case-insensitively), or `None` when no short set
/// can be told from the tree: the longest run of fixed characters in a
/// concatenation, or each branch's set for an alternation.
///
/// `^.{0,200}\b(?:we use|this site uses) cookies\b.{0,250}$` holds
/// ` cookies`; its rule's keywords (`cookie`, but also `share`, `send`,
/// `update`...) are in most short paragraphs, and each of those lines made
/// the rule's whole-line regex walk its `.{0,200}` to the line's end.
pub(super) fn required_literals(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    // Literals are short words at worst; more than this and the set screens little.
    const MAX_LITERALS: usize = 64;
    let score = |set: &[Vec<u8>]| set.iter().map(|l| literal_rarity(l)).min().unwrap_or(0);
    match hir.kind() {
        HirKind::Literal(lit) => Some(vec![lit.0.to_ascii_lowercase()]),
        HirKind::Class(_) => fixed_byte(hir).map(|b| vec![vec![b]]),
        HirKind::Capture(cap) => required_literals(&cap.sub),
        HirKind::Repetition(rep) if rep.min > 0 => required_literals(&rep.sub),
        HirKind::Concat(subs) => {
            let mut best: Option<Vec<Vec<u8>>> = None;
            let mut consider = |set: Vec<Vec<u8>>| {
                if best.as_ref().is_none_or(|b| score(&set) > score(b)) {
                    best = Some(set);
                }
            };
            let mut run = Vec::new();
            for sub in subs {
                match (sub.kind(), fixed_byte(sub)) {
                    (HirKind::Literal(lit), _) => run.extend(lit.0.to_ascii_lowercase()),
                    (_, Some(b)) => run.push(b),
                    _ => {
                        if !run.is_empty() {
                            consider(vec![std::mem::take(&mut run)]);
                        }
                        if let Some(set) = required_literals(sub) {
                            consider(set);
                        }
                    }
                }
            }
            if !run.is_empty() {
                consider(vec![run]);
            }
            best
        }
        HirKind::Alternation(subs) => {
            let mut all = Vec::new();
            for sub in subs {
                all.extend(required_literals(sub)?);
                if all.len() > MAX_LITERALS {
                    return None;
                }
            }
            all.sort();
            all.dedup();
            Some(all)
        }
        HirKind::Empty | HirKind::Look(_) | HirKind::Repetition(_) => None,
    }
}

/// How rarely a literal turns up in prose, roughly: letters and digits
/// count 2 a byte, spaces and sentence punctuation 1, other punctuation
/// (`(`, `/`, `©`'s bytes) more. `(` screens lines better than `ap`.
fn literal_rarity(literal: &[u8]) -> usize {
    literal
        .iter()
        .map(|&b| match b {
            _ if b.is_ascii_alphanumeric() => 2,
            _ if is_common_byte(b) => 1,
            _ if b.is_ascii() => 8,
            _ => 4,
        })
        .sum()
}

/// The most bytes other than white space (`\s`: tab, line feed, vertical
/// tab, form feed, carriage return, space) that a match of `hir` can hold,
/// or `None` when its repetitions leave that open.
///
/// Patterns match a byte at a time (`.{0,300}` is 300 bytes; a class under
/// `(?u)` counts the bytes of its longest character), and a
/// whole-line match adds only white space around the pattern's, so a line
/// holding more such bytes than this is covered by none of the patterns.
/// The copyright rule looks at lines of up to 500 bytes, but its patterns
/// match at most 322 bytes of text: lines of 401-500 bytes, a third of the
/// bytes the keyword scan walked on the 88 MB benchmark corpus, were
/// scanned for it alone.
pub(super) fn max_text_bytes(hir: &Hir) -> Option<usize> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(0),
        HirKind::Literal(lit) => Some(lit.0.iter().filter(|&&b| !is_space_byte(b)).count()),
        HirKind::Class(hir::Class::Bytes(class)) => {
            Some(usize::from(!class.ranges().iter().all(|r| (r.start()..=r.end()).all(is_space_byte))))
        }
        // Under `(?u)` a class matches a whole character, up to four bytes.
        HirKind::Class(hir::Class::Unicode(class)) => {
            let spaces =
                class.ranges().iter().all(|r| (r.start()..=r.end()).all(|c| u8::try_from(c).is_ok_and(is_space_byte)));
            Some(if spaces { 0 } else { class.maximum_len().unwrap_or(0) })
        }
        HirKind::Capture(cap) => max_text_bytes(&cap.sub),
        HirKind::Repetition(rep) => match max_text_bytes(&rep.sub)? {
            0 => Some(0),
            each => each.checked_mul(usize::try_from(rep.max?).ok()?),
        },
        HirKind::Concat(subs) => subs.iter().try_fold(0usize, |sum, sub| sum.checked_add(max_text_bytes(sub)?)),
        HirKind::Alternation(subs) => subs.iter().try_fold(0, |most, sub| Some(most.max(max_text_bytes(sub)?))),
    }
}

/// A byte `\s` matches in the patterns (which are not Unicode-aware):
/// tab, line feed, vertical tab, form feed, carriage return, space.
/// Branch-free, so that a count of them runs a vector at a time.
fn is_space_byte(b: u8) -> bool {
    (b == b' ') | (b.wrapping_sub(b'\t') < 5)
}

/// The bytes of `line` that are not white space (see [`max_text_bytes`]).
pub(super) fn text_bytes(line: &[u8]) -> usize {
    let is_space = |b: u8| u8::from(is_space_byte(b));
    let (chunks, rest) = line.as_chunks::<32>();
    let mut spaces = rest.iter().map(|&b| usize::from(is_space(b))).sum::<usize>();
    // Counted in 32 lanes of a byte, so that a step is one vector: counted
    // byte by byte, or chunk by chunk, it took six instructions a byte. A
    // lane holds at most 255.
    for run in chunks.chunks(255) {
        let mut lanes = [0u8; 32];
        for chunk in run {
            for (lane, &b) in lanes.iter_mut().zip(chunk) {
                *lane += is_space(b);
            }
        }
        spaces += lanes.iter().map(|&n| usize::from(n)).sum::<usize>();
    }
    line.len() - spaces
}

/// Whether `hir` may start with a wide span of almost any byte, once a
/// line's leading spaces are skipped (`^.{0,200}...`, `^[^.!?]{0,160}...`):
/// such a pattern keeps a whole-line search alive to the line's end, where
/// one that starts with words dies within a few bytes.
pub(super) fn starts_wide(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Concat(subs) => subs.iter().find(|sub| !is_skippable_start(sub)).is_some_and(starts_wide),
        HirKind::Capture(cap) => starts_wide(&cap.sub),
        HirKind::Alternation(subs) => subs.iter().any(starts_wide),
        HirKind::Repetition(rep) => match rep.sub.kind() {
            HirKind::Class(hir::Class::Bytes(class)) => {
                class.ranges().iter().map(|r| usize::from(r.end() - r.start()) + 1).sum::<usize>() >= 128
            }
            HirKind::Class(hir::Class::Unicode(class)) => {
                class.ranges().iter().map(|r| u32::from(r.end()) - u32::from(r.start()) + 1).sum::<u32>() >= 128
            }
            _ => starts_wide(&rep.sub),
        },
        _ => false,
    }
}

/// An anchor or optional spaces at a pattern's start.
fn is_skippable_start(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Look(_) => true,
        HirKind::Repetition(rep) if rep.min == 0 => match rep.sub.kind() {
            HirKind::Class(hir::Class::Bytes(class)) => {
                class.ranges().iter().all(|r| (r.start()..=r.end()).all(|b| b.is_ascii_whitespace() || b == 0x0B))
            }
            _ => false,
        },
        _ => false,
    }
}

/// The one byte a class matches, ASCII case folded (`[Cc]` is `c`), if it
/// matches one.
fn fixed_byte(hir: &Hir) -> Option<u8> {
    let bytes: Vec<u8> = match hir.kind() {
        HirKind::Class(hir::Class::Bytes(class)) => {
            let mut bytes = Vec::new();
            for r in class.ranges() {
                if usize::from(r.end() - r.start()) > 2 {
                    return None;
                }
                bytes.extend(r.start()..=r.end());
            }
            bytes
        }
        HirKind::Class(hir::Class::Unicode(class)) => {
            let mut bytes = Vec::new();
            for r in class.ranges() {
                if !r.end().is_ascii() || u32::from(r.end()) - u32::from(r.start()) > 2 {
                    return None;
                }
                bytes.extend((r.start() as u8)..=(r.end() as u8));
            }
            bytes
        }
        _ => return None,
    };
    // A class that matches nothing (`[a&&b]`) has no bytes at all.
    let folded = bytes.first()?.to_ascii_lowercase();
    bytes.iter().all(|b| b.to_ascii_lowercase() == folded).then_some(folded)
}

/// Parses a rule pattern: case-insensitive, with ASCII classes.
///
/// Byte regexes without Unicode classes: `.`, `\w` and `\s` are ASCII,
/// which is what junk patterns mean, and the automata stay small (Unicode
/// `.{0,300}` made matching five times slower). Non-ASCII literals (`©`,
/// `»`) still match as UTF-8. Each pattern is parsed once and the rule's
/// regexes are built from the trees: compiling each pattern on its own as
/// well, only to check it, was a fifth of the start-up.
pub(super) fn parse_pattern(pattern: &str) -> std::result::Result<Hir, String> {
    regex_syntax::ParserBuilder::new()
        .case_insensitive(true)
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .map_err(|e| e.to_string())
}

/// Repetitions whose bounds are further apart than this are left open in
/// the loose regex; narrow ones (`\d{1,2}`) cost the DFA little.
const LOOSE_SPAN: u32 = 8;

/// `hir` rebuilt: with `loose`, its wide counted repetitions left open
/// above (`{0,200}` becomes `{0,}`, and `loosened` tells whether there were
/// any) and its capture groups dropped (a loose regex is only asked
/// whether it matches); without, its groups renumbered from
/// `first_group` and unnamed.
///
/// Groups are kept in an exact regex although nobody reads them: they keep
/// the patterns of an alternation apart, as in `(?:p1)|(?:p2)`. Without
/// them, patterns with the same start (`(a?a)` and `(a?b)`) would be merged
/// into one (`a?[ab]`), which changes where a leftmost-first match ends.
pub(super) fn rebuild(hir: &Hir, loose: bool, first_group: u32, loosened: &mut bool) -> Hir {
    let mut again = |h: &Hir| rebuild(h, loose, first_group, loosened);
    match hir.kind() {
        HirKind::Repetition(rep) => {
            let sub = Box::new(again(&rep.sub));
            let max = match rep.max {
                Some(max) if loose && max - rep.min > LOOSE_SPAN => {
                    *loosened = true;
                    None
                }
                max => max,
            };
            Hir::repetition(hir::Repetition { min: rep.min, max, greedy: rep.greedy, sub })
        }
        HirKind::Capture(cap) if loose => again(&cap.sub),
        HirKind::Capture(cap) => {
            let sub = Box::new(again(&cap.sub));
            Hir::capture(hir::Capture { index: cap.index + first_group - 1, name: None, sub })
        }
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(again).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.iter().map(again).collect()),
        HirKind::Empty => Hir::empty(),
        HirKind::Literal(lit) => Hir::literal(lit.0.clone()),
        HirKind::Class(class) => Hir::class(class.clone()),
        HirKind::Look(look) => Hir::look(*look),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clean::rules::Rules;
    use crate::clean::rules::tests::{compiled_all, junk_line};
    use proptest::prelude::*;

    proptest! {
        // No match holds more text than max_text_bytes allows, so a line
        // passed over for its length in text would not have been covered.
        #[test]
        fn no_match_holds_more_text_than_its_bound(line in junk_line(), pad in "[ \t]{0,40}") {
            let r = Rules::default();
            let line = format!("{pad}{line}{pad}");
            for (_, rule) in r.builtin_line_rules() {
                for p in &rule.patterns {
                    let Some(most) = max_text_bytes(&parse_pattern(p).unwrap()) else { continue };
                    let re = regex::bytes::RegexBuilder::new(p).case_insensitive(true).unicode(false).build().unwrap();
                    for m in re.find_iter(line.as_bytes()) {
                        let text = m.as_bytes().iter().filter(|&&b| !is_space_byte(b)).count();
                        prop_assert!(text <= most, "{p} matched {} bytes of text, bound {most}", text);
                    }
                }
            }
        }

        #[test]
        fn text_bytes_counts_what_is_not_white_space(
            line in "[ \t\n\x0b\x0c\ra-z©,.]{0,100}",
            spaces in 0..9000usize,
        ) {
            // Past 255 vectors of 32 spaces, a lane would overflow.
            let line = format!("{line}{}{line}", " ".repeat(spaces));
            prop_assert_eq!(text_bytes(line.as_bytes()), line.bytes().filter(|&b| !is_space_byte(b)).count());
        }

        // Every match holds one of the literals required_literals finds, so
        // the scan that looks for them never hides a junk line.
        #[test]
        fn required_literals_are_in_every_match(line in junk_line()) {
            let r = Rules::default();
            let line_rules = r.builtin_line_rules().map(|(_, rule)| rule);
            for rule in line_rules.into_iter().chain([&r.header, &r.image_credit]) {
                for p in &rule.patterns {
                    let Some(set) = required_literals(&parse_pattern(p).unwrap()) else { continue };
                    let re = regex::bytes::RegexBuilder::new(p).case_insensitive(true).unicode(false).build().unwrap();
                    if let Some(m) = re.find(line.as_bytes()) {
                        let found = m.as_bytes().to_ascii_lowercase();
                        prop_assert!(
                            set.iter().any(|l| found.windows(l.len().max(1)).any(|w| w == l.as_slice())),
                            "{p} matched {found:?}, holding none of {set:?}"
                        );
                    }
                }
            }
        }
    }

    // Credits as long as their patterns allow, after long paragraphs and
    // runs of white space: the tails looked at still hold them.
    #[test]
    fn a_credit_as_long_as_its_pattern_allows_is_found_in_the_tail() {
        let rules = Rules::default().compile().unwrap();
        let credit = &rules.image_credit;
        let long = "Officials met on Monday and agreed the budget after a long debate. ".repeat(4);
        for len in [1, 30, 59, 60, 79, 80] {
            let name: String = "Ann Lee Kim ".chars().cycle().take(len).collect();
            for (spaces, prose) in
                ["", " ", "          ", "\t\t "].into_iter().flat_map(|s| [(s, ""), (s, long.as_str())])
            {
                for line in [
                    format!("{prose}It rained.{spaces} Photo by{spaces} {name}"),
                    format!("{prose}Headline{spaces} |{spaces} Image:{spaces} {}", &name[..len.min(60)]),
                    format!("{prose}(Reporting by {name}; Editing by {spaces}{name})"),
                ] {
                    let exact =
                        credit.combined.as_ref().unwrap().exact.find(line.as_bytes()).map(|m| (m.start(), m.end()));
                    assert!(exact.is_some() || len == 80, "{line}");
                    assert_eq!(credit.find(&line), exact, "{line}");
                }
            }
        }
    }

    // Credits of no spaces at their patterns' very bounds, after prefixes
    // of every length up to a block: each alignment of the tail's blocks.
    #[test]
    fn a_credit_at_its_bound_is_found_at_every_block_alignment() {
        let credit = &compiled_all().image_credit;
        let exact = credit.combined.as_ref().unwrap();
        for prefix in 0..33 {
            let lead = "y".repeat(prefix);
            for line in [
                format!("{lead}It rained. Photo by {}", "x".repeat(80)),
                format!("{lead}Headline | Image: {}", "x".repeat(60)),
                format!("{lead}(Reporting by {})", "x".repeat(200)),
            ] {
                let expected = exact.exact.find(line.as_bytes()).map(|m| (m.start(), m.end()));
                assert!(expected.is_some(), "{line}");
                assert_eq!(credit.find(&line), expected, "{line}");
            }
        }
    }

    #[test]
    fn patterns_that_need_a_rare_byte_are_searched_alone() {
        let rules = Rules::default().compile().unwrap();
        let screens = rules.image_credit.screens.as_ref().expect("image_credit has patterns to screen");
        let bytes: Vec<u8> = screens.alone.iter().map(|(b, _, _)| *b).collect();
        assert_eq!(bytes.len(), 3, "{:?}", bytes.iter().map(|&b| b as char).collect::<Vec<_>>());
        assert!(bytes.contains(&b'|') && screens.rest.is_some());
        // Every glued credit ends its line, within a bounded tail.
        assert!(
            screens.alone.iter().all(|(_, _, tail)| tail.is_some()),
            "{:?}",
            screens.alone.iter().map(|a| a.2).collect::<Vec<_>>()
        );
        assert_eq!(screens.rest_tail.as_ref().map(|(_, most)| *most), Some(100));
        // Letters are classes under case folding, and spaces are common:
        // neither screens.
        let required = |p: &str| {
            let set = required_bytes(&parse_pattern(p).unwrap());
            (0..=255u8).filter(|&b| set[usize::from(b)]).map(char::from).collect::<String>()
        };
        assert_eq!(required(r"\s*\|\s*photo: [^|]{1,5}$"), " :|");
        assert_eq!(required(r"(?:a/b|c/d)"), "/");
        assert_eq!(required(r"x?/"), "/");
        assert_eq!(required(r"\|?ab"), "");
    }

    #[test]
    fn a_wide_pattern_with_a_class_that_matches_nothing_compiles() {
        let rules = Rules::from_json(
            r#"{"custom": [{"name": "odd", "enabled": true, "max_line_bytes": 400, "patterns": ["^.{0,200}[a&&b]x"]}]}"#,
        )
        .unwrap();
        let compiled = rules.compile().unwrap();
        assert_eq!(compiled.whole_line_rule("an ordinary line"), None);
    }
}
