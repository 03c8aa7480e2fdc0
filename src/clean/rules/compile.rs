//! The rules compiled: each pattern rule's patterns built into the regexes
//! that are searched, and the keyword scan that tells, in one pass over a
//! line, which whole-line rules may cover it and whether it may hold a glued
//! credit.

use regex_automata::nfa::thompson::WhichCaptures;
use regex_syntax::hir::Hir;

use super::screens::{
    ByteScreens, Screened, max_text_bytes, parse_pattern, rebuild, required_literals, starts_wide, text_bytes,
};
use super::{PatternRule, RuleError, Rules};

impl Rules {
    /// Compiles every pattern; the error names the rule and the pattern.
    pub fn compile(&self) -> std::result::Result<CompiledRules, RuleError> {
        let mut pattern_rules = Vec::new();
        for (name, rule) in self.builtin_line_rules() {
            pattern_rules.push(LineRule::new(name, rule)?);
        }
        for c in &self.custom {
            if c.name.is_empty() {
                return Err(RuleError { rule: "custom".into(), message: "a custom rule needs a name".into() });
            }
            pattern_rules.push(LineRule::new(&c.name, &c.rule)?);
        }
        if let Some(t) = self.classifier.threshold
            && !(0.0..=1.0).contains(&t)
        {
            return Err(RuleError {
                rule: "classifier.threshold".into(),
                message: format!("must be between 0 and 1, got {t}"),
            });
        }
        for (name, value) in [("boilerplate.site_min_share", self.boilerplate.site_min_share)] {
            if !(0.0..=1.0).contains(&value) {
                return Err(RuleError { rule: name.into(), message: format!("must be between 0 and 1, got {value}") });
            }
        }
        if self.boilerplate.min_stories as usize > crate::clean::story::StoryKeys::MAX {
            return Err(RuleError {
                rule: "boilerplate.min_stories".into(),
                message: format!(
                    "at most {} stories are counted a line, got {}",
                    crate::clean::story::StoryKeys::MAX,
                    self.boilerplate.min_stories
                ),
            });
        }
        // Distinct sites are counted up to this many a line (see table.rs).
        if self.boilerplate.corpus_min_sites > 8 {
            return Err(RuleError {
                rule: "boilerplate.corpus_min_sites".into(),
                message: format!("at most 8 sites are counted a line, got {}", self.boilerplate.corpus_min_sites),
            });
        }
        let mut words = Vec::new();
        let mut keyword_rule = Vec::new();
        let rules_with_keywords: Vec<&PatternRule> = self
            .builtin_line_rules()
            .into_iter()
            .map(|(_, rule)| rule)
            .chain(self.custom.iter().map(|c| &c.rule))
            .collect();
        // Rules past the screened ones run on every line: their keywords are not looked for.
        for (i, rule) in rules_with_keywords.iter().enumerate().take(MAX_SCREENED_RULES) {
            for k in &rule.keywords {
                words.push(k.as_bytes().to_vec());
                keyword_rule.push(i);
            }
        }
        // The wide patterns' literals ride in the same scan, marked apart.
        for (i, rule) in pattern_rules.iter().enumerate().take(MAX_SCREENED_RULES) {
            for literal in rule.wide_literals.iter().flatten() {
                words.push(literal.clone());
                keyword_rule.push(MAX_SCREENED_RULES + i);
            }
        }
        // A bad pattern is named in the rules' order: the header's first.
        let header = CompiledPatternRule::new(crate::clean::HEADER, &self.header)?;
        let image_credit = CompiledPatternRule::new(crate::clean::IMAGE_CREDIT, &self.image_credit)?;
        // And the glued credit's, whose search on every line they spare.
        for literal in image_credit.literals().into_iter().flatten() {
            words.push(literal.clone());
            keyword_rule.push(GLUED_CREDIT_MARK);
        }
        // A DFA: a few dozen keywords make a small one, and it scans about
        // twice as fast as the default noncontiguous automaton. Walked by
        // `keyword_hits` a byte at a time, so no prefilter.
        let keywords = aho_corasick::dfa::DFA::builder()
            .ascii_case_insensitive(true)
            .prefilter(false)
            .start_kind(aho_corasick::StartKind::Unanchored)
            .build(&words)
            .map_err(|e| RuleError { rule: "keywords".into(), message: e.to_string() })?;
        let longest_line_bytes =
            pattern_rules.iter().filter(|r| r.enabled).map(|r| r.max_line_bytes).max().unwrap_or(0);
        let reach_by_length = pattern_rules
            .iter()
            .filter(|r| r.enabled)
            .map(|r| r.max_text_bytes.map_or(r.max_line_bytes, |most| most.min(r.max_line_bytes)))
            .max()
            .unwrap_or(0);
        Ok(CompiledRules {
            keywords,
            longest_line_bytes,
            reach_by_length,
            keyword_rule,
            header,
            image_credit,
            line_rules: pattern_rules,
            stray_tokens: self.stray_token.tokens.iter().map(|t| t.to_lowercase()).collect(),
        })
    }
}

/// One pattern rule, compiled.
#[derive(Debug, Clone)]
pub struct CompiledPatternRule {
    /// The rule's name.
    pub name: String,
    /// False when the rule is off.
    pub enabled: bool,
    /// Longer lines are skipped.
    pub max_line_bytes: usize,
    /// All patterns as one alternation: one search per line, not one per
    /// pattern (the searches, not the automata, were the cost).
    pub(super) combined: Option<Screened>,
    /// The same search split by required bytes (see [`ByteScreens`]).
    pub(super) screens: Option<ByteScreens>,
    /// The alternation anchored to the whole line: matches when any pattern
    /// covers the line, whichever pattern would match first elsewhere.
    whole: Option<Screened>,
}

/// A rule's patterns, parsed and numbered as one alternation's parts.
fn parse_trees(name: &str, rule: &PatternRule) -> std::result::Result<Vec<Hir>, RuleError> {
    let mut trees = Vec::new();
    let mut next_group = 1;
    for (i, p) in rule.patterns.iter().chain(&rule.extra_patterns).enumerate() {
        let tree = parse_pattern(p)
            .map_err(|e| RuleError { rule: name.to_string(), message: format!("pattern {} `{p}`: {e}", i + 1) })?;
        // Each pattern numbers its groups from 1; in the alternation
        // they follow on from the previous pattern's, as in one pattern.
        trees.push(rebuild(&tree, false, next_group, &mut false));
        next_group += u32::try_from(tree.properties().explicit_captures_len()).unwrap_or(u32::MAX / 2);
    }
    Ok(trees)
}

/// The alternation of `trees` anchored to the whole line.
fn whole_line(alternation: Hir) -> std::result::Result<Screened, String> {
    // Spaces around a whole line's match; the parser cannot fail on them.
    let whole = Hir::concat(vec![parse_pattern(r"^\s*")?, alternation, parse_pattern(r"\s*$")?]);
    // Whole-line matches are only asked whether, never where.
    Screened::new(&whole, WhichCaptures::None)
}

impl CompiledPatternRule {
    fn new(name: &str, rule: &PatternRule) -> std::result::Result<CompiledPatternRule, RuleError> {
        let error = |message: String| RuleError { rule: name.to_string(), message };
        let trees = parse_trees(name, rule)?;
        let screens = ByteScreens::new(&trees).map_err(error)?;
        let (combined, whole) = if trees.is_empty() {
            (None, None)
        } else {
            let alternation = Hir::alternation(trees);
            let combined = Screened::new(&alternation, WhichCaptures::Implicit).map_err(error)?;
            (Some(combined), Some(whole_line(alternation).map_err(error)?))
        };
        Ok(CompiledPatternRule {
            name: name.to_string(),
            enabled: rule.enabled,
            max_line_bytes: rule.max_line_bytes,
            combined,
            screens,
            whole,
        })
    }

    /// True when some pattern matches all of `line` but surrounding spaces.
    pub fn covers_line(&self, line: &str) -> bool {
        self.enabled
            && line.len() <= self.max_line_bytes
            && self.whole.as_ref().is_some_and(|re| re.is_match(line.as_bytes()))
    }

    /// Strings one of which a line must hold for the patterns that need no
    /// rare byte to match in it (see [`ByteScreens`]); `None` when unknown.
    fn literals(&self) -> Option<&[Vec<u8>]> {
        self.screens.as_ref()?.rest_literals.as_deref()
    }

    /// The first match of any pattern in `line`: `(start, end)` in bytes.
    pub fn find(&self, line: &str) -> Option<(usize, usize)> {
        self.find_screened(line, true)
    }

    /// [`CompiledPatternRule::find`], told whether `line` may hold one of
    /// [`CompiledPatternRule::literals`] (`false` only when a scan found
    /// none).
    pub(crate) fn find_screened(&self, line: &str, holds_literal: bool) -> Option<(usize, usize)> {
        if !self.enabled || line.len() > self.max_line_bytes {
            return None;
        }
        let combined = self.combined.as_ref()?;
        let m = match &self.screens {
            Some(screens) => screens.find(line.as_bytes(), combined, holds_literal)?,
            None => combined.find(line.as_bytes())?,
        };
        // A byte-level match must still cut on character boundaries.
        (line.is_char_boundary(m.start()) && line.is_char_boundary(m.end())).then_some((m.start(), m.end()))
    }
}

/// A whole-line rule, compiled: it only answers whether a line is junk
/// from end to end, so it builds only whole-line regexes (two: see its
/// fields). Building the searches for partial matches too, which nothing
/// asks these rules for, was half of the rules' start-up.
#[derive(Debug, Clone)]
pub struct LineRule {
    /// The rule's name.
    pub name: String,
    /// False when the rule is off.
    pub enabled: bool,
    /// Longer lines are skipped.
    pub max_line_bytes: usize,
    /// The patterns that start with words, anchored to the whole line:
    /// on most lines their search dies within a few bytes.
    anchored: Option<Screened>,
    /// The patterns that start with a wide span (see [`starts_wide`]),
    /// anchored to the whole line: searched only on a line that holds one of
    /// `wide_literals`, when those are known.
    wide: Option<Screened>,
    /// A set of strings one of which every match of a wide pattern holds
    /// (see [`required_literals`]); `None` when some wide pattern has none.
    wide_literals: Option<Vec<Vec<u8>>>,
    /// Whether the rule runs only on lines holding one of its keywords.
    pub has_keywords: bool,
    /// The most bytes besides white space that a line it covers can hold
    /// (see [`max_text_bytes`]); `None` when its patterns do not bound them.
    max_text_bytes: Option<usize>,
}

impl LineRule {
    fn new(name: &str, rule: &PatternRule) -> std::result::Result<LineRule, RuleError> {
        let error = |message: String| RuleError { rule: name.to_string(), message };
        let trees = parse_trees(name, rule)?;
        let max_text = trees.iter().map(max_text_bytes).try_fold(0, |most, bytes| Some(most.max(bytes?)));
        let (wide, anchored): (Vec<Hir>, Vec<Hir>) = trees.into_iter().partition(starts_wide);
        let wide_literals = match wide.is_empty() {
            true => None,
            false => wide.iter().map(required_literals).collect::<Option<Vec<_>>>().map(|sets| sets.concat()),
        };
        let build = |trees: Vec<Hir>| match trees.is_empty() {
            true => Ok(None),
            false => whole_line(Hir::alternation(trees)).map(Some).map_err(error),
        };
        Ok(LineRule {
            name: name.to_string(),
            enabled: rule.enabled,
            max_line_bytes: rule.max_line_bytes,
            anchored: build(anchored)?,
            wide: build(wide)?,
            wide_literals,
            has_keywords: !rule.keywords.is_empty(),
            max_text_bytes: max_text,
        })
    }

    /// False when the rule cannot cover a line of `len` bytes, `text()` of
    /// them not white space ([`text_bytes`]), whatever the line says;
    /// `text` is asked only of a line longer than the rule's bound.
    fn may_cover(&self, len: usize, text: impl FnOnce() -> usize) -> bool {
        self.enabled
            && len <= self.max_line_bytes
            && self.max_text_bytes.is_none_or(|most| len <= most || text() <= most)
    }

    /// True when some pattern matches all of `line` but surrounding spaces.
    pub fn covers_line(&self, line: &str) -> bool {
        self.covers_line_screened(line, true)
    }

    /// [`LineRule::covers_line`], told whether `line` holds one of the wide
    /// patterns' literals (or `true` when that was not looked for).
    fn covers_line_screened(&self, line: &str, holds_wide_literal: bool) -> bool {
        let is_match = |re: &Option<Screened>| re.as_ref().is_some_and(|re| re.is_match(line.as_bytes()));
        self.enabled
            && line.len() <= self.max_line_bytes
            && (is_match(&self.anchored)
                || ((holds_wide_literal || self.wide_literals.is_none()) && is_match(&self.wide)))
    }
}

impl CompiledRules {
    /// The first whole-line rule (in rule order) whose match covers `line`
    /// entirely, by name.
    pub fn whole_line_rule(&self, line: &str) -> Option<&str> {
        self.scan_line(line).rule.map(|i| self.line_rules[i].name.as_str())
    }

    /// Whether [`CompiledRules::whole_line_rule`] looks at `line` at all:
    /// most paragraphs are longer than any whole-line rule looks at, or hold
    /// more text than its patterns can match.
    pub(crate) fn may_cover(&self, line: &str) -> bool {
        let len = line.len();
        // Most lines are short enough for some rule whatever their text:
        // it is not counted.
        if len <= self.reach_by_length {
            return true;
        }
        if len > self.longest_line_bytes {
            return false;
        }
        let text = text_bytes(line.as_bytes());
        self.line_rules.iter().any(|rule| rule.may_cover(len, || text))
    }

    /// What one pass over `line` tells: the whole-line rule that covers
    /// it, and whether it may hold a glued credit's words.
    pub(crate) fn scan_line(&self, line: &str) -> LineScan {
        if !self.may_cover(line) {
            return LineScan { rule: None, credit_words: true };
        }
        // One pass finds which rules may apply (their keywords), which
        // rules' wide patterns may (their literals), and whether a glued
        // credit may.
        let hits = self.keyword_hits(line.as_bytes());
        let hit = |bit: usize| hits & (1u128 << bit) != 0;
        let unscreened = |i: usize| i >= MAX_SCREENED_RULES;
        let mut text = None;
        let rule = self
            .line_rules
            .iter()
            .enumerate()
            .filter(|(i, rule)| !rule.has_keywords || unscreened(*i) || hit(*i))
            .filter(|(_, rule)| rule.may_cover(line.len(), || *text.get_or_insert_with(|| text_bytes(line.as_bytes()))))
            .find(|(i, rule)| rule.covers_line_screened(line, unscreened(*i) || hit(MAX_SCREENED_RULES + i)))
            .map(|(i, _)| i);
        LineScan { rule, credit_words: hit(GLUED_CREDIT_MARK) || self.image_credit.literals().is_none() }
    }

    /// The marks (see `keyword_rule`) of every keyword and literal found
    /// in `line`, overlapping ones included, as bits.
    ///
    /// The automaton is walked here a byte at a time: in its overlapping
    /// iterator, which stops at each match and keeps its place in memory,
    /// the scan was a seventh of the cleaning pass's instructions. The
    /// automaton's match kind is the standard one, so a state's matches are
    /// every keyword that ends there, whichever other keyword it is part of.
    ///
    /// Each step waits for the state the last one loaded, so a line is
    /// walked as two halves at once, two chains of loads the processor runs
    /// side by side. The second half starts a keyword's length short of
    /// the middle: a keyword that ends past the middle starts in it.
    fn keyword_hits(&self, line: &[u8]) -> u128 {
        use aho_corasick::Anchored;
        use aho_corasick::automaton::Automaton;
        let dfa = &self.keywords;
        // An unanchored start always exists for this automaton; were it
        // missing, every rule would be asked, which only costs time.
        let Ok(start) = dfa.start_state(Anchored::No) else { return u128::MAX };
        let mut hits = 0u128;
        let mut mark = |sid| {
            for i in 0..dfa.match_len(sid) {
                hits |= 1u128 << self.keyword_rule[dfa.match_pattern(sid, i).as_usize()];
            }
        };
        if dfa.is_match(start) {
            mark(start);
        }
        // Past the overlap, a short line gains nothing from a second walk.
        let overlap = dfa.max_pattern_len().saturating_sub(1);
        let middle = line.len() / 2;
        let (first, second) = match middle >= 2 * overlap.max(16) {
            true => (&line[..middle], &line[middle - overlap..]),
            false => (line, &line[..0]),
        };
        let (mut a, mut b) = (start, start);
        // `second` is at least as long as `first`, or empty.
        for (&x, &y) in first.iter().zip(second) {
            a = dfa.next_state(Anchored::No, a, x);
            b = dfa.next_state(Anchored::No, b, y);
            if dfa.is_special(a) | dfa.is_special(b) {
                // The dead state is never reached from the unanchored
                // start of a standard automaton: no need to stop early.
                for sid in [a, b] {
                    if dfa.is_match(sid) {
                        mark(sid);
                    }
                }
            }
        }
        let (mut sid, rest) = match second.is_empty() {
            true => (a, first),
            false => (b, &second[first.len()..]),
        };
        for &byte in rest {
            sid = dfa.next_state(Anchored::No, sid, byte);
            if dfa.is_special(sid) && dfa.is_match(sid) {
                mark(sid);
            }
        }
        hits
    }
}

/// Rules past this many are asked about every line, without the keyword
/// scan's help.
const MAX_SCREENED_RULES: usize = 63;

/// The mark of the glued credit's literals in `keyword_hits`.
const GLUED_CREDIT_MARK: usize = 2 * MAX_SCREENED_RULES;

// Both kinds of mark of every screened rule, and the glued credit's, fit
// the bits of `keyword_hits`.
const _: () = assert!(GLUED_CREDIT_MARK < u128::BITS as usize);

/// What the keyword scan of one line tells (see [`CompiledRules::scan_line`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineScan {
    /// The first whole-line rule that covers the line, as an index into
    /// `line_rules`.
    pub rule: Option<usize>,
    /// False when the line holds none of the words that the glued credit's
    /// patterns without a rare byte need: their search, which walks back
    /// over the line's last sentence, is then spared.
    pub credit_words: bool,
}

/// All rules, compiled.
#[derive(Debug, Clone)]
pub struct CompiledRules {
    /// Every whole-line rule's keywords, its wide patterns' literals, and
    /// the glued credit's literals (see [`LineScan`]), in one automaton.
    keywords: aho_corasick::dfa::DFA,
    /// For each automaton pattern, what a hit marks: rule `i`'s keywords
    /// (`i`, an index into `line_rules`), its wide literals
    /// (`MAX_SCREENED_RULES + i`), or the glued credit's
    /// (`GLUED_CREDIT_MARK`).
    keyword_rule: Vec<usize>,
    /// The longest line any enabled whole-line rule looks at.
    longest_line_bytes: usize,
    /// The longest line that some enabled whole-line rule looks at
    /// whatever its text (see [`max_text_bytes`]).
    reach_by_length: usize,
    /// Header patterns (header zone only).
    pub header: CompiledPatternRule,
    /// Glued credit patterns (any line).
    pub image_credit: CompiledPatternRule,
    /// Whole-line rules in order: caption, prompt, read_more, copyright, tags, author, custom.
    pub line_rules: Vec<LineRule>,
    /// Stray tokens from the rules (lower case).
    pub stray_tokens: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clean::rules::CustomRule;
    use crate::clean::rules::tests::{compiled_all, junk_line};
    use proptest::prelude::*;

    /// The rules that search for partial matches (header, image_credit).
    fn compiled_rules() -> &'static [CompiledPatternRule] {
        static RULES: std::sync::OnceLock<Vec<CompiledPatternRule>> = std::sync::OnceLock::new();
        RULES.get_or_init(|| {
            let c = Rules::default().compile().unwrap();
            vec![c.header, c.image_credit]
        })
    }

    fn line_rules() -> &'static [LineRule] {
        static RULES: std::sync::OnceLock<Vec<LineRule>> = std::sync::OnceLock::new();
        RULES.get_or_init(|| Rules::default().compile().unwrap().line_rules)
    }

    #[test]
    fn a_keyword_inside_another_rules_keyword_still_screens_its_rule_in() {
        let custom = |name: &str, keyword: &str, pattern: &str| CustomRule {
            name: name.into(),
            rule: PatternRule {
                enabled: true,
                max_line_bytes: 200,
                patterns: vec![pattern.into()],
                extra_patterns: Vec::new(),
                keywords: vec![keyword.into()],
            },
        };
        let rules = Rules {
            custom: vec![
                custom("outer", "zebrafish", r"^never matches$"),
                custom("inner", "bra", r"^\s*zebrafish tank\s*$"),
                custom("suffix", "fish tank", r"^.*fish tank.*$"),
            ],
            ..Rules::default()
        };
        let compiled = rules.compile().unwrap();
        // `bra` ends inside `zebrafish`, `fish tank` overlaps its end: each
        // must still be seen, in any case.
        assert_eq!(compiled.whole_line_rule("Zebrafish tank"), Some("inner"));
        assert_eq!(compiled.whole_line_rule("a ZEBRAFISH TANK again"), Some("suffix"));
        assert_eq!(compiled.whole_line_rule("zebrafish"), None);
    }

    #[test]
    fn wide_bounds_get_a_loose_screen_and_it_defers_to_the_exact_pattern() {
        let rules = line_rules();
        // The screen is what keeps the cleaner fast: losing it silently
        // (a loose pattern that fails to build) would not change a result.
        for rule in rules {
            for group in [&rule.anchored, &rule.wide].into_iter().flatten() {
                assert!(group.loose.is_some(), "rule {} lost its screen", rule.name);
            }
        }
        for rule in compiled_rules() {
            assert!(rule.whole.as_ref().unwrap().loose.is_some(), "rule {} lost its screen", rule.name);
        }
        let prompt = rules.iter().find(|r| r.name == crate::clean::PROMPT).unwrap();
        assert!(prompt.covers_line("This site uses cookies to improve your experience."));
        // The cookie pattern allows 200 bytes before its words: the loose
        // screen matches this line, the exact pattern must not.
        let long = format!("{} and this site uses cookies.", "word ".repeat(60));
        assert!(prompt.wide.as_ref().unwrap().loose.as_ref().unwrap().is_match(long.as_bytes()));
        assert!(!prompt.covers_line(&long));
    }

    #[test]
    fn wide_patterns_are_told_apart_and_each_has_literals() {
        let r = Rules::default();
        let wide = |p: &str| starts_wide(&parse_pattern(p).unwrap());
        assert!(wide(r"^.{0,200}\b(?:we use|this (?:web)?site uses|uses) cookies\b.{0,250}$"));
        assert!(wide(r"^\s*[^.!?]{0,100}\bvia getty images\s*$"));
        assert!(!wide(r"^\s*(?:read more|related)\s*:\s*.{0,250}$"));
        assert!(!wide(r"^(?-i:[A-Z])(?:[\w.'-]|’)+ (?:is|was) an? editor$"));
        // Every built-in wide pattern can be screened by its literals.
        for rule in line_rules() {
            assert_eq!(rule.wide.is_some(), rule.wide_literals.is_some(), "{}", rule.name);
        }
        let prompt = line_rules().iter().find(|l| l.name == crate::clean::PROMPT).unwrap();
        let literals = prompt.wide_literals.as_ref().unwrap();
        assert!(literals.contains(&b" cookies".to_vec()), "{literals:?}");
        // `(` screens a caption ending in its credit better than `ap`.
        let caption = &r.caption.patterns[6];
        let set = required_literals(&parse_pattern(caption).unwrap()).unwrap();
        assert_eq!(set, vec![b"(".to_vec()], "{caption}");
    }

    // A rule's patterns are one alternation, as `(?:p1)|(?:p2)` written out:
    // patterns with the same start must not be merged into one.
    #[test]
    fn patterns_with_groups_match_as_one_written_out_alternation() {
        for (patterns, written) in [
            (["(a?a)", "(a?b)"], "(?:(a?a))|(?:(a?b))"),
            (["(?P<x>a.*?c)", "(?P<x>a.*?b)"], "(?:(?P<x>a.*?c))|(?:(?P<y>a.*?b))"),
        ] {
            let compiled = CompiledPatternRule::new("test", &PatternRule::new(100, &patterns)).unwrap();
            let written =
                regex::bytes::RegexBuilder::new(written).case_insensitive(true).unicode(false).build().unwrap();
            for line in ["ab", "abc", "xaab", "b", "aac"] {
                let expected = written.find(line.as_bytes()).map(|m| (m.start(), m.end()));
                assert_eq!(compiled.find(line), expected, "{patterns:?} on {line}");
            }
        }
    }

    #[test]
    fn text_bounds_are_read_off_the_patterns() {
        let bound = |p: &str| max_text_bytes(&parse_pattern(p).unwrap());
        assert_eq!(bound(r"^\s*share this\s*$"), Some(9));
        assert_eq!(bound(r"^.{0,200}\ball rights reserved\.?\s*$"), Some(218));
        assert_eq!(bound(r"^\s*(?:#[\w-]+[\s,]*){2,}$"), None);
        assert_eq!(bound(r"(?:ab|c\s+d){2}"), Some(4));
        // Under `(?u)` a class may match a character of four bytes.
        assert_eq!(bound(r"(?u)^.{1,150}$"), Some(600));
        let wide = Rules {
            custom: vec![CustomRule {
                name: "wide".into(),
                rule: PatternRule {
                    enabled: true,
                    max_line_bytes: 1000,
                    patterns: vec![r"(?u)^.{1,150}$".into()],
                    extra_patterns: Vec::new(),
                    keywords: Vec::new(),
                },
            }],
            ..Rules::default()
        };
        let cjk = "港".repeat(140);
        assert_eq!(wide.compile().unwrap().whole_line_rule(&cjk), Some("wide"));
        let copyright = line_rules().iter().find(|r| r.name == crate::clean::COPYRIGHT).unwrap();
        assert_eq!(copyright.max_text_bytes, Some(322));
        // Prose of 401-500 bytes is longer than any other rule looks at and
        // holds more text than a copyright line can: nothing scans it.
        let compiled = Rules::default().compile().unwrap();
        let prose = "The port reopened on Monday after a week of talks. ".repeat(9);
        assert!(prose.len() > 400 && prose.len() <= 500);
        assert!(!compiled.may_cover(&prose));
        // A copyright line as long, but mostly white space, is still cut.
        let spaced = format!("Copyright{}2024 The Harbour Times. All rights reserved.", " ".repeat(420));
        assert!(spaced.len() > 400 && spaced.len() <= 500);
        assert_eq!(compiled.whole_line_rule(&spaced), Some(crate::clean::COPYRIGHT));
    }

    /// A rule's name, line limit and patterns as one written-out regex.
    type WrittenRule = (String, usize, regex::bytes::Regex);

    proptest! {
        // The screen only spares work: every answer is the exact pattern's.
        #[test]
        fn the_screen_never_changes_a_match(line in junk_line()) {
            for rule in line_rules() {
                let hay = line.as_bytes();
                for screened in [&rule.anchored, &rule.wide].into_iter().flatten() {
                    prop_assert_eq!(screened.is_match(hay), screened.exact.is_match(hay), "{}", rule.name);
                }
            }
            for rule in compiled_rules() {
                let hay = line.as_bytes();
                for screened in [&rule.whole, &rule.combined].into_iter().flatten() {
                    prop_assert_eq!(screened.is_match(hay), screened.exact.is_match(hay), "{}", rule.name);
                }
                // Only the alternation is asked where (the whole-line form
                // is built without even the implicit group).
                let combined = rule.combined.as_ref().unwrap();
                prop_assert_eq!(
                    combined.find(hay).map(|m| m.range()),
                    combined.exact.find(hay).map(|m| m.range()),
                    "{}", rule.name
                );
                if let Some(screens) = &rule.screens {
                    // Told, as the keyword scan tells, whether the line holds a literal.
                    let lower = hay.to_ascii_lowercase();
                    let holds = rule.literals().is_none_or(|set| set.iter().any(|l| lower.windows(l.len()).any(|w| w == l)));
                    prop_assert_eq!(
                        screens.find(hay, combined, holds).map(|m| m.range()),
                        combined.exact.find(hay).map(|m| m.range()),
                        "{} split by bytes", rule.name
                    );
                }
            }
        }

        // The two halves' walk finds every keyword one walk from the start
        // finds, those that cross the middle too.
        #[test]
        fn a_line_walked_in_two_halves_has_the_keywords_of_one_walk(
            pieces in proptest::collection::vec(prop_oneof![
                Just("rights reserved"), Just("photo"), Just("newsletter"), Just("©"), Just("share"),
                Just("scroll to continue reading"), Just("x"), Just("filler text, "), Just("  "),
            ], 0..40)
        ) {
            let compiled = compiled_all();
            let line = pieces.concat();
            prop_assert_eq!(compiled.keyword_hits(line.as_bytes()), one_walk(compiled, line.as_bytes()), "{}", line);
        }

        // The keyword and literal scan only spares work: the rule a line is
        // cut by is the first whose patterns cover it.
        #[test]
        fn the_scan_never_changes_which_rule_cuts_a_line(line in junk_line()) {
            static COMPILED: std::sync::OnceLock<(CompiledRules, Vec<WrittenRule>)> = std::sync::OnceLock::new();
            let (compiled, written) = COMPILED.get_or_init(|| {
                let r = Rules::default();
                // Each rule written out as one whole-line regex, apart from
                // the split and the screens.
                let written = r
                    .builtin_line_rules()
                    .map(|(name, rule)| {
                    let alternation = rule.patterns.iter().map(|p| format!("(?:{p})")).collect::<Vec<_>>().join("|");
                    let re = regex::bytes::RegexBuilder::new(&format!(r"^\s*(?:{alternation})\s*$"))
                        .case_insensitive(true)
                        .unicode(false)
                        .size_limit(100 << 20)
                        .build()
                        .unwrap();
                    (name.to_string(), rule.max_line_bytes, re)
                })
                .to_vec();
                (r.compile().unwrap(), written)
            });
            let expected = written
                .iter()
                .find(|(_, max, re)| line.len() <= *max && re.is_match(line.as_bytes()))
                .map(|(name, _, _)| name.as_str());
            prop_assert_eq!(compiled.whole_line_rule(&line), expected);
            // What the scan tells of the glued credit spares only searches that find nothing.
            let scan = compiled.scan_line(&line);
            prop_assert_eq!(compiled.image_credit.find_screened(&line, scan.credit_words), compiled.image_credit.find(&line));
        }

        // Patterns alone and the rest, starting at the same place or not,
        // in every order: the split search answers as the alternation does.
        #[test]
        fn a_search_split_by_required_bytes_is_the_alternation(
            line in "[ab|x/(). ]{0,14}",
            order in proptest::sample::subsequence(vec![0usize, 1, 2, 3, 4, 5], 1..=6),
        ) {
            let all = [r"(a\|)", r"a\|b+", r"x/", r"a", r"\(b", r"(?:a|b)\)"];
            let patterns: Vec<&str> = order.iter().map(|&i| all[i]).collect();
            let rule = CompiledPatternRule::new("test", &PatternRule::new(100, &patterns)).unwrap();
            let written = patterns.iter().map(|p| format!("(?:{p})")).collect::<Vec<_>>().join("|");
            let written =
                regex::bytes::RegexBuilder::new(&written).case_insensitive(true).unicode(false).build().unwrap();
            prop_assert_eq!(rule.find(&line), written.find(line.as_bytes()).map(|m| (m.start(), m.end())));
        }
    }

    /// The keyword marks of `line` found by one walk from its start.
    fn one_walk(compiled: &CompiledRules, line: &[u8]) -> u128 {
        use aho_corasick::{Anchored, automaton::Automaton};
        let dfa = &compiled.keywords;
        let mut sid = dfa.start_state(Anchored::No).unwrap();
        let mut marks = 0u128;
        for &b in line {
            sid = dfa.next_state(Anchored::No, sid, b);
            if dfa.is_match(sid) {
                for i in 0..dfa.match_len(sid) {
                    marks |= 1u128 << compiled.keyword_rule[dfa.match_pattern(sid, i).as_usize()];
                }
            }
        }
        marks
    }

    // The longest keywords ending at every place around the middle of lines
    // around the length where the walk splits: an overlap a byte short
    // misses one.
    #[test]
    fn keywords_across_the_middle_are_found_whatever_the_split() {
        use aho_corasick::automaton::Automaton;
        let compiled = compiled_all();
        let longest = compiled.keywords.max_pattern_len();
        let split_at = 2 * 2 * (longest - 1).max(16);
        for keyword in
            ["all rights reserved", "delivered to your inbox", "scroll to continue reading", "rights reserved"]
        {
            for len in split_at - 2..split_at + 3 * longest {
                for end in len / 2 - longest.min(len / 2)..(len / 2 + longest + 1).min(len) {
                    let Some(start) = end.checked_sub(keyword.len()) else { continue };
                    let line = format!("{}{keyword}{}", "x".repeat(start), "x".repeat(len - end));
                    assert_eq!(compiled.keyword_hits(line.as_bytes()), one_walk(compiled, line.as_bytes()), "{line}");
                }
            }
        }
    }

    // Rules past the 63 the keyword scan marks run on every line, keywords or not.
    #[test]
    fn rules_past_the_screened_ones_still_cut() {
        let custom: Vec<String> = (0..70)
            .map(|i| {
                format!(
                    r#"{{"name": "r{i}", "enabled": true, "max_line_bytes": 400, "keywords": ["zq{i}zq"], "patterns": ["^.{{0,50}}zq{i}zq$"]}}"#
                )
            })
            .collect();
        let rules = Rules::from_json(&format!(r#"{{"custom": [{}]}}"#, custom.join(","))).unwrap();
        let compiled = rules.compile().unwrap();
        for i in [0, 62, 63, 69] {
            assert_eq!(compiled.whole_line_rule(&format!("a line ending in zq{i}zq")), Some(format!("r{i}").as_str()));
        }
        assert_eq!(compiled.whole_line_rule("a line ending in nothing"), None);
    }
}
