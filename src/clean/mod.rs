//! The cleaner: strips scraper junk from article text and explains every cut.
//!
//! Text comes one paragraph per line, as scrapers emit it. The cleaner
//! decides line by line, in this order:
//!
//! 1. **header**: metadata lines at the top (a `date` field with an ISO date,
//!    breadcrumbs such as `Home` or `News > World`, `Published ...` lines, a
//!    date alone, a byline, a reading time), up to and including the first
//!    body line (a sentence, or twenty words), with a metadata prefix cut
//!    from a line whose rest is a headline;
//! 2. **caption**, **prompt**, **read_more**, **copyright**, **tags**,
//!    **author** and custom rules: whole junk lines, by pattern (see [`rules`]);
//! 3. **site_boilerplate** / **corpus_boilerplate**: lines a site repeats on
//!    its pages, or short lines repeated across the corpus, learned in a
//!    first pass ([`table`]);
//! 4. **repeated_paragraph**: a paragraph seen earlier in the document, or a
//!    lead printed alone and then again as the start of the next paragraph;
//! 5. **image_credit**: a credit glued after a pipe (`Headline | Image: X`);
//! 6. **stray_token**: one token glued after the final sentence
//!    (`...the Kremlin said. rehash`), when the token is listed or learned;
//!    the last word of a sentence is never cut.
//!
//! Losing content is worse than leaving junk: every built-in pattern is
//! anchored to a line's start or end, whole-line rules skip long lines, and
//! boilerplate learned across the corpus is limited to short lines, because
//! syndicated copies share long paragraphs.
//!
//! Each cut is a [`Cut`] with character offsets into the original text; the
//! original is the cleaned text with the cuts put back. A removed line takes
//! the line break and blank line after it, so the cleaned text keeps one
//! blank line between paragraphs.

pub mod features;
pub mod lang;
pub mod memo;
pub mod model;
pub mod rules;
pub mod story;
pub mod table;

mod cuts;
mod lines;
mod wide;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use xxhash_rust::xxh3::xxh3_64;

pub use memo::LineMemo;
use model::PageRows;
pub use model::{ClassifierScore, LineModel};
pub use rules::{CompiledRules, Rules};
pub use table::Seen;
pub use table::{BoilerplateTable, DocObservation, Observer, TableLearner};

pub(crate) use cuts::CutSpan;
pub use cuts::{Cleaned, Cut, Why, restore};
use cuts::{build, cut_spans};
use lines::{
    count_pairs_upto, floor_boundary, glued_tail, has_words, is_ascii_space, line_ends_key, line_key, newline_pieces,
    split_lines, template_key, words_upto,
};

/// Rule name: metadata header lines.
pub const HEADER: &str = "header";
/// Rule name: credit glued after a pipe.
pub const IMAGE_CREDIT: &str = "image_credit";
/// Rule name: caption and credit lines.
pub const CAPTION: &str = "caption";
/// Rule name: share/follow/subscribe/cookie/advertising lines.
pub const PROMPT: &str = "prompt";
/// Rule name: read-more and related links.
pub const READ_MORE: &str = "read_more";
/// Rule name: copyright footers.
pub const COPYRIGHT: &str = "copyright";
/// Rule name: tag lists.
pub const TAGS: &str = "tags";
/// Rule name: author bios and contact lines.
pub const AUTHOR: &str = "author";
/// Rule name: lines a site repeats on its pages.
pub const SITE_BOILERPLATE: &str = "site_boilerplate";
/// Rule name: lines of a template a site repeats on its pages, with other
/// names and numbers (a site template: `by X | X 0`).
pub const SITE_TEMPLATE: &str = "site_template";
/// Rule name: short lines repeated across the corpus.
pub const CORPUS_BOILERPLATE: &str = "corpus_boilerplate";
/// Rule name: repeated paragraphs.
pub const REPEATED_PARAGRAPH: &str = "repeated_paragraph";
/// Rule name: stray token after the last sentence.
pub const STRAY_TOKEN: &str = "stray_token";
/// Rule name: a line the classifier scores as junk.
pub const CLASSIFIER: &str = "classifier";

/// A compiled cleaner: rules plus what was learned from the corpus.
///
/// A thread that cleans many texts gets the same results faster from
/// [`Cleaner::clean_with_memo`], which keeps the verdicts on lines that
/// recur, and from a clone of its own: a clone shares the learned table
/// and the regexes' compiled automata (it copies the rules and the keyword
/// automaton), and its regexes keep their scratch space for the thread
/// that first uses them, where threads sharing one cleaner take it from a
/// pool (a lock for all but one of them).
///
/// ```
/// use doppel::clean::{Cleaner, Rules};
/// let cleaner = Cleaner::new(&Rules::default(), Default::default())?;
/// let text = " date 2024-12-28 Home\n\nPort strike enters third day | Image: Reuters\n\n\
///             Dock workers stayed off the job on Monday, the union said. rehash";
/// let cleaned = cleaner.clean(text, None);
/// assert_eq!(cleaned.text, "Port strike enters third day\n\nDock workers stayed off the job on Monday, the union said.");
/// assert_eq!(cleaned.cuts.len(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Cleaner {
    rules: Rules,
    compiled: CompiledRules,
    /// Shared by clones: a worker's own clone copies the compiled rules,
    /// not what was learned.
    table: std::sync::Arc<BoilerplateTable>,
    stray: StrayPattern,
    /// Names these rules for a [`LineMemo`]: distinct for every compiled
    /// set of rules in the process, shared by clones and kept by
    /// [`Cleaner::with_table`], which leave the rules as they are.
    rules_id: u64,
    /// The line classifier, when its rule is enabled, and the junk
    /// probability it cuts at.
    model: Option<std::sync::Arc<LineModel>>,
    junk_threshold: f32,
}

/// The pattern of a stray token glued after a line's final sentence
/// (`...the Kremlin said. rehash`), shared by the cleaner and the learner:
///
/// `(?:[\p{L}\d]{2}|["'”’)\]])[.!?]["'”’)\]]*(\s+)([\p{Ll}][\p{Ll}\d_-]{0,30})\s*$`
///
/// A sentence end, optional closing quotes or brackets, then one
/// lower-case token and nothing else. The sentence end needs two letters
/// or digits (or a closing quote or bracket) before it, so `U.S. bill` is
/// not a sentence and a token.
///
/// The pattern is read from the line's end back, over regex-syntax's own
/// Unicode classes: as a regex, its classes took about 10 ms to compile,
/// at the start of every learning pass, where every worker waited for it.
/// A test holds the scan to the regex.
#[derive(Debug, Clone)]
pub(crate) struct StrayPattern(&'static StrayClasses);

/// The Unicode classes of [`StrayPattern`], as sorted ranges.
#[derive(Debug)]
pub(crate) struct StrayClasses {
    /// `[\p{L}\d]`: what stands before a sentence end.
    word: Vec<(char, char)>,
    /// `\p{Ll}`: a token's first character.
    lower: Vec<(char, char)>,
    /// `[\p{Ll}\d_-]`: a token's other characters.
    token: Vec<(char, char)>,
    /// `\s`.
    space: Vec<(char, char)>,
}

impl StrayClasses {
    fn get() -> &'static StrayClasses {
        static CLASSES: std::sync::OnceLock<StrayClasses> = std::sync::OnceLock::new();
        CLASSES.get_or_init(|| StrayClasses {
            word: unicode_class(r"[\p{L}\d]"),
            lower: unicode_class(r"\p{Ll}"),
            token: unicode_class(r"[\p{Ll}\d_-]"),
            space: unicode_class(r"\s"),
        })
    }
}

/// The ranges of a one-class pattern, by regex-syntax (the tables the
/// `regex` crate itself matches with).
fn unicode_class(pattern: &str) -> Vec<(char, char)> {
    // A constant pattern of one class: it parses, to a Unicode class.
    let hir = regex_syntax::parse(pattern).expect("a valid constant class");
    match hir.kind() {
        regex_syntax::hir::HirKind::Class(regex_syntax::hir::Class::Unicode(class)) => {
            class.ranges().iter().map(|r| (r.start(), r.end())).collect()
        }
        other => unreachable!("`{pattern}` is one Unicode class, not {other:?}"),
    }
}

/// Whether `c` lies in one of `ranges` (sorted, apart).
fn in_class(ranges: &[(char, char)], c: char) -> bool {
    ranges
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// The closing quotes and brackets of [`StrayPattern`].
fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | '”' | '’' | ')' | ']')
}

impl StrayPattern {
    /// The pattern, its classes built once a process.
    pub(crate) fn new() -> StrayPattern {
        StrayPattern(StrayClasses::get())
    }

    /// The stray token glued after the final sentence of `line`, if any:
    /// `(start of the space before it, end of token, token)`.
    pub(crate) fn trailing_token<'l>(&self, line: &'l str) -> Option<(usize, usize, &'l str)> {
        if !may_end_in_token(line) {
            return None;
        }
        let classes = self.0;
        let space = |c: char| in_class(&classes.space, c);
        let mut back = line.char_indices().rev().peekable();
        // Spaces at the end (`\s*$`).
        let mut end = line.len();
        while let Some(&(at, _)) = back.peek().filter(|&&(_, c)| space(c)) {
            end = at;
            back.next();
        }
        // The token: the last word, of at most 31 token characters, the
        // first lower case.
        let (mut start, mut first, mut chars) = (end, None, 0);
        while let Some(&(at, c)) = back.peek().filter(|&&(_, c)| !space(c)) {
            if !in_class(&classes.token, c) {
                return None;
            }
            (start, first, chars) = (at, Some(c), chars + 1);
            back.next();
        }
        if chars > 31 || !first.is_some_and(|c| in_class(&classes.lower, c)) {
            return None;
        }
        // The spaces before it (`\s+`), all of them: what comes before is
        // not a space.
        let mut space_start = start;
        while let Some(&(at, _)) = back.peek().filter(|&&(_, c)| space(c)) {
            space_start = at;
            back.next();
        }
        if space_start == start {
            return None;
        }
        // Closing quotes and brackets, then the sentence end, then two
        // letters or digits or a closing quote or bracket.
        while back.next_if(|&(_, c)| is_closer(c)).is_some() {}
        back.next_if(|&(_, c)| matches!(c, '.' | '!' | '?'))?;
        let ends_sentence = match back.next()?.1 {
            c if is_closer(c) => true,
            c => in_class(&classes.word, c) && back.next().is_some_and(|(_, c)| in_class(&classes.word, c)),
        };
        ends_sentence.then(|| (space_start, end, &line[start..end]))
    }
}

/// What the cleaner decided for one non-blank line. Rule names borrow from
/// the cleaner: a decision allocates nothing but its partial cuts.
#[derive(Debug, Clone, Default)]
struct LineDecision<'r> {
    start: usize,
    end: usize,
    removed_by: Option<&'r str>,
    // Partial cuts: (start, end, rule), byte offsets into the text.
    cuts: Vec<(usize, usize, &'r str)>,
    // True when the keyword scan found none of the words that the glued
    // credit's patterns without a rare byte need (see `LineScan`), so that
    // their search can be spared. Negative so that the default, for a line
    // the scan did not read, is to search.
    no_credit_words: bool,
    // Why the classifier or a learned line cut the line, when one did; on
    // a kept line, why the classifier cut the tail glued to its headline.
    why: Option<Why>,
}

/// What the header rule makes of one line (see [`Cleaner::decide_header`]).
#[derive(Debug, Clone, Copy)]
struct HeaderFacts {
    /// A body line: it ends the header zone.
    content: bool,
    /// The whole line is header.
    covered: bool,
    /// Where a header prefix cut from the line's start ends, if any.
    prefix_end: Option<usize>,
}

/// What [`Cleaner::decide_repeats`] keeps of a line between rounds: where
/// the line ends without its stray token, and that bare line's
/// [`line_ends_key`].
#[derive(Debug, Clone, Copy)]
struct RepeatKey {
    bare_end: usize,
    letters: u64,
}

impl Cleaner {
    /// Compiles `rules`; `table` holds learned boilerplate and stray tokens.
    /// Lines are classified with the built-in model.
    pub fn new(rules: &Rules, table: BoilerplateTable) -> crate::Result<Cleaner> {
        let model = rules.classifier.enabled.then(|| LineModel::builtin().clone());
        Cleaner::with_rules_table_model(rules, table, model)
    }

    /// [`Cleaner::new`] with another line model than the built-in one
    /// (`None`: none at all).
    pub fn with_rules_table_model(
        rules: &Rules,
        table: BoilerplateTable,
        model: Option<LineModel>,
    ) -> crate::Result<Cleaner> {
        let compiled = rules.compile().map_err(|e| crate::Error::config(e.to_string()))?;
        let stray = StrayPattern::new();
        static NEXT_RULES_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let rules_id = NEXT_RULES_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut cleaner = Cleaner {
            rules: rules.clone(),
            compiled,
            table: std::sync::Arc::new(table),
            stray,
            rules_id,
            model: None,
            junk_threshold: 1.0,
        };
        if let Some(model) = model {
            cleaner = cleaner.with_model(model);
        }
        Ok(cleaner)
    }

    /// The same cleaner with another line model (one trained by
    /// `doppel train-cleaner`); the rules' threshold, if they set one,
    /// still wins over the model's.
    pub fn with_model(mut self, model: LineModel) -> Cleaner {
        self.junk_threshold = self.rules.classifier.threshold.unwrap_or(model.threshold);
        self.model = self.rules.classifier.enabled.then(|| std::sync::Arc::new(model));
        // The classifier reads each page's language: its tables are built
        // where the cleaner is (in `run`, beside the learning pass).
        if self.model.is_some() {
            lang::warm_up();
        }
        self
    }

    /// Whether `self` is a clone of `other`: only clones share a learned
    /// table (a new table, or new rules, make a new one), so the table
    /// tells.
    pub(crate) fn is_clone_of(&self, other: &Cleaner) -> bool {
        std::sync::Arc::ptr_eq(&self.table, &other.table)
    }

    /// The same rules (already compiled) with another table.
    pub fn with_table(mut self, table: BoilerplateTable) -> Cleaner {
        self.table = std::sync::Arc::new(table);
        self
    }

    /// The rules in force.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The learned table in force.
    pub fn table(&self) -> &BoilerplateTable {
        &self.table
    }

    /// The stray token glued after the final sentence of `line`, if any:
    /// `(start of the space before it, end of token, token)`.
    pub(crate) fn trailing_token<'l>(&self, line: &'l str) -> Option<(usize, usize, &'l str)> {
        self.stray.trailing_token(line)
    }

    /// A line as it will stand after the cuts that never remove it whole
    /// (glued credit, header prefix, stray token): what counts as content.
    /// `credit_words` is false when the line is known to hold none of the
    /// words a glued credit without a rare byte needs; `header_prefix_end`
    /// is [`Cleaner::header_prefix_end`] of the whole line.
    fn as_cleaned<'l>(
        &self,
        whole: &'l str,
        site: Option<&str>,
        credit_words: bool,
        header_prefix_end: Option<usize>,
    ) -> &'l str {
        let mut line = self.without_stray(whole);
        if let Some(s) = self.table.site_suffix(site, line) {
            line = &line[..s];
        }
        if let Some((s, e)) = self.compiled.image_credit.find_screened(line, credit_words)
            && e == line.len()
            && s > 0
        {
            line = &line[..s];
        }
        // Most lines lose nothing above, and their header prefix is known.
        let prefix_end = match line.len() == whole.len() {
            true => header_prefix_end,
            false => self.header_prefix_end(line, self.compiled.header.covers_line(line)),
        };
        match prefix_end {
            Some(e) => &line[e..],
            None => line,
        }
    }

    /// Where a header prefix at the start of `line` ends, unless the
    /// header covers the whole line (`covered`).
    fn header_prefix_end(&self, line: &str, covered: bool) -> Option<usize> {
        match covered {
            true => None,
            false => self.compiled.header.find(line).and_then(|(s, e)| (s == 0).then_some(e)),
        }
    }

    /// `line` without a listed or learned stray token at its end.
    fn without_stray<'l>(&self, line: &'l str) -> &'l str {
        if !self.rules.stray_token.enabled {
            return line;
        }
        match self.trailing_token(line) {
            Some((s, _, token)) if self.is_stray_token(token) => &line[..s],
            _ => line,
        }
    }

    fn is_stray_token(&self, token: &str) -> bool {
        let token = token.to_lowercase();
        self.compiled.stray_tokens.contains(&token) || self.table.is_stray(&token)
    }

    /// Cleans one text; `site` selects the per-site boilerplate.
    pub fn clean(&self, text: &str, site: Option<&str>) -> Cleaned {
        let lines = self.clean_lines(text, site, None);
        build(text, &lines, true)
    }

    /// [`Cleaner::clean`], with the whole-line verdicts of lines met before
    /// taken from `memo` and those of new lines kept there: the same
    /// result, faster when lines recur, as they do across a site's pages.
    pub fn clean_with_memo(&self, text: &str, site: Option<&str>, memo: &mut LineMemo) -> Cleaned {
        let lines = self.clean_lines(text, site, Some(memo));
        build(text, &lines, true)
    }

    /// The cuts [`Cleaner::clean_with_memo`] makes, without the cleaned
    /// text: for a caller that rebuilds it later from the cuts' byte spans
    /// (`doppel run`), and so need not copy every text now.
    pub fn cuts_with_memo(&self, text: &str, site: Option<&str>, memo: &mut LineMemo) -> Vec<Cut> {
        let lines = self.clean_lines(text, site, Some(memo));
        build(text, &lines, false).cuts
    }

    /// [`Cleaner::clean_with_memo`] as spans that borrow their rule names
    /// and leave the cut text in `text`: the cleaning pass writes each cut
    /// once and keeps none, and two strings a cut were a tenth of its
    /// allocations. The cleaned text is built only `with_text`.
    pub(crate) fn clean_spans_with_memo(
        &self,
        text: &str,
        site: Option<&str>,
        memo: &mut LineMemo,
        with_text: bool,
    ) -> (String, Vec<CutSpan<'_>>) {
        let lines = self.clean_lines(text, site, Some(memo));
        cut_spans(text, &lines, with_text)
    }

    /// Every line's decision.
    fn clean_lines<'r>(
        &'r self,
        text: &str,
        site: Option<&str>,
        mut memo: Option<&mut LineMemo>,
    ) -> Vec<LineDecision<'r>> {
        let mut lines = split_lines(text);
        if lines.is_empty() {
            return lines;
        }
        // The page's language, found only when a label rule fires or the
        // classifier runs: with neither, no page pays for it.
        let language = std::cell::OnceCell::new();
        let stops = || *language.get_or_init(|| lang::detect(text));
        self.decide_line_rules(text, &stops, &mut lines, memo.as_deref_mut());
        // Each kept line keyed by the ends of its letters, for boilerplate
        // and repeats alike; only lines whose keys meet are normalised.
        let mut buf = Vec::new();
        let ends: Vec<u64> = lines
            .iter()
            .map(|l| if l.removed_by.is_none() { line_ends_key(&text[l.start..l.end], &mut buf) } else { 0 })
            .collect();
        self.decide_boilerplate(text, site, &ends, &mut lines);
        let model_cuts = match self.model.is_some() {
            true => self.decide_classifier(text, stops(), &mut lines, memo),
            false => None,
        };
        let mut repeat_keys = vec![None; lines.len()];
        let mut header_facts = vec![None; lines.len()];
        // Where the header ends and which paragraphs are adjacent both
        // depend on what is already removed: run to a fixpoint, so that
        // cleaning the cleaned text finds nothing more. Removals only grow,
        // so this ends.
        let mut settle = |lines: &mut Vec<LineDecision<'r>>| loop {
            let before = lines.iter().filter(|l| l.removed_by.is_some()).count();
            self.decide_header(text, site, &mut header_facts, lines);
            self.decide_repeats(text, &ends, &mut repeat_keys, lines);
            if lines.iter().filter(|l| l.removed_by.is_some()).count() == before {
                break;
            }
        };
        // What the classifier left, to start again from if the story must
        // go back (see below).
        let before_settling: Vec<(Option<&'r str>, usize)> = match model_cuts {
            Some(_) => lines.iter().map(|l| (l.removed_by, l.cuts.len())).collect(),
            None => Vec::new(),
        };
        settle(&mut lines);
        // Whether the classifier left the page a paragraph is judged once
        // every rule has had its say: one it left may yet be a byline or a
        // repeat. If it left none, the rules after it judged a page without
        // its story (the header ran on past where the story starts, lines
        // either side of the story met): they judge again, from where the
        // classifier left the page, with the story back.
        if let Some(cuts) = &model_cuts
            && let Some(story) = story_to_put_back(cuts, &lines)
        {
            for (l, &(removed_by, cut_count)) in lines.iter_mut().zip(&before_settling) {
                l.removed_by = removed_by;
                l.cuts.truncate(cut_count);
            }
            for i in story {
                lines[i].removed_by = None;
                lines[i].why = None;
            }
            settle(&mut lines);
        }
        self.decide_glued(text, site, &mut lines);
        if let Some((i, at, why)) = model_cuts.and_then(|c| c.headline_tail) {
            cut_headline_tail(&mut lines[i], at, why);
        }
        lines
    }

    /// What the header rule makes of a line; the same in every round of
    /// the fixpoint, so each line is asked once.
    fn header_facts(&self, line: &str, site: Option<&str>, credit_words: bool) -> HeaderFacts {
        let covered = self.compiled.header.covers_line(line);
        let prefix_end = self.header_prefix_end(line, covered);
        HeaderFacts {
            content: is_body_line(self.as_cleaned(line, site, credit_words, prefix_end)),
            covered,
            prefix_end,
        }
    }

    fn decide_header<'r>(
        &'r self,
        text: &str,
        site: Option<&str>,
        facts: &mut [Option<HeaderFacts>],
        lines: &mut [LineDecision<'r>],
    ) {
        // The header zone: kept lines up to and including the first one of
        // six or more words (usually the headline).
        for (l, facts) in lines.iter_mut().zip(facts.iter_mut()).filter(|(l, _)| l.removed_by.is_none()) {
            let line = &text[l.start..l.end];
            let f = *facts.get_or_insert_with(|| self.header_facts(line, site, !l.no_credit_words));
            if f.covered {
                l.removed_by = Some(HEADER);
                continue;
            }
            if let Some(e) = f.prefix_end
                && !l.cuts.iter().any(|c| c.2 == HEADER)
            {
                l.cuts.push((l.start, l.start + e, HEADER));
            }
            if f.content {
                break;
            }
        }
    }

    fn decide_line_rules<'r>(
        &'r self,
        text: &str,
        stops: &dyn Fn() -> &'static lang::Stopwords,
        lines: &mut [LineDecision<'r>],
        mut memo: Option<&mut LineMemo>,
    ) {
        let rules = &self.compiled;
        for l in lines.iter_mut().filter(|l| l.removed_by.is_none()) {
            let line = &text[l.start..l.end];
            if !rules.may_cover(line) {
                continue;
            }
            let decide = || rules.scan_line(line);
            let verdict = match memo.as_deref_mut() {
                Some(memo) => memo.verdict(self.rules_id, line, decide),
                None => decide(),
            };
            if let Some(i) = verdict.rule {
                let name = rules.line_rules[i].name.as_str();
                // A label rule names lists and credits (`Tags: port,
                // strike`), never a sentence (`Topics: pay and pensions
                // will be on the table when the talks resume.`).
                if !(LABEL_RULES.contains(&name) && is_prose_sentence(line, stops())) {
                    l.removed_by = Some(name);
                }
            }
            l.no_credit_words = !verdict.credit_words;
        }
        // A bare link label (`Most popular`, `Related:`) heads a block of
        // links: the short, unpunctuated lines right under it go with it.
        // Only once the body has begun: a label in the page header
        // (`Trending:`) is navigation, and the line under it is the headline.
        let mut in_block = false;
        let mut in_body = false;
        for l in lines.iter_mut() {
            let line = &text[l.start..l.end];
            match l.removed_by {
                Some(rule) if rule == READ_MORE => in_block = in_body && is_link_label(line),
                Some(_) => {}
                None if in_block && is_link_item(line) => l.removed_by = Some(READ_MORE),
                None => {
                    in_block = false;
                    in_body = in_body || is_body_line(line);
                }
            }
        }
    }

    /// Lines the classifier scores as junk. It reads every line of the
    /// page, those the rules took too: a menu is a run of short lines
    /// whether or not a rule named one of them.
    ///
    /// A page of no known language (made-up words, a list of codes, a
    /// language without a stopword list) is left to the rules: the model
    /// learned what prose looks like from its stopwords, and a page
    /// without them would be read as having none.
    ///
    /// Returns what the cleaner needs afterwards (the story to put back,
    /// the headline's tail) when the classifier scored a kept line as junk.
    fn decide_classifier(
        &self,
        text: &str,
        stops: &'static lang::Stopwords,
        lines: &mut [LineDecision<'_>],
        mut memo: Option<&mut LineMemo>,
    ) -> Option<ModelCuts> {
        let model = self.model.as_ref()?;
        if stops.code.is_empty() {
            return None;
        }
        let texts: Vec<&str> = lines.iter().map(|l| &text[l.start..l.end]).collect();
        let mut lower = String::with_capacity(features::LOWER_WORD_BYTES);
        let mut count = |line: &str| features::LineStats::of(line, stops, &mut lower);
        let stats = texts
            .iter()
            .map(|&line| match memo.as_deref_mut() {
                Some(memo) => memo.stats(line, stops, || count(line)),
                None => count(line),
            })
            .collect();
        let page = LineModel::rows_of(&texts, stats, stops);
        let scored = model.score_rows_where(&page, |i| lines[i].removed_by.is_none());
        let cut = |(l, &p): (&LineDecision<'_>, &f32)| l.removed_by.is_none() && p >= self.junk_threshold;
        // Most pages of prose have nothing to cut: their headline and
        // story lines need not be looked for.
        if !lines.iter().zip(&scored.second).any(cut) {
            return None;
        }
        // A header glued before the headline (` date 2024-12-28 Headline`)
        // is the header rule's to cut, later: the headline is judged
        // without it, as without a glued tail.
        let title_start =
            |line: &str| self.header_prefix_end(line, self.compiled.header.covers_line(line)).unwrap_or(0);
        let headline = headline(&texts, &page, stops, lines, title_start);
        let mut buf = Vec::new();
        // A line the corpus shows to be a syndicated story's own is content.
        let mut story_line = |line: &str| {
            self.rules.boilerplate.counts_line(line)
                && line_key(line, &mut buf).is_some_and(|(key, _)| self.table.is_story_line(key))
        };
        // A sentence printed twice in a row, the story going on under it,
        // is a lead repeated as the first paragraph, a scraper's slip: the
        // classifier reads the copy as a sign of furniture and would cut
        // both. It leaves the first; the second is still its to cut, or the
        // repeat rule's. (Two copies of a title in a block of links, an
        // image's and a text's, have more links under them, not a
        // paragraph.)
        let kept = |i: usize| lines.get(i).is_some_and(|l| l.removed_by.is_none());
        let repeated_lead: Vec<bool> = (0..lines.len())
            .map(|i| {
                kept(i + 1) && kept(i + 2) && page.is_paragraph(i + 2) && texts[i].trim() == texts[i + 1].trim() && {
                    let s = features::LineStats::of(texts[i], stops, &mut lower);
                    s.is_prose(true) || (s.sentence_end && s.words() >= 3.0)
                }
            })
            .collect();
        let mut cut_by_model = vec![false; lines.len()];
        for (i, l) in lines.iter_mut().enumerate() {
            if l.removed_by.is_none()
                && scored.second[i] >= self.junk_threshold
                && headline != Some(i)
                && !repeated_lead[i]
                && !story_line(texts[i])
            {
                l.removed_by = Some(CLASSIFIER);
                l.why = Some(Why::Scored(model.why(&page, &scored, i)));
                cut_by_model[i] = true;
            }
        }
        // A headline the classifier scores as junk is kept, but what is
        // glued after it (`| Image: X`, `:: The Paper`) goes with the
        // score, unless a rule cuts it first (see `cut_headline_tail`).
        let headline_tail = headline.filter(|&h| scored.second[h] >= self.junk_threshold).and_then(|h| {
            let mut buf = Vec::new();
            let (at, _) = glued_tail(texts[h], &mut buf)?;
            let tail = &texts[h][at..];
            (at > title_start(texts[h]) && is_credit_or_name(tail)).then(|| (h, at, model.why(&page, &scored, h)))
        });
        let paragraph = (0..lines.len()).map(|i| page.is_paragraph(i)).collect();
        Some(ModelCuts { paragraph, cut: cut_by_model, scores: scored.second, headline_tail })
    }

    fn decide_boilerplate(&self, text: &str, site: Option<&str>, ends: &[u64], lines: &mut [LineDecision<'_>]) {
        if !self.rules.boilerplate.enabled || self.table.is_empty() {
            return;
        }
        let mut buf = Vec::new();
        let templates = site.filter(|&s| self.table.has_templates(s));
        let max_words = self.rules.boilerplate.site_max_words;
        for (l, &end_key) in lines.iter_mut().zip(ends).filter(|(l, _)| l.removed_by.is_none()) {
            let line = &text[l.start..l.end];
            // Cheapest first: most lines can be no learned line, and most
            // sites have no template.
            let may_be_line = self.table.may_hold_line(end_key);
            if (!may_be_line && templates.is_none()) || !self.rules.boilerplate.counts_line(line) {
                continue;
            }
            // A line is normalised only when the ends of its letters are
            // those of a learned line.
            if may_be_line
                && let Some((key, _)) = line_key(line, &mut buf)
                && let Some((rule, seen)) = self.table.lookup(site, key)
            {
                l.removed_by = Some(rule);
                l.why = Some(Why::Learned(seen));
            } else if let Some(site) = templates
                && words_upto(line, max_words + 1) <= max_words
                && let Some(key) = template_key(line, &mut buf)
                && let Some(seen) = self.table.site_template(site, key)
            {
                l.removed_by = Some(SITE_TEMPLATE);
                l.why = Some(Why::Learned(seen));
            }
        }
    }

    /// Repeated paragraphs, compared on their normalised text without a
    /// stray token, so that `said.` and `said. rehash` are the same
    /// paragraph.
    ///
    /// Normalising every paragraph was a third of the cleaner's time, and
    /// nearly all paragraphs are unique: a paragraph is normalised only
    /// when its letters could make it a repeat (the same [`line_ends_key`]
    /// as another kept paragraph) or the lead of the next one (its letters
    /// start the next paragraph's). `keys` carries each line's key without
    /// its stray token from one round of the fixpoint to the next.
    fn decide_repeats(&self, text: &str, ends: &[u64], keys: &mut [Option<RepeatKey>], lines: &mut [LineDecision<'_>]) {
        let rule = &self.rules.repeated_paragraph;
        if !rule.enabled {
            return;
        }
        let kept: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].removed_by.is_none()).collect();
        let mut buf = Vec::new();
        for &i in &kept {
            if keys[i].is_none() {
                let l = &lines[i];
                let line = &text[l.start..l.end];
                let bare = self.without_stray(line);
                let letters = if bare.len() == line.len() { ends[i] } else { line_ends_key(bare, &mut buf) };
                keys[i] = Some(RepeatKey { bare_end: l.start + bare.len(), letters });
            }
        }
        // Owned spans, so that the lines can be marked while the closures live.
        let spans: Vec<(usize, RepeatKey)> = lines
            .iter()
            .zip(keys.iter())
            .map(|(l, k)| (l.start, k.unwrap_or(RepeatKey { bare_end: l.end, letters: 0 })))
            .collect();
        let key = |i: usize| spans[i].1;
        let bare = |i: usize| &text[spans[i].0..spans[i].1.bare_end];
        let mut normalized: Vec<Option<Vec<u8>>> = vec![None; lines.len()];
        let mut normalize = |i: usize| -> Vec<u8> {
            normalized[i]
                .get_or_insert_with(|| {
                    let mut n = Vec::new();
                    crate::shingle::normalize_bytes(bare(i), &mut n);
                    n
                })
                .clone()
        };
        // A lead printed alone, then again as the start of the next paragraph.
        let mut leads = Vec::new();
        for w in kept.windows(2) {
            if !crate::shingle::letters_may_start_with(bare(w[1]), bare(w[0])) {
                continue;
            }
            let (a, b) = (normalize(w[0]), normalize(w[1]));
            if has_words(&a, rule.prefix_min_words) && b.len() > a.len() && b.starts_with(&a) && b[a.len()] == b' ' {
                leads.push(w[0]);
            }
        }
        for i in leads {
            lines[i].removed_by = Some(REPEATED_PARAGRAPH);
        }
        let mut letters_seen: HashMap<u64, u32> = HashMap::with_capacity_and_hasher(kept.len(), Default::default());
        for &i in kept.iter().filter(|&&i| lines[i].removed_by.is_none()) {
            *letters_seen.entry(key(i).letters).or_default() += 1;
        }
        let mut seen = HashSet::default();
        for &i in &kept {
            if lines[i].removed_by.is_some() || letters_seen.get(&key(i).letters).is_none_or(|&n| n < 2) {
                continue;
            }
            let n = normalize(i);
            if has_words(&n, rule.min_words) && !seen.insert(xxh3_64(&n)) {
                lines[i].removed_by = Some(REPEATED_PARAGRAPH);
            }
        }
    }

    fn decide_glued<'r>(&'r self, text: &str, site: Option<&str>, lines: &mut [LineDecision<'r>]) {
        for l in lines.iter_mut().filter(|l| l.removed_by.is_none()) {
            let line = &text[l.start..l.end];
            if let Some((mut s, e)) = self.compiled.image_credit.find_screened(line, !l.no_credit_words)
                && e == line.len()
                && s > 0
            {
                // A credit after a sentence keeps the sentence's stop.
                if line[s..].starts_with(['.', '!', '?']) {
                    s += 1;
                }
                if !l.cuts.iter().any(|c| c.1 > l.start + s) {
                    l.cuts.push((l.start + s, l.end, IMAGE_CREDIT));
                }
            } else if let Some(s) = self.table.site_suffix(site, line)
                && !l.cuts.iter().any(|c| c.1 > l.start + s)
            {
                l.cuts.push((l.start + s, l.end, SITE_BOILERPLATE));
            }
        }
        if !self.rules.stray_token.enabled {
            return;
        }
        if let Some(l) = lines.iter_mut().rev().find(|l| l.removed_by.is_none()) {
            // The line as it stands after any cut at its end.
            let end = l.cuts.iter().filter(|c| c.1 == l.end).map(|c| c.0).min().unwrap_or(l.end);
            let line = &text[l.start..end];
            if let Some((s, e, token)) = self.trailing_token(line)
                && self.is_stray_token(token)
            {
                l.cuts.push((l.start + s, l.start + e, STRAY_TOKEN));
            }
        }
    }
}

/// A test the stray-token pattern needs to pass, far cheaper than the
/// pattern: the line's last word is the token, so it must end in a
/// lower-case letter, a digit, `_` or `-`, and a sentence end or closing
/// quote must stand right before the space in front of it. Most paragraphs
/// end in a full stop and fail the first test.
fn may_end_in_token(line: &str) -> bool {
    let line = line.trim_end();
    match line.as_bytes().last() {
        None => return false,
        Some(&b) if b.is_ascii() && !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-') => {
            return false;
        }
        Some(_) => {}
    }
    let Some(space) = line.rfind(char::is_whitespace) else {
        return false;
    };
    matches!(line[..space].trim_end().chars().next_back(), Some('.' | '!' | '?' | '"' | '\'' | '”' | '’' | ')' | ']'))
}

/// The story's headline, which the classifier leaves alone: of the lines
/// the rules kept among the six above the first line of prose, the longest
/// that reads like a title (two to thirty words, no separators, tags,
/// links or closing colon, and not prose), judged from `title_start`
/// (after a glued header, ` date 2024-12-28 Headline`) and without a tail
/// glued after a separator (`Headline | The Paper`, `Headline | (Photo:
/// X)`), which the header and glued-tail rules take care of.
///
/// A headline is a short line at the top of a page, as menus, section
/// labels and bylines are, and the classifier's features cannot always
/// tell it from them; but a page's prose starts under its title, a title
/// is longer than a byline or a date, and losing it makes two copies of a
/// story look less alike.
///
/// When no line above it reads like a title and the rules cut that line
/// of prose (a cookie banner), the next line of prose is asked, and so on.
/// When none above the first line of prose the rules kept reads like a
/// title, the headline may be that line itself or one of the two after it
/// before the first paragraph ([`PageRows::is_paragraph`]): a headline can
/// read as prose, all the more with a header or a credit glued to it
/// (` date 2024-12-28 Putin Apologizes to Azerbaijan Over Plane Crash,
/// Here's What We Know | Image: X`). There its title need only not end in
/// a full stop.
fn headline(
    texts: &[&str],
    page: &PageRows,
    stops: &lang::Stopwords,
    lines: &[LineDecision<'_>],
    title_start: impl Fn(&str) -> usize,
) -> Option<usize> {
    let kept = |j: usize| lines[j].removed_by.is_none();
    let mut lower = String::new();
    let has_stops = !stops.code.is_empty();
    let mut buf = Vec::new();
    let mut longest = |range: std::ops::Range<usize>, prose_is_title: bool| {
        let mut best: Option<(usize, f32)> = None;
        for j in range.filter(|&j| kept(j)) {
            let line = texts[j];
            let start = title_start(line);
            let end = match glued_tail(line, &mut buf) {
                Some((at, _)) if at > start => at,
                _ => line.len(),
            };
            let title = &line[start..end];
            let s = features::LineStats::of(title, stops, &mut lower);
            let words = s.words();
            let not_prose = match prose_is_title {
                true => !title.trim_end().ends_with(['.', '。']),
                false => !s.is_prose(has_stops),
            };
            let titled = (2.0..=30.0).contains(&words)
                && s.separators == 0
                && s.tags == 0
                && !s.link_or_copyright
                && !s.colon_end
                && not_prose;
            if titled && best.is_none_or(|(_, w)| words > w) {
                best = Some((j, words));
            }
        }
        best.map(|(j, _)| j)
    };
    for prose in (0..lines.len()).filter(|&j| page.is_prose(j)) {
        if let Some(j) = longest(prose.saturating_sub(6)..prose, false) {
            return Some(j);
        }
        if kept(prose) {
            let paragraph = (prose..lines.len()).find(|&j| kept(j) && page.is_paragraph(j)).unwrap_or(lines.len());
            return longest(prose..paragraph.min(prose + 3), true);
        }
    }
    None
}

/// What the classifier did to a page, for what the cleaner does after it.
struct ModelCuts {
    /// Whether each line is a paragraph ([`PageRows::is_paragraph`]).
    paragraph: Vec<bool>,
    /// Whether the classifier cut the line.
    cut: Vec<bool>,
    /// Each line's junk probability.
    scores: Vec<f32>,
    /// The headline, when the classifier scored it as junk and something
    /// is glued after it: its line, where the glued tail starts (bytes into
    /// the line) and the score.
    headline_tail: Option<(usize, usize, ClassifierScore)>,
}

/// Whether a tail glued after a headline (` | The Paper`, ` — Photograph:
/// X/Agency`, ` - (Photo: X)`) reads as a site's name or a credit rather
/// than the headline's second half (` - ferries stay in port`): every word
/// capitalised, and either a pipe or double colon before it, or a credit's
/// `:` or `/` in it. Dashes join the halves of many headlines.
fn is_credit_or_name(tail: &str) -> bool {
    let tail = tail.trim();
    let (separator, rest) = tail.split_once(' ').unwrap_or((tail, ""));
    let capitalised =
        rest.split_whitespace().all(|w| w.chars().find(|c| c.is_alphabetic()).is_none_or(char::is_uppercase));
    capitalised && (matches!(separator, "|" | "::") || rest.contains([':', '/']))
}

/// Cuts the tail glued after a headline the classifier scored as junk
/// (bytes `at..` of the line), unless the line went after all or a rule
/// already cut into the tail: a rule's name says more than the
/// classifier's.
fn cut_headline_tail(line: &mut LineDecision<'_>, at: usize, why: ClassifierScore) {
    if line.removed_by.is_some() || line.cuts.iter().any(|c| c.1 > line.start + at) {
        return;
    }
    line.cuts.push((line.start + at, line.end, CLASSIFIER));
    line.why = Some(Why::Scored(why));
}

/// The paragraphs the classifier cut that go back, [`story_to_keep`]'s
/// run, given every line's verdict so far; `None` when none go back.
fn story_to_put_back(cuts: &ModelCuts, lines: &[LineDecision<'_>]) -> Option<Vec<usize>> {
    let kept: Vec<bool> = lines.iter().map(|l| l.removed_by.is_none()).collect();
    let story = story_to_keep(&cuts.paragraph, &kept, &cuts.cut, &cuts.scores)?;
    Some(story.filter(|&i| cuts.cut[i] && cuts.paragraph[i]).collect())
}

/// The story that the classifier must not cut whole. When its cuts would
/// leave a page that had paragraphs with none (a one-paragraph story under
/// a wall of menus and teasers reads like one more teaser), the paragraph
/// it scored least like junk stays, with the paragraphs it cut next to it
/// (lines the rules cut between them do not break the run). Returns the
/// range of that run (the paragraphs in it that the classifier cut go
/// back), or `None` when a paragraph is kept or the classifier cut none.
/// `paragraph` is whether each line is one ([`PageRows::is_paragraph`]),
/// `kept` its verdict after the classifier and the rules, `cut` whether
/// the classifier cut it, `scores` its junk probabilities.
fn story_to_keep(paragraph: &[bool], kept: &[bool], cut: &[bool], scores: &[f32]) -> Option<std::ops::Range<usize>> {
    if (0..paragraph.len()).any(|i| paragraph[i] && kept[i]) {
        return None;
    }
    // The least junk-like paragraph cut; the earlier one on a tie.
    let best = (0..paragraph.len())
        .filter(|&i| paragraph[i] && cut[i])
        .min_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)))?;
    // Out from it over paragraphs cut and over lines the rules removed,
    // to the last paragraph cut either way.
    let in_run = |i: usize| (paragraph[i] && cut[i]) || (!kept[i] && !cut[i]);
    let mut start = best;
    let mut j = best;
    while j > 0 && in_run(j - 1) {
        j -= 1;
        if paragraph[j] {
            start = j;
        }
    }
    let mut end = best + 1;
    let mut j = best + 1;
    while j < paragraph.len() && in_run(j) {
        if paragraph[j] {
            end = j + 1;
        }
        j += 1;
    }
    Some(start..end)
}

/// Rules whose lines start with a label (`Tags:`, `Related:`, `Image
/// credit:`) and go on with a list or a credit, which a sentence of prose
/// after the label overrides.
const LABEL_RULES: [&str; 3] = [CAPTION, READ_MORE, TAGS];

/// A sentence of prose: twelve words or more, a stopword share of prose,
/// and a sentence end.
fn is_prose_sentence(line: &str, stops: &lang::Stopwords) -> bool {
    let s = features::LineStats::of(line, stops, &mut String::new());
    s.sentence_end && s.words() >= 12.0 && s.is_prose(!stops.code.is_empty())
}

/// A read-more line with no link of its own: a label heading a block.
fn is_link_label(line: &str) -> bool {
    let t = line.trim().trim_end_matches(':');
    words_upto(t, 5) <= 4 && !t.contains(':')
}

/// A line that looks like a link in a block: a headline, maybe numbered,
/// not a sentence.
fn is_link_item(line: &str) -> bool {
    let words = words_upto(line, 26);
    let end = line.trim_end().chars().next_back().unwrap_or('.');
    let t = line.trim_start();
    // A numbered or bulleted item may end any way; a bare one must not read
    // as a sentence.
    let marked = t.starts_with(['•', '-', '–', '*', '·'])
        || t.split_once(". ")
            .is_some_and(|(n, _)| !n.is_empty() && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit()));
    (2..=25).contains(&words) && (marked || !matches!(end, '.' | '!' | '?' | '"' | '”' | ':'))
}

/// The first body line ends the header zone: a sentence (six or more words
/// ending in a full stop, question or exclamation mark, or a closing quote)
/// or any line of twenty words or more. A headline rarely ends in a stop, so
/// bylines and timestamps under it still count as header.
fn is_body_line(line: &str) -> bool {
    let words = words_upto(line, 20);
    let end = line.trim_end().chars().next_back().unwrap_or(' ');
    words >= 20 || (words >= 6 && matches!(end, '.' | '!' | '?' | '"' | '”' | '’' | '\''))
}

#[cfg(test)]
mod tests {
    // A paragraph of a story, for the tests of what the classifier keeps.
    const FERRY: &str = "The river ferry went back into service on Monday after a month of repairs, and the first crossing carried about thirty passengers and two vans.";

    // A cleaner whose classifier, at a threshold of 0, cuts every line it
    // scores: what it still keeps is what the cleaner protects.
    fn cutting_every_line() -> super::Cleaner {
        let mut rules = super::Rules::default();
        rules.classifier.threshold = Some(0.0);
        super::Cleaner::new(&rules, super::BoilerplateTable::default()).unwrap()
    }

    // Lines as letters: P a paragraph the classifier cut, p a paragraph
    // kept, x another line it cut, r a line a rule removed, k another kept
    // line.
    fn story(page: &str, scores: &[f32]) -> Option<std::ops::Range<usize>> {
        let paragraph: Vec<bool> = page.chars().map(|c| matches!(c, 'P' | 'p')).collect();
        let kept: Vec<bool> = page.chars().map(|c| matches!(c, 'p' | 'k')).collect();
        let cut: Vec<bool> = page.chars().map(|c| matches!(c, 'P' | 'x')).collect();
        super::story_to_keep(&paragraph, &kept, &cut, scores)
    }

    #[test]
    fn a_classifier_that_cuts_every_line_leaves_the_story() {
        let cleaner = cutting_every_line();
        let first = FERRY;
        let second = "Its operator said that the timetable would be the same as before the repairs, with a crossing every hour until the evening.";
        let page = format!("Home\nNews | Sport | Weather\nFerry back in service\n{first}\n{second}\nContact us");
        let out = cleaner.clean(&page, None);
        // The headline stays as ever; the story's two paragraphs go back,
        // whichever of them the classifier found less junk-like.
        assert_eq!(out.text, format!("Ferry back in service\n{first}\n{second}"), "cuts: {:?}", out.cuts);
        // The rules after the classifier judge the page with its story
        // back, not as they found it without: with the story gone, the
        // header ran on to the byline-like line under it and cut it.
        let line = "By Monday, the ferry will run every hour.";
        let page = format!("Ferry back in service\n{first}\n{line}\n{line}\n{second}");
        let out = cleaner.clean(&page, None);
        assert_eq!(out.text, format!("Ferry back in service\n{first}\n{line}\n{second}"), "cuts: {:?}", out.cuts);
        assert!(out.cuts.iter().all(|c| c.rule != "header"), "cuts: {:?}", out.cuts);
    }

    #[test]
    fn a_headline_keeps_its_words_and_loses_what_is_glued_to_it() {
        use super::Why;
        let cleaner = cutting_every_line();
        let body = FERRY;
        // A header before the headline and a credit after it make the whole
        // line read as prose: it is the page's first line of prose, and
        // still its headline. The rules cut the header and the credit.
        let title = "River Ferry Returns To Service After A Month Of Repairs, Here's What We Know";
        let page = format!(" date 2025-01-10 {title} | Image: X\n{body}");
        let out = cleaner.clean(&page, None);
        assert_eq!(out.text, format!("{title}\n{body}"), "cuts: {:?}", out.cuts);
        let rules_used: Vec<&str> = out.cuts.iter().map(|c| c.rule.as_str()).collect();
        assert_eq!(rules_used, ["header", "image_credit"]);
        // A credit no rule names goes with the classifier's score of the
        // line, which the cut carries.
        let title = "River ferry back in service after a month of repairs";
        let page = format!("Home\n{title} | Gazette Photo/Ann Lee\n{body}");
        let out = cleaner.clean(&page, None);
        assert_eq!(out.text, format!("{title}\n{body}"), "cuts: {:?}", out.cuts);
        let credit = out.cuts.iter().find(|c| c.text == " | Gazette Photo/Ann Lee").expect("the credit is cut");
        assert_eq!(credit.rule, super::CLASSIFIER);
        assert!(matches!(credit.why, Some(Why::Scored(s)) if s.junk >= 0.0 && !s.because[0].0.is_empty()));
        // The second half of a headline is not a tail to cut.
        let halves = "Storm closes the harbour - ferries stay in port";
        let out = cleaner.clean(&format!("Home\n{halves}\n{body}"), None);
        assert_eq!(out.text, format!("{halves}\n{body}"), "cuts: {:?}", out.cuts);
        // A cookie banner the rules cut, prose as it is, is not where the
        // story starts: the headline under it is still found.
        let cookies = "We use cookies to give you a better experience on our website.";
        let out = cleaner.clean(&format!("{cookies}\nHome\n{title}\n{body}"), None);
        assert_eq!(out.text, format!("{title}\n{body}"), "cuts: {:?}", out.cuts);
    }

    #[test]
    fn a_lead_printed_twice_keeps_one_copy() {
        // The copies of a lead over the story are not the classifier's to
        // cut both.
        let cleaner = cutting_every_line();
        let lead = "Storm closes the harbour.";
        let body = "The harbour master closed the port to all shipping on Tuesday as the storm reached the coast, and the ferries stayed in their berths.";
        let out = cleaner.clean(&format!("Harbour closed by storm\n{lead}\n{lead}\n{body}"), None);
        assert_eq!(out.text, format!("Harbour closed by storm\n{lead}\n{body}"), "cuts: {:?}", out.cuts);
        // Two copies of a link's title, with more links under them, are
        // the classifier's as before.
        let title = "Ferry timetable changes for the winter.";
        let page = format!("Harbour closed by storm\n{body}\n{title}\n{title}\nFerry fares\nContact us");
        let out = cleaner.clean(&page, None);
        assert_eq!(out.text, format!("Harbour closed by storm\n{body}"), "cuts: {:?}", out.cuts);
    }

    #[test]
    fn the_story_stays_only_when_every_paragraph_would_go() {
        // A paragraph kept, or none on the page: nothing goes back.
        assert_eq!(story("kxPpx", &[0.0, 0.9, 0.8, 0.1, 0.9]), None);
        assert_eq!(story("kxxrk", &[0.0, 0.9, 0.8, 0.0, 0.1]), None);
        // The least junk-like paragraph and the paragraphs cut next to it,
        // over a line a rule removed, up to a cut line that is no paragraph.
        let scores = [0.0, 0.9, 0.95, 0.8, 0.0, 0.75, 0.9, 0.85, 0.99];
        assert_eq!(story("kPxPrPPxP", &scores), Some(3..7));
        // A tie goes to the earlier line.
        assert_eq!(story("PxP", &[0.8, 0.9, 0.8]), Some(0..1));
        // A rule's line at the edge of the run is not part of it.
        assert_eq!(story("rPr", &[0.0, 0.8, 0.0]), Some(1..2));
    }

    // A worker keeps its own clone only while it is a clone of the pass's
    // cleaner: another table, or other rules, and it must clone afresh.
    #[test]
    fn a_clone_is_told_from_a_cleaner_with_another_table_or_rules() {
        use super::{BoilerplateTable, Cleaner, Rules};
        let cleaner = Cleaner::new(&Rules::default(), BoilerplateTable::default()).unwrap();
        let clone = cleaner.clone();
        assert!(clone.is_clone_of(&cleaner) && cleaner.is_clone_of(&clone));
        let other_table = cleaner.clone().with_table(BoilerplateTable::default());
        assert!(!other_table.is_clone_of(&cleaner));
        let other_rules = Cleaner::new(&Rules::default(), BoilerplateTable::default()).unwrap();
        assert!(!other_rules.is_clone_of(&cleaner));
    }

    use super::*;
    use proptest::prelude::*;

    /// Compiled once: the default rules take a while to build in debug builds.
    fn cleaner() -> &'static Cleaner {
        static CLEANER: std::sync::LazyLock<Cleaner> =
            std::sync::LazyLock::new(|| Cleaner::new(&Rules::default(), BoilerplateTable::default()).unwrap());
        &CLEANER
    }

    fn golden_cases() -> Vec<(String, String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/cleaner");
        let mut cases = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".input.txt") {
                let input = std::fs::read_to_string(&path).unwrap();
                let expected = std::fs::read_to_string(dir.join(format!("{stem}.expected.txt"))).unwrap();
                cases.push((stem.to_string(), input, expected));
            }
        }
        cases.sort();
        assert!(cases.len() >= 16);
        cases
    }

    #[test]
    fn golden_cases_come_out_as_expected() {
        let c = cleaner();
        for (name, input, expected) in golden_cases() {
            let out = c.clean(&input, None);
            assert_eq!(out.text, expected, "case {name}: cuts {:#?}", out.cuts);
            assert_eq!(restore(&out.text, &out.cuts), input, "case {name}");
            if name.starts_with("keep_") {
                assert!(out.cuts.is_empty(), "case {name} must not be cut: {:?}", out.cuts);
            }
        }
    }

    #[test]
    fn a_link_block_goes_with_its_label_but_a_list_in_the_story_stays() {
        let c = cleaner();
        let text = "Ships waited offshore as the strike went on for a third day.\n\nMost popular\n\n1. Markets slide as rates rise\n\n2. Storm warning for the coast\n\nThe union will meet again on Friday.";
        assert_eq!(
            c.clean(text, None).text,
            "Ships waited offshore as the strike went on for a third day.\n\nThe union will meet again on Friday."
        );
        // A label above the headline is navigation: the headline stays.
        let top = "Trending:\n\nPort strike talks collapse in the north\n\nShips waited offshore as the strike went on for a third day.";
        assert!(c.clean(top, None).text.starts_with("Port strike talks collapse"));
        let list =
            "The full result was:\n\nTomas Egan (Civic Alliance) 2,418\n\nPriya Natarajan (Progress Party) 2,106";
        assert!(c.clean(list, None).cuts.is_empty());
    }

    #[test]
    fn reference_shapes() {
        let c = cleaner();
        // Header, date line and a lead repeated with more: three lines in a row.
        let text = " date 2024-12-28 Home\nSaturday, December 28, 2024\nThe minister resigned on Saturday after a week of pressure over the contract.\n\nThe minister resigned on Saturday after a week of pressure over the contract. Her deputy takes over.";
        let out = c.clean(text, None);
        assert_eq!(
            out.text,
            "The minister resigned on Saturday after a week of pressure over the contract. Her deputy takes over."
        );
        let rules: Vec<&str> = out.cuts.iter().map(|c| c.rule.as_str()).collect();
        assert_eq!(rules, ["header", "header", "repeated_paragraph"]);
    }

    // Paragraphs are compared on their normalised text: a repeat written
    // with other quotes or with a combining accent is still a repeat, and
    // the letter keys that spare most paragraphs a normalisation must not
    // hide it.
    #[test]
    fn repeats_are_found_whatever_the_quotes_and_accents() {
        let c = cleaner();
        let text = "Le ministre a démissionné samedi, “après une semaine” de pression.\n\n\
                    Il n’a pas répondu aux questions des journalistes ce soir-là.\n\n\
                    Le ministre a de\u{301}missionne\u{301} samedi, \"apres une semaine\" de pression.\n\n\
                    Il n'a pas répondu aux questions des journalistes ce soir-là.";
        let out = c.clean(text, None);
        let rules: Vec<&str> = out.cuts.iter().map(|c| c.rule.as_str()).collect();
        // `apres` lacks its accent: not the same paragraph.
        assert_eq!(rules, ["repeated_paragraph"], "{:#?}", out.cuts);
        assert!(out.cuts[0].text.contains("Il n'a pas"));
        let lead = "Le ministre a démissionné samedi après une semaine de pression.\n\n\
                    Le ministre a de\u{301}missionne\u{301} samedi après une semaine de pression. Son adjoint assure l’intérim.";
        assert_eq!(c.clean(lead, None).cuts.len(), 1);
    }

    #[test]
    fn the_last_word_of_a_sentence_is_never_cut() {
        let c = cleaner();
        for text in ["They found an ossuary.", "It was, he said, rehash", "Prices rose. Rehash", "The end. amp."] {
            assert!(c.clean(text, None).cuts.is_empty(), "{text}");
        }
        assert_eq!(c.clean("Prices rose, he said. amp", None).text, "Prices rose, he said.");
        assert_eq!(c.clean("“We will,” she said.” rehash", None).text, "“We will,” she said.”");
    }

    #[test]
    fn offsets_are_in_characters() {
        let c = cleaner();
        let text = "Ünïcödé headline here today | Image: Réuters";
        let out = c.clean(text, None);
        assert_eq!(out.cuts[0].start, "Ünïcödé headline here today".chars().count());
        assert_eq!(out.cuts[0].end, text.chars().count());
    }

    fn arbitrary_article() -> impl Strategy<Value = String> {
        let line = prop_oneof![
            Just(" date 2025-01-02 Home".to_string()),
            Just("News > World".to_string()),
            Just("Photo: AP".to_string()),
            Just("Share this article".to_string()),
            Just("Tags: a, b".to_string()),
            Just("© 2025 Paper. All rights reserved.".to_string()),
            Just("Ships waited offshore as the strike went on for a third day, the union said.".to_string()),
            Just("Ships waited offshore as the strike went on for a third day, the union said. rehash".to_string()),
            Just("Ships waited offshore as the strike went on".to_string()),
            Just("Port strike talks collapse | Image: Reuters".to_string()),
            Just("“I took a photo,” she said.".to_string()),
            Just("Short one.".to_string()),
            "[a-zé ]{0,30}".prop_map(|s| s),
        ];
        (proptest::collection::vec(line, 0..12), proptest::collection::vec(0usize..3, 12)).prop_map(|(lines, seps)| {
            let mut out = String::new();
            for (i, l) in lines.iter().enumerate() {
                out.push_str(l);
                if i + 1 < lines.len() {
                    out.push_str(["\n", "\n\n", "\r\n\r\n"][seps[i]]);
                }
            }
            out
        })
    }

    /// The stray-token pattern as the regex it is written as: what
    /// [`StrayPattern::trailing_token`] is held to.
    fn stray_by_regex(line: &str) -> Option<(usize, usize, &str)> {
        static STRAY: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
        let re = STRAY.get_or_init(|| {
            regex::Regex::new(r#"(?:[\p{L}\d]{2}|["'”’)\]])[.!?]["'”’)\]]*(\s+)([\p{Ll}][\p{Ll}\d_-]{0,30})\s*$"#)
                .unwrap()
        });
        let caps = re.captures(line)?;
        let (space, token) = (caps.get(1)?, caps.get(2)?);
        Some((space.start(), token.end(), token.as_str()))
    }

    #[test]
    fn stray_tokens_are_found_as_the_regex_finds_them() {
        let stray = StrayPattern::new();
        for line in [
            "...the Kremlin said. rehash",
            "He left.\" amp  ",
            "The U.S. bill",
            "Es regnete. ähm",
            "She said.\u{3000}x_1",
            "Done! toolongtokenthatgoesonandonandonforever",
            "Closing (see above). ndash\t",
            "Ends in a word",
            "٣٤. token",
        ] {
            assert_eq!(stray.trailing_token(line), stray_by_regex(line), "{line:?}");
        }
    }

    proptest! {
        // The scan from the end finds what the pattern's regex finds, on
        // lines of letters of every case and script, digits of other
        // scripts, closers, sentence ends and Unicode spaces.
        #[test]
        fn the_stray_token_scan_is_the_regex(
            line in "[a-zA-ZéÉßǅªʰ中Ⅰ٣0-9_\\-.!?\"'”’)\\] \t\u{a0}\u{3000}\u{301}]{0,24}",
        ) {
            prop_assert_eq!(StrayPattern::new().trailing_token(&line), stray_by_regex(&line));
        }

        // The same on lines built like a stray token's, most of which have one.
        #[test]
        fn the_stray_token_scan_is_the_regex_near_a_match(
            line in "[a-zA-ZéÉ٣ʰ.]{0,3}[.!?]?[\"'”’)\\]]{0,2}[ \t\u{a0}]{0,2}[a-zéßʰª٣_\\-A-Z]{0,33}[ \u{3000}]{0,2}",
        ) {
            prop_assert_eq!(StrayPattern::new().trailing_token(&line), stray_by_regex(&line));
        }

        // A memo shared across documents (as a worker's is) never changes
        // a result, whatever it held before.
        #[test]
        fn cleaning_with_a_memo_is_cleaning_without(texts in proptest::collection::vec(arbitrary_article(), 1..6)) {
            let c = cleaner();
            let mut memo = LineMemo::default();
            for text in texts.iter().chain(&texts) {
                prop_assert_eq!(c.clean_with_memo(text, None, &mut memo), c.clean(text, None));
            }
        }

        // `doppel run` keeps only the cuts and later takes their byte spans
        // out of the original: that must give the cleaned text.
        #[test]
        fn the_cuts_byte_spans_taken_out_give_the_cleaned_text(text in arbitrary_article()) {
            let c = cleaner();
            let cleaned = c.clean(&text, None);
            let cuts = c.cuts_with_memo(&text, None, &mut LineMemo::default());
            prop_assert_eq!(&cuts, &cleaned.cuts);
            let mut rebuilt = String::new();
            let mut pos = 0;
            for cut in &cuts {
                prop_assert_eq!(&text[cut.byte_start..cut.byte_end], cut.text.as_str());
                rebuilt.push_str(&text[pos..cut.byte_start]);
                pos = cut.byte_end;
            }
            rebuilt.push_str(&text[pos..]);
            prop_assert_eq!(rebuilt, cleaned.text);
        }

        // The rules run to a fixpoint, so cleaning their output again finds
        // nothing more. The classifier reads each line in its page's context,
        // and a page without its junk is another context: with it, cleaning
        // again may cut more, but the cuts still rebuild the original.
        #[test]
        fn cuts_rebuild_the_original_and_the_rules_are_idempotent(text in arbitrary_article()) {
            let c = cleaner();
            let once = c.clean(&text, None);
            prop_assert_eq!(restore(&once.text, &once.cuts), text.clone());
            let mut rules = Rules::default();
            rules.classifier.enabled = false;
            let c = Cleaner::new(&rules, BoilerplateTable::default()).unwrap();
            let once = c.clean(&text, None);
            prop_assert_eq!(restore(&once.text, &once.cuts), text.clone());
            let twice = c.clean(&once.text, None);
            prop_assert_eq!(&twice.text, &once.text, "second cuts: {:?}", twice.cuts);
        }
    }
}
