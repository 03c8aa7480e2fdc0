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

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use regex::Regex;
use xxhash_rust::xxh3::xxh3_64;

pub use memo::LineMemo;
pub use model::{ClassifierScore, LineModel};
pub use rules::{CompiledRules, Rules};
pub use table::Seen;
pub use table::{BoilerplateTable, DocObservation, TableLearner};

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
    stray: Regex,
    /// Names these rules for a [`LineMemo`]: distinct for every compiled
    /// set of rules in the process, shared by clones and kept by
    /// [`Cleaner::with_table`], which leave the rules as they are.
    rules_id: u64,
    /// The line classifier, when its rule is enabled, and the junk
    /// probability it cuts at.
    model: Option<std::sync::Arc<LineModel>>,
    junk_threshold: f32,
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
    // Why the classifier or a learned line cut the line, when one did.
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
        // A sentence end, optional closing quotes or brackets, then one
        // lower-case token and nothing else.
        // The sentence end needs two letters or digits (or a closing quote
        // or bracket) before it, so `U.S. bill` is not a sentence and a token.
        let stray = Regex::new(r#"(?:[\p{L}\d]{2}|["'”’)\]])[.!?]["'”’)\]]*(\s+)([\p{Ll}][\p{Ll}\d_-]{0,30})\s*$"#)
            .map_err(|e| crate::Error::config(e.to_string()))?;
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
        if !may_end_in_token(line) {
            return None;
        }
        let caps = self.stray.captures(line)?;
        let space = caps.get(1)?;
        let token = caps.get(2)?;
        Some((space.start(), token.end(), token.as_str()))
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
    fn clean_lines(&self, text: &str, site: Option<&str>, memo: Option<&mut LineMemo>) -> Vec<LineDecision<'_>> {
        let mut lines = split_lines(text);
        if lines.is_empty() {
            return lines;
        }
        // The page's language, found only when a label rule fires or the
        // classifier runs: with neither, no page pays for it.
        let language = std::cell::OnceCell::new();
        let stops = || *language.get_or_init(|| lang::detect(text));
        self.decide_line_rules(text, &stops, &mut lines, memo);
        // Each kept line keyed by the ends of its letters, for boilerplate
        // and repeats alike; only lines whose keys meet are normalised.
        let mut buf = Vec::new();
        let ends: Vec<u64> = lines
            .iter()
            .map(|l| if l.removed_by.is_none() { line_ends_key(&text[l.start..l.end], &mut buf) } else { 0 })
            .collect();
        self.decide_boilerplate(text, site, &ends, &mut lines);
        if self.model.is_some() {
            self.decide_classifier(text, stops(), &mut lines);
        }
        let mut repeat_keys = vec![None; lines.len()];
        let mut header_facts = vec![None; lines.len()];
        // Where the header ends and which paragraphs are adjacent both
        // depend on what is already removed: run to a fixpoint, so that
        // cleaning the cleaned text finds nothing more. Removals only grow,
        // so this ends.
        loop {
            let before = lines.iter().filter(|l| l.removed_by.is_some()).count();
            self.decide_header(text, site, &mut header_facts, &mut lines);
            self.decide_repeats(text, &ends, &mut repeat_keys, &mut lines);
            if lines.iter().filter(|l| l.removed_by.is_some()).count() == before {
                break;
            }
        }
        self.decide_glued(text, site, &mut lines);
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
    fn decide_classifier(&self, text: &str, stops: &lang::Stopwords, lines: &mut [LineDecision<'_>]) {
        let Some(model) = &self.model else { return };
        if stops.code.is_empty() {
            return;
        }
        let texts: Vec<&str> = lines.iter().map(|l| &text[l.start..l.end]).collect();
        let page = LineModel::rows(&texts, stops);
        let scored = model.score_rows(&page);
        let cut = |(l, &p): (&LineDecision<'_>, &f32)| l.removed_by.is_none() && p >= self.junk_threshold;
        // Most pages of prose have nothing to cut: their headline and
        // story lines need not be looked for.
        if !lines.iter().zip(&scored.second).any(cut) {
            return;
        }
        let headline = page.first_prose().and_then(|first_prose| headline(&texts, first_prose, stops, lines));
        let mut buf = Vec::new();
        // A line the corpus shows to be a syndicated story's own is content.
        let mut story_line = |line: &str| {
            self.rules.boilerplate.counts_line(line)
                && line_key(line, &mut buf).is_some_and(|(key, _)| self.table.is_story_line(key))
        };
        for (i, l) in lines.iter_mut().enumerate() {
            if l.removed_by.is_none()
                && scored.second[i] >= self.junk_threshold
                && headline != Some(i)
                && !story_line(texts[i])
            {
                l.removed_by = Some(CLASSIFIER);
                l.why = Some(Why::Scored(model.why(&page, &scored, i)));
            }
        }
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
        let mut letters_seen: HashMap<u64, u32> = HashMap::default();
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

/// Where a short tail glued to a line after a separator starts, and the
/// tail's key: `Headline | The Paper` -> (start of ` | The Paper`, key of
/// `the paper`). Tails of up to five words after ` | `, ` :: `, ` — `,
/// ` – ` or ` - ` count.
pub(crate) fn glued_tail(line: &str, buf: &mut Vec<u8>) -> Option<(usize, u64)> {
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
pub(crate) fn line_ends_key(line: &str, buf: &mut Vec<u8>) -> u64 {
    crate::shingle::ends_key(line).unwrap_or_else(|| {
        crate::shingle::normalize_bytes(line, buf);
        crate::shingle::ends_key_normalized(buf)
    })
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
/// the rules kept among the six above the first paragraph of prose, the
/// longest that reads like a title (two to thirty words, no separators,
/// tags, links or closing colon, and not prose), judged without a tail
/// glued after a separator (`Headline | The Paper`, `Headline | (Photo:
/// X)`), which the glued-tail rules take care of.
///
/// A headline is a short line at the top of a page, as menus, section
/// labels and bylines are, and the classifier's features cannot always
/// tell it from them; but a page's prose starts under its title, a title
/// is longer than a byline or a date, and losing it makes two copies of a
/// story look less alike.
fn headline(texts: &[&str], first_prose: usize, stops: &lang::Stopwords, lines: &[LineDecision<'_>]) -> Option<usize> {
    let mut lower = String::new();
    let has_stops = !stops.code.is_empty();
    let mut best: Option<(usize, f32)> = None;
    let mut buf = Vec::new();
    for j in (first_prose.saturating_sub(6)..first_prose).filter(|&j| lines[j].removed_by.is_none()) {
        let line = texts[j];
        let title = match glued_tail(line, &mut buf) {
            Some((at, _)) => &line[..at],
            None => line,
        };
        let s = features::LineStats::of(title, stops, &mut lower);
        let words = s.words();
        let titled = (2.0..=30.0).contains(&words)
            && s.separators == 0
            && s.tags == 0
            && !s.link_or_copyright
            && !s.colon_end
            && !s.is_prose(has_stops);
        if titled && best.is_none_or(|(_, w)| words > w) {
            best = Some((j, words));
        }
    }
    best.map(|(j, _)| j)
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

/// Whitespace-separated words, counted up to `limit`: enough to compare
/// with a threshold without walking a long paragraph. A line whose spaces
/// are all ASCII is counted on bytes; any other goes through
/// `split_whitespace`, which knows Unicode's spaces.
pub(crate) fn words_upto(line: &str, limit: usize) -> usize {
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
pub(crate) fn is_ascii_space(b: u8) -> bool {
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
pub(crate) fn count_pairs_upto(bytes: &[u8], limit: usize, start: impl Fn(u8, u8) -> bool) -> usize {
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
fn has_words(normalized: &[u8], k: usize) -> bool {
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
pub(crate) fn line_key(line: &str, buf: &mut Vec<u8>) -> Option<(u64, usize)> {
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
pub(crate) fn template_key(line: &str, buf: &mut Vec<u8>) -> Option<u64> {
    const NAME: u8 = 1;
    const NUMBER: u8 = 2;
    buf.clear();
    let (mut literal, mut masked, mut last_mask) = (0usize, 0usize, 0u8);
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
        if mask == 0 {
            literal += 1;
            buf.push(b' ');
        } else if mask != last_mask {
            masked += 1;
            buf.extend_from_slice(if mask == NAME { b"X " } else { b"0 " });
        }
        last_mask = mask;
    }
    (literal >= 2 && masked >= 1).then(|| xxh3_64(buf))
}

/// Non-blank lines with their byte ranges (without the line break or a `\r`).
fn split_lines<'r>(text: &str) -> Vec<LineDecision<'r>> {
    let mut out = Vec::new();
    for (start, piece) in newline_pieces(text) {
        let body = piece.trim_end_matches('\r');
        if !body.trim().is_empty() {
            out.push(LineDecision { start, end: start + body.len(), ..Default::default() });
        }
    }
    out
}

/// `text.split('\n')` with each piece's byte offset, found with the
/// `memchr` crate's vector search (the standard library's own scan for a
/// `char` was a few percent of cleaning and learning).
pub(crate) fn newline_pieces(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', text.as_bytes()).map(Some).chain([None]).map(move |newline| {
        let end = newline.unwrap_or(text.len());
        // A line break is ASCII: both ends are character boundaries.
        let piece = (start, &text[start..end]);
        start = end + 1;
        piece
    })
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
fn build(text: &str, lines: &[LineDecision<'_>], with_text: bool) -> Cleaned {
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
fn cut_spans<'r>(text: &str, lines: &[LineDecision<'r>], with_text: bool) -> (String, Vec<CutSpan<'r>>) {
    let mut parts: Vec<(usize, usize, &'r str, Option<Why>)> = Vec::new();
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
            None => parts.extend(l.cuts.iter().map(|&(s, e, rule)| (s, e, rule, None))),
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
        let start = chars_at_pos + text[pos..s].chars().count();
        let end = start + text[s..e].chars().count();
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

#[cfg(test)]
mod tests {
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

    proptest::proptest! {
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

    proptest! {
        // The byte path for ASCII lines must count as `split_whitespace` does.
        #[test]
        fn words_upto_counts_as_split_whitespace(line in "[ a-z.\\t\\x0b\\x0c\\r\\u{a0}\\u{2003}\\u{3000}\\u{1680}\\u{85}é’“]{0,40}", limit in 0usize..12) {
            prop_assert_eq!(words_upto(&line, limit), line.split_whitespace().take(limit).count());
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
