//! Corpus-level boilerplate: lines repeated across documents, and stray
//! tokens trailing many documents, learned in a first pass and saved or
//! loaded as JSON.
//!
//! During learning each document contributes the set of its short lines
//! (by the hash of their normalised text) and any lower-case token glued
//! after a sentence end. Counts are kept per site (when a site field is
//! given) and across the corpus; the rules' thresholds then decide which
//! lines are boilerplate. Only lines short enough to qualify are counted, so
//! memory grows with the number of distinct short lines, not with the text.

use std::collections::hash_map::Entry;
use std::ops::Range;
use std::path::Path;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use super::rules::Rules;
use super::story::{StoryKeys, StorySignature};
use super::{CORPUS_BOILERPLATE, Cleaner, SITE_BOILERPLATE, StrayPattern, line_key, template_key};
use crate::{Error, Result};

/// What was learned: boilerplate lines and stray tokens.
#[derive(Debug, Clone, Default)]
pub struct BoilerplateTable {
    // (site, line key) -> documents of the site it was met on.
    site_lines: HashMap<(u64, u64), u32>,
    // (site, template key) of the sites' templates (`template_key`) ->
    // documents, and the sites that have any.
    site_templates: HashMap<(u64, u64), u32>,
    template_sites: HashSet<u64>,
    // Tails glued after a separator (`Headline | The Paper`), per site,
    // and their keys alone, for lines whose site is not known.
    site_tails: HashSet<(u64, u64)>,
    tail_keys: HashSet<u64>,
    corpus_lines: HashMap<u64, Seen>,
    // Lines that recur in one story only, on several documents: a
    // syndicated story's own lines, which the classifier leaves alone.
    story_lines: HashSet<u64>,
    stray_tokens: HashSet<String>,
    // The ends keys (`line_ends_key`) of the learned lines' texts, when
    // every text agrees with its hash: a line whose ends key is not here
    // cannot be a learned line and need not be normalised.
    line_ends: Option<HashSet<u64>>,
    entries: Vec<TableEntry>,
    tokens: Vec<StrayEntry>,
}

/// Where a learned line or template was met: what a cut by it tells in
/// `removed.jsonl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Seen {
    /// Documents it was met on (of its site, for a site's line).
    pub documents: u32,
    /// Sites it was met on: 1 for a site's line; for a corpus line, up to
    /// 8 (more are not counted); 0 when no site was known.
    pub sites: u32,
}

/// One boilerplate line in a saved table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableEntry {
    /// The site, or `null` for a corpus-wide line.
    pub site: Option<String>,
    /// `line` for a whole line, `tail` for a tail glued after a separator,
    /// `template` for a site's lines with their names and numbers masked
    /// (the text is the template: `X` a name, `0` a number), `story` for a
    /// line of a syndicated story (kept, not removed).
    #[serde(default = "line_kind")]
    pub kind: String,
    /// Hash of the normalised line, hex.
    pub hash: String,
    /// Documents it was found on.
    pub docs: u32,
    /// For a corpus line, the sites it was found on (up to 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sites: Option<u32>,
    /// The line as first seen repeated.
    pub text: String,
}

/// One learned stray token in a saved table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StrayEntry {
    /// The token.
    pub token: String,
    /// Documents it trailed.
    pub docs: u32,
}

#[derive(Serialize, Deserialize)]
struct TableFile {
    format: String,
    version: u32,
    lines: Vec<TableEntry>,
    stray_tokens: Vec<StrayEntry>,
}

const TABLE_FORMAT: &str = "doppel-boilerplate-table";

/// Documents of one story a line must be met on to be known as the
/// story's: three copies make a syndicated story, two may be a re-send.
const STORY_LINE_MIN_DOCS: u32 = 3;

fn line_kind() -> String {
    "line".into()
}

fn site_key(site: &str) -> u64 {
    xxh3_64(site.as_bytes())
}

impl BoilerplateTable {
    /// True when nothing was learned.
    pub fn is_empty(&self) -> bool {
        self.site_lines.is_empty()
            && self.corpus_lines.is_empty()
            && self.stray_tokens.is_empty()
            && self.site_tails.is_empty()
            && self.site_templates.is_empty()
    }

    /// Whether `site` has learned templates.
    pub fn has_templates(&self, site: &str) -> bool {
        self.template_sites.contains(&site_key(site))
    }

    /// Where the template of key `key` (see `template_key`) was met, when
    /// it is furniture of `site`.
    pub fn site_template(&self, site: &str, key: u64) -> Option<Seen> {
        let documents = *self.site_templates.get(&(site_key(site), key))?;
        Some(Seen { documents, sites: 1 })
    }

    /// The rule that removes a line of hash `key` on `site`, if any.
    pub fn lookup(&self, site: Option<&str>, key: u64) -> Option<(&'static str, Seen)> {
        if let Some(s) = site
            && let Some(&documents) = self.site_lines.get(&(site_key(s), key))
        {
            return Some((SITE_BOILERPLATE, Seen { documents, sites: 1 }));
        }
        self.corpus_lines.get(&key).map(|&seen| (CORPUS_BOILERPLATE, seen))
    }

    /// Whether the line of hash `key` recurs in copies of one story only
    /// (see [`crate::clean::story`]): content, however it looks.
    pub fn is_story_line(&self, key: u64) -> bool {
        self.story_lines.contains(&key)
    }

    /// False when no learned line can have this `line_ends_key`: the line
    /// need not be normalised for [`BoilerplateTable::lookup`].
    pub(crate) fn may_hold_line(&self, ends_key: u64) -> bool {
        self.line_ends.as_ref().is_none_or(|keys| keys.contains(&ends_key))
    }

    /// Where a learned site tail glued to `line` starts (see
    /// `glued_tail`); without a site, any site's tail counts.
    pub fn site_suffix(&self, site: Option<&str>, line: &str) -> Option<usize> {
        if self.site_tails.is_empty() {
            return None;
        }
        let (at, key) = super::glued_tail(line, &mut Vec::new())?;
        let known = match site {
            Some(s) => self.site_tails.contains(&(site_key(s), key)),
            None => self.tail_keys.contains(&key),
        };
        known.then_some(at)
    }

    /// True when `token` was learned as a stray token.
    pub fn is_stray(&self, token: &str) -> bool {
        self.stray_tokens.contains(token)
    }

    /// Learned lines (for saving and reporting).
    pub fn entries(&self) -> &[TableEntry] {
        &self.entries
    }

    /// Learned stray tokens.
    pub fn stray_entries(&self) -> &[StrayEntry] {
        &self.tokens
    }

    fn from_parts(entries: Vec<TableEntry>, tokens: Vec<StrayEntry>) -> std::result::Result<BoilerplateTable, String> {
        let mut t = BoilerplateTable::default();
        let mut line_ends = Some(HashSet::default());
        let mut buf = Vec::new();
        for e in &entries {
            let key = u64::from_str_radix(&e.hash, 16).map_err(|_| format!("bad hash `{}`", e.hash))?;
            if e.kind == "line"
                && let Some(ends) = &mut line_ends
            {
                // A hand-edited table may hold a text that is not its line:
                // then every line is looked up in full.
                if line_key(&e.text, &mut buf).is_some_and(|(k, _)| k == key) {
                    ends.insert(super::line_ends_key(&e.text, &mut buf));
                } else {
                    line_ends = None;
                }
            }
            match (&e.site, e.kind.as_str()) {
                (Some(s), "template") => {
                    t.site_templates.insert((site_key(s), key), e.docs);
                    t.template_sites.insert(site_key(s));
                }
                (None, "template") => return Err(format!("template `{}` has no site", e.text)),
                (Some(s), "tail") => {
                    t.site_tails.insert((site_key(s), key));
                    t.tail_keys.insert(key);
                }
                (_, "story") => {
                    t.story_lines.insert(key);
                }
                (Some(s), _) => {
                    t.site_lines.insert((site_key(s), key), e.docs);
                }
                (None, _) => {
                    t.corpus_lines.insert(key, Seen { documents: e.docs, sites: e.sites.unwrap_or(0) });
                }
            }
        }
        t.stray_tokens = tokens.iter().map(|s| s.token.clone()).collect();
        t.line_ends = line_ends;
        t.entries = entries;
        t.tokens = tokens;
        Ok(t)
    }

    /// Writes the table as JSON, atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        use std::io::Write;
        let file = TableFile {
            format: TABLE_FORMAT.into(),
            version: 1,
            lines: self.entries.clone(),
            stray_tokens: self.tokens.clone(),
        };
        let json = serde_json::to_vec_pretty(&file).map_err(|e| Error::io(path, std::io::Error::other(e)))?;
        let mut out = crate::output::AtomicFile::create(path)?;
        out.write_all(&json).map_err(|e| Error::io(path, e))?;
        out.commit()
    }

    /// Reads a table written by [`BoilerplateTable::save`].
    pub fn load(path: &Path) -> Result<BoilerplateTable> {
        // A file the user named: one that cannot be read is their input's fault (exit 2).
        let text = std::fs::read_to_string(path).map_err(|source| Error::Input { path: path.to_path_buf(), source })?;
        BoilerplateTable::from_json(&text)
            .map_err(|comment| Error::DataCorruption { path: path.to_path_buf(), comment })
    }

    /// Reads a table from the JSON text [`BoilerplateTable::save`] writes.
    pub fn from_json(text: &str) -> std::result::Result<BoilerplateTable, String> {
        let file: TableFile = serde_json::from_str(text).map_err(|e| format!("not a boilerplate table: {e}"))?;
        if file.format != TABLE_FORMAT || file.version != 1 {
            return Err(format!("unsupported table format {} version {}", file.format, file.version));
        }
        BoilerplateTable::from_parts(file.lines, file.stray_tokens)
    }
}

/// What documents contribute to learning: one document's, from
/// [`Cleaner::observe`], or a run of them, from [`Cleaner::observe_into`].
///
/// A run of documents shares a handful of buffers: observations are freed
/// on the counting thread, and a string or vector a document (or a line)
/// freed off the thread that made it made glibc lock the workers' arenas.
#[derive(Debug, Clone, Default)]
pub struct DocObservation {
    docs: Vec<ObservedDoc>,
    /// (hash, words, end in `texts`) of distinct short lines.
    lines: Vec<(u64, usize, usize)>,
    /// The lines' trimmed texts, one after another.
    texts: String,
    /// (token, hash of the line it trails); the token a range of `words`.
    stray: Vec<(Range<usize>, u64)>,
    /// (key, text) of glued tails; the text a range of `words`.
    tails: Vec<(u64, Range<usize>)>,
    /// (template key, key of the line, template) of distinct templates of
    /// short lines, when the site is known; the template a range of `words`.
    templates: Vec<(u64, u64, Range<usize>)>,
    /// Sites, stray tokens and glued tails, one after another.
    words: String,
    /// Buffers and sets one document's observing uses, kept for the next.
    scratch: Scratch,
}

/// Scratch space of [`Cleaner::observe_into`].
#[derive(Debug, Clone, Default)]
struct Scratch {
    buf: Vec<u8>,
    /// Keys of the lines already met in the document.
    seen: HashSet<u64>,
    /// Keys of the templates already met in the document.
    seen_templates: HashSet<u64>,
    template_buf: Vec<u8>,
}

/// Where one document's observations end in a [`DocObservation`]'s buffers.
#[derive(Debug, Clone)]
struct ObservedDoc {
    site: Option<Range<usize>>,
    story: StorySignature,
    lines_end: usize,
    stray_end: usize,
    tails_end: usize,
    templates_end: usize,
}

impl DocObservation {
    /// The documents observed.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether no document is observed.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Frees the scratch space observing keeps from one document to the
    /// next, before the observation goes to another thread: memory is best
    /// freed on the thread that allocated it.
    pub fn drop_scratch(&mut self) {
        self.scratch = Scratch::default();
    }

    fn push_word(&mut self, word: &str) -> Range<usize> {
        let start = self.words.len();
        self.words.push_str(word);
        start..self.words.len()
    }
}

impl Cleaner {
    /// What `text` contributes to learning (a pure function, run in parallel).
    pub fn observe(&self, text: &str, site: Option<&str>) -> DocObservation {
        let mut obs = DocObservation::default();
        self.observe_into(text, site, &mut obs);
        obs
    }

    /// Adds what `text` contributes to learning to `obs`, after the
    /// documents already there: the same as [`Cleaner::observe`] on each,
    /// in fewer allocations.
    pub fn observe_into(&self, text: &str, site: Option<&str>, obs: &mut DocObservation) {
        observe_into(self.rules(), &self.stray, text, site, obs);
    }
}

/// What the learning pass needs of a [`Cleaner`]: its rules and its
/// stray-token pattern, without the compiled line rules, whose regexes take
/// tens of milliseconds to build. A learning pass can start on an
/// observer while the cleaner that will use its table compiles.
///
/// It holds no search state of its own (the stray-token pattern is a scan
/// over shared tables), so the workers of a learning pass share one.
#[derive(Debug, Clone)]
pub struct Observer {
    rules: Rules,
    stray: StrayPattern,
}

impl Observer {
    /// An observer for `rules`.
    pub fn new(rules: &Rules) -> Observer {
        Observer { rules: rules.clone(), stray: StrayPattern::new() }
    }

    /// The same as [`Cleaner::observe_into`] for a cleaner of these rules.
    pub fn observe_into(&self, text: &str, site: Option<&str>, obs: &mut DocObservation) {
        observe_into(&self.rules, &self.stray, text, site, obs);
    }
}

/// [`Cleaner::observe_into`], for the cleaner's `rules` and `stray` pattern.
fn observe_into(rules: &Rules, stray: &StrayPattern, text: &str, site: Option<&str>, obs: &mut DocObservation) {
    let max_words = rules.boilerplate.site_max_words.max(rules.boilerplate.corpus_max_words);
    let (stray_start, tails_start) = (obs.stray.len(), obs.tails.len());
    let site = site.map(|s| obs.push_word(s));
    // Scratch kept in `obs` from one document to the next, so that a run
    // of documents allocates it once.
    let mut scratch = std::mem::take(&mut obs.scratch);
    let Scratch { buf, seen, seen_templates, template_buf } = &mut scratch;
    seen.clear();
    seen_templates.clear();
    let story = match rules.boilerplate.enabled {
        true => StorySignature::of(text, buf),
        false => StorySignature::default(),
    };
    for (_, line) in super::newline_pieces(text) {
        // A line with more words holding a letter or digit than a
        // boilerplate line may have is not normalised at all (most body
        // paragraphs), as each of them stays at least one word once
        // normalised; nor is one of many more whitespace words. The
        // first count stops at the limit, a few dozen words into a
        // paragraph, so it goes first: the second, asked first, counted
        // most paragraphs to their end (277M of the 5,100M instructions
        // of a `clean` of 88 MB).
        if rules.boilerplate.enabled
            && alnum_word_starts_upto(line, max_words + 1) <= max_words
            && rules.boilerplate.counts_line(line)
            && let Some((key, words)) = line_key(line, buf)
            && words <= max_words
            && seen.insert(key)
        {
            obs.texts.push_str(line.trim());
            obs.lines.push((key, words, obs.texts.len()));
            // Counted as the cleaner counts a line it looks up.
            if site.is_some()
                && super::words_upto(line, rules.boilerplate.site_max_words + 1) <= rules.boilerplate.site_max_words
                && let Some(template) = template_key(line, template_buf)
                && seen_templates.insert(template)
            {
                let text = obs.push_word(String::from_utf8_lossy(template_buf).trim_end());
                obs.templates.push((template, key, text));
            }
        }
        if rules.boilerplate.enabled
            && site.is_some()
            && let Some((at, key)) = super::glued_tail(line, buf)
            && !obs.tails[tails_start..].iter().any(|(k, _)| *k == key)
        {
            let tail = obs.push_word(line[at..].trim());
            obs.tails.push((key, tail));
        }
        if rules.stray_token.learn_min_docs > 0
            && let Some((start, _, token)) = stray.trailing_token(line.trim_end())
        {
            let token = token.to_lowercase();
            // The line it trails, so that copies of one story (the same
            // line each time) count once.
            let trailed = xxh3_64(&line.as_bytes()[..start]);
            if !obs.stray[stray_start..].iter().any(|(t, _)| obs.words[t.clone()] == token) {
                let token = obs.push_word(&token);
                obs.stray.push((token, trailed));
            }
        }
    }
    obs.scratch = scratch;
    obs.docs.push(ObservedDoc {
        site,
        story,
        lines_end: obs.lines.len(),
        stray_end: obs.stray.len(),
        tails_end: obs.tails.len(),
        templates_end: obs.templates.len(),
    });
}

/// The words of `line` that start with an ASCII letter or digit (at the
/// start of the line or after ASCII whitespace), counted up to `limit`.
///
/// Normalising keeps each of them as a word of its own, so the count is a
/// lower bound of the normalised line's words: a line over the limit here
/// is over it once normalised, and need not be normalised to know it.
fn alnum_word_starts_upto(line: &str, limit: usize) -> usize {
    super::count_pairs_upto(line.as_bytes(), limit, |before, b| {
        super::is_ascii_space(before) & b.is_ascii_alphanumeric()
    })
}

/// What is kept of a line met in one document: what its [`LineStat`]
/// and site line would hold.
#[derive(Debug, Clone, Copy)]
struct SeenOnce {
    words: usize,
    site: Option<u64>,
    story: StorySignature,
}

#[derive(Debug, Default)]
struct LineStat {
    docs: u32,
    words: usize,
    sites: SiteKeys,
    stories: StoryKeys,
    text: Option<String>,
}

/// Up to [`SiteKeys::MAX`] distinct site keys, inline: nearly every line
/// is seen once, and a vector for its one site was an allocation a line.
#[derive(Debug, Default)]
struct SiteKeys {
    keys: [u64; SiteKeys::MAX],
    len: u8,
}

impl SiteKeys {
    /// Enough to tell a line on `corpus_min_sites` sites (3 by default;
    /// the rules refuse more than this).
    const MAX: usize = 8;

    fn add(&mut self, key: u64) {
        let len = usize::from(self.len);
        if len < Self::MAX && !self.keys[..len].contains(&key) {
            self.keys[len] = key;
            self.len += 1;
        }
    }

    fn len(&self) -> usize {
        usize::from(self.len)
    }
}

/// Accumulates observations in input order, then decides the table.
#[derive(Debug, Default)]
pub struct TableLearner {
    site_docs: HashMap<u64, (String, u32)>,
    site_lines: HashMap<(u64, u64), (u32, Option<String>)>,
    // Lines seen in two documents or more.
    corpus: HashMap<u64, LineStat>,
    // Lines seen in one document so far: most lines of a corpus, and
    // entries a fifth the size of `corpus`'s with their site lines'. They
    // move to `corpus` and `site_lines` when met again.
    once: HashMap<u64, SeenOnce>,
    // Token -> documents it trailed, and the distinct lines it trailed
    // (up to the learning threshold).
    stray: HashMap<String, (u32, Vec<u64>)>,
    site_tails: HashMap<(u64, u64), (u32, String)>,
    // (site, template key) -> what its lines were met on, from the second
    // document on; `template_once` holds those met on one document so far
    // (most of them: a headline's or a sentence's template).
    site_templates: HashMap<(u64, u64), TemplateStat>,
    template_once: HashMap<(u64, u64), (u64, StorySignature)>,
    documents: u64,
}

/// What a site's template was met on.
#[derive(Debug, Default)]
struct TemplateStat {
    docs: u32,
    /// Distinct lines of the template, up to [`TEMPLATE_MIN_VARIANTS`]: a
    /// template met as one line only is that line, the exact table's.
    variants: Vec<u64>,
    stories: StoryKeys,
    text: String,
}

/// Distinct lines a template must be met as to be learned.
const TEMPLATE_MIN_VARIANTS: usize = 3;

impl TableLearner {
    /// Adds the observations of one document or a run of them, in order.
    pub fn add(&mut self, obs: DocObservation) {
        let (mut lines_start, mut stray_start, mut tails_start, mut templates_start, mut text_start) = (0, 0, 0, 0, 0);
        for doc in &obs.docs {
            self.documents += 1;
            let site = doc.site.clone().map(|r| {
                let name = &obs.words[r];
                (site_key(name), name)
            });
            if let Some((k, name)) = site {
                self.site_docs.entry(k).or_insert_with(|| (name.to_string(), 0)).1 += 1;
            }
            for &(key, words, end) in &obs.lines[lines_start..doc.lines_end] {
                let text = &obs.texts[text_start..end];
                text_start = end;
                let stat = match self.corpus.entry(key) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => match self.once.entry(key) {
                        Entry::Vacant(first) => {
                            first.insert(SeenOnce { words, site: site.map(|(k, _)| k), story: doc.story });
                            continue;
                        }
                        Entry::Occupied(first) => e.insert(seen_again(first.remove(), key, &mut self.site_lines)),
                    },
                };
                stat.docs += 1;
                stat.words = words;
                stat.stories.add(doc.story);
                if stat.docs == 2 {
                    stat.text = Some(text.to_string());
                }
                if let Some((k, _)) = site {
                    stat.sites.add(k);
                    let e = self.site_lines.entry((k, key)).or_insert((0, None));
                    e.0 += 1;
                    if e.0 == 2 {
                        e.1 = Some(text.to_string());
                    }
                }
            }
            if let Some((k, _)) = site {
                for (key, text) in &obs.tails[tails_start..doc.tails_end] {
                    self.site_tails.entry((k, *key)).or_insert_with(|| (0, obs.words[text.clone()].to_string())).0 += 1;
                }
            }
            if let Some((site, _)) = site {
                for (template, line, text) in &obs.templates[templates_start..doc.templates_end] {
                    let stat = match self.site_templates.entry((site, *template)) {
                        Entry::Occupied(e) => e.into_mut(),
                        Entry::Vacant(e) => match self.template_once.remove(&(site, *template)) {
                            None => {
                                self.template_once.insert((site, *template), (*line, doc.story));
                                continue;
                            }
                            Some((first_line, first_story)) => {
                                let mut stat = TemplateStat {
                                    docs: 1,
                                    variants: vec![first_line],
                                    text: obs.words[text.clone()].to_string(),
                                    ..TemplateStat::default()
                                };
                                stat.stories.add(first_story);
                                e.insert(stat)
                            }
                        },
                    };
                    stat.docs += 1;
                    stat.stories.add(doc.story);
                    if stat.variants.len() < TEMPLATE_MIN_VARIANTS && !stat.variants.contains(line) {
                        stat.variants.push(*line);
                    }
                }
            }
            for (token, trailed) in &obs.stray[stray_start..doc.stray_end] {
                let token = &obs.words[token.clone()];
                let e = match self.stray.get_mut(token) {
                    Some(e) => e,
                    None => self.stray.entry(token.to_string()).or_default(),
                };
                e.0 += 1;
                if e.1.len() < 64 && !e.1.contains(trailed) {
                    e.1.push(*trailed);
                }
            }
            (lines_start, stray_start, tails_start, templates_start) =
                (doc.lines_end, doc.stray_end, doc.tails_end, doc.templates_end);
        }
    }

    /// Applies the thresholds of `rules`. Entries are sorted, so the table
    /// does not depend on hash-map order.
    pub fn finish(mut self, rules: &Rules) -> BoilerplateTable {
        let b = &rules.boilerplate;
        // A line met once is learned only under a threshold of one document.
        if b.site_min_docs <= 1 || b.corpus_min_docs <= 1 {
            self.corpus.reserve(self.once.len());
            self.site_lines.reserve(self.once.values().filter(|first| first.site.is_some()).count());
            for (key, first) in std::mem::take(&mut self.once) {
                let stat = seen_again(first, key, &mut self.site_lines);
                self.corpus.insert(key, stat);
            }
        }
        let mut entries = Vec::new();
        // A line is furniture only when it recurs across different
        // stories: copies of one story share their headline and short
        // paragraphs, whatever their length or script.
        let stories = |key: u64| self.corpus.get(&key).map_or(1, |s| s.stories.count()) as u32;
        for (&(site, key), (docs, text)) in &self.site_lines {
            let (name, site_docs) = &self.site_docs[&site];
            let words = self.corpus.get(&key).map_or(0, |s| s.words);
            if *docs >= b.site_min_docs
                && stories(key) >= b.min_stories
                && f64::from(*docs) >= b.site_min_share * f64::from(*site_docs)
                && words <= b.site_max_words
            {
                entries.push(TableEntry {
                    site: Some(name.clone()),
                    kind: line_kind(),
                    hash: format!("{key:016x}"),
                    docs: *docs,
                    sites: None,
                    text: text.clone().unwrap_or_default(),
                });
            }
        }
        // A tail glued to lines on a large share of a site's pages is the
        // site's name or section, not the headline's end.
        for (&(site, key), (docs, text)) in &self.site_tails {
            let (name, site_docs) = &self.site_docs[&site];
            if *docs >= b.site_min_docs && f64::from(*docs) >= b.site_min_share * f64::from(*site_docs) {
                entries.push(TableEntry {
                    site: Some(name.clone()),
                    kind: "tail".into(),
                    hash: format!("{key:016x}"),
                    docs: *docs,
                    sites: None,
                    text: text.clone(),
                });
            }
        }
        // A template on a share of a site's pages, as several different
        // lines, in different stories: the site's furniture with a name or
        // a date in it (a byline, a dateline, a caption's formula).
        for (&(site, key), stat) in &self.site_templates {
            let (name, site_docs) = &self.site_docs[&site];
            if stat.docs >= b.site_min_docs
                && stat.variants.len() >= TEMPLATE_MIN_VARIANTS
                && stat.stories.count() as u32 >= b.min_stories
                && f64::from(stat.docs) >= b.site_min_share * f64::from(*site_docs)
            {
                entries.push(TableEntry {
                    site: Some(name.clone()),
                    kind: "template".into(),
                    hash: format!("{key:016x}"),
                    docs: stat.docs,
                    sites: None,
                    text: stat.text.clone(),
                });
            }
        }
        let sites_known = !self.site_docs.is_empty();
        for (&key, stat) in &self.corpus {
            if stat.docs >= b.corpus_min_docs
                && stat.stories.count() as u32 >= b.min_stories
                && stat.words <= b.corpus_max_words
                && (!sites_known || stat.sites.len() as u32 >= b.corpus_min_sites)
            {
                entries.push(TableEntry {
                    site: None,
                    kind: line_kind(),
                    hash: format!("{key:016x}"),
                    docs: stat.docs,
                    sites: Some(stat.sites.len() as u32),
                    text: stat.text.clone().unwrap_or_default(),
                });
            }
        }
        // Lines of one story met on several documents: syndicated copies.
        for (&key, stat) in &self.corpus {
            if stat.docs >= STORY_LINE_MIN_DOCS && stat.stories.count() == 1 {
                entries.push(TableEntry {
                    site: None,
                    kind: "story".into(),
                    hash: format!("{key:016x}"),
                    docs: stat.docs,
                    sites: None,
                    text: stat.text.clone().unwrap_or_default(),
                });
            }
        }
        entries.sort_by(|a, b| (&a.site, &a.kind, &a.hash).cmp(&(&b.site, &b.kind, &b.hash)));
        let min = rules.stray_token.learn_min_docs;
        let mut tokens: Vec<StrayEntry> = self
            .stray
            .into_iter()
            .filter(|(_, (_, lines))| min > 0 && lines.len() as u32 >= min)
            .map(|(token, (docs, _))| StrayEntry { token, docs })
            .collect();
        tokens.sort_by(|a, b| a.token.cmp(&b.token));
        BoilerplateTable::from_parts(entries, tokens).unwrap_or_default()
    }
}

/// The statistics of line `key` as its one document left them, its site
/// line entered in `site_lines`: what counting it in [`LineStat`] from the
/// start would have made.
fn seen_again(first: SeenOnce, key: u64, site_lines: &mut HashMap<(u64, u64), (u32, Option<String>)>) -> LineStat {
    let mut stat = LineStat { docs: 1, words: first.words, ..LineStat::default() };
    stat.stories.add(first.story);
    if let Some(site) = first.site {
        stat.sites.add(site);
        site_lines.insert((site, key), (1, None));
    }
    stat
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::clean::rules::BoilerplateRule;

    proptest! {
        // Learning skips normalising a line on this count: it must count
        // words as `split_whitespace` does, and never more words than the
        // normalised line has.
        #[test]
        fn alnum_words_are_a_lower_bound_of_normalised_words(
            line in "[ a-zA-Z0-9.,'`\\-|:\t\u{a0}é’“\u{301}ﬁ]{0,60}",
            limit in 0usize..14,
        ) {
            let expected = line
                .split([' ', '\t', '\n', '\x0b', '\x0c', '\r'])
                .filter(|w| w.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric()))
                .count();
            prop_assert_eq!(alnum_word_starts_upto(&line, limit), expected.min(limit));
            let mut normalized = Vec::new();
            crate::shingle::normalize_bytes(&line, &mut normalized);
            let normalized_words = normalized.split(|&b| b == b' ').filter(|w| !w.is_empty()).count();
            prop_assert!(expected <= normalized_words, "{expected} > {normalized_words}: {normalized:?}");
        }
    }

    proptest! {
        #[test]
        fn observing_documents_in_runs_learns_what_observing_each_learns(
            docs in proptest::collection::vec(
                (
                    proptest::option::of(prop_oneof!["a.example", "b.example"]),
                    proptest::collection::vec(
                        prop_oneof![
                            Just("The Daily A: news you trust".to_string()),
                            Just("Share this story".to_string()),
                            "Headline [a-z]{3,6} here \\| The Daily A",
                            // A stray token trailing different sentences.
                            "Officials said the [a-z]{3,6} would come later\\. zzjunk",
                            Just("Officials said the vote would come later. qqtok".to_string()),
                            "[A-Z][a-z]{2,8}( [a-z]{1,8}){2,12}\\.( [a-z]{4,6})?",
                        ],
                        1..6,
                    ),
                ),
                1..24,
            ),
            run in 1usize..6,
        ) {
            // Low thresholds, so that a few documents teach something.
            static LEARNING: std::sync::OnceLock<(Rules, Cleaner)> = std::sync::OnceLock::new();
            let (rules, c) = LEARNING.get_or_init(|| {
                let boilerplate = BoilerplateRule { site_min_docs: 2, corpus_min_docs: 2, corpus_min_sites: 1, ..Rules::default().boilerplate };
                let rules = Rules { boilerplate, ..Rules::default() };
                let c = Cleaner::new(&rules, BoilerplateTable::default()).unwrap();
                (rules, c)
            });
            let texts: Vec<(Option<&str>, String)> = docs.iter().map(|(site, lines)| (site.as_deref(), lines.join("\n\n"))).collect();
            let mut each = TableLearner::default();
            for (site, text) in &texts {
                each.add(c.observe(text, *site));
            }
            let mut runs = TableLearner::default();
            for chunk in texts.chunks(run) {
                let mut obs = DocObservation::default();
                for (site, text) in chunk {
                    c.observe_into(text, *site, &mut obs);
                }
                prop_assert_eq!(obs.len(), chunk.len());
                runs.add(obs);
            }
            let (each, runs) = (each.finish(rules), runs.finish(rules));
            prop_assert_eq!(each.entries(), runs.entries());
            prop_assert_eq!(each.stray_entries(), runs.stray_entries());
        }
    }

    fn learn(docs: &[(&str, String)]) -> BoilerplateTable {
        let rules = Rules::default();
        let c = Cleaner::new(&rules, BoilerplateTable::default()).unwrap();
        let mut l = TableLearner::default();
        for (site, text) in docs {
            l.add(c.observe(text, Some(site)));
        }
        l.finish(&rules)
    }

    #[test]
    fn a_line_on_every_page_of_a_site_is_learned_but_not_a_shared_paragraph() {
        let story = "The council approved the budget after a long debate that ran late into the night on Tuesday.";
        let docs: Vec<(&str, String)> = (0..6)
            .map(|i| {
                (
                    "a.example",
                    format!("Headline {i} here\n\nBody {i} text of the story.\n\nThe Daily A: news you trust"),
                )
            })
            .chain((0..2).map(|_| ("b.example", format!("Other\n\n{story}"))))
            .collect();
        let table = learn(&docs);
        let mut buf = Vec::new();
        let (slogan, _) = line_key("The Daily A: news you trust", &mut buf).unwrap();
        let (para, _) = line_key(story, &mut buf).unwrap();
        assert_eq!(table.lookup(Some("a.example"), slogan), Some((SITE_BOILERPLATE, Seen { documents: 6, sites: 1 })));
        assert_eq!(table.lookup(Some("b.example"), slogan), None);
        assert_eq!(table.lookup(Some("b.example"), para), None);
    }

    #[test]
    fn lines_met_once_are_counted_as_lines_met_again() {
        // Thresholds of one document: every line is learned, with the
        // documents and sites it was met on, and the text of its second
        // meeting (a line met once has none).
        let boilerplate = BoilerplateRule {
            site_min_docs: 1,
            corpus_min_docs: 1,
            corpus_min_sites: 2,
            // Lines of one short page each: no page tells a story.
            min_stories: 1,
            ..Rules::default().boilerplate
        };
        let rules = Rules { boilerplate, ..Rules::default() };
        let c = Cleaner::new(&rules, BoilerplateTable::default()).unwrap();
        let mut l = TableLearner::default();
        for (site, text) in
            [("a", "Only here\n\nOn two sites"), ("b", "On two sites\n\nTwice on b"), ("b", "Twice on b")]
        {
            l.add(c.observe(text, Some(site)));
        }
        let table = l.finish(&rules);
        let mut buf = Vec::new();
        let mut key = |line: &str| format!("{:016x}", line_key(line, &mut buf).unwrap().0);
        let found: Vec<(Option<&str>, String, u32, &str)> =
            table.entries().iter().map(|e| (e.site.as_deref(), e.hash.clone(), e.docs, e.text.as_str())).collect();
        let mut expected = vec![
            (Some("a"), key("Only here"), 1, ""),
            (Some("a"), key("On two sites"), 1, ""),
            (Some("b"), key("On two sites"), 1, ""),
            (Some("b"), key("Twice on b"), 2, "Twice on b"),
            // Corpus-wide, only the line met on two sites.
            (None, key("On two sites"), 2, "On two sites"),
        ];
        expected.sort_by(|x, y| (x.0, &x.1).cmp(&(y.0, &y.1)));
        assert_eq!(found, expected);
    }

    const STORIES: [&str; 6] = [
        "Dock workers stayed off the job on Monday as the strike at the port entered its third day.",
        "The council approved a budget that cuts library hours and raises parking fees across the city.",
        "Heavy rain flooded several villages in the valley overnight, and rescuers moved families to schools.",
        "A local bakery won the national bread prize for a sourdough recipe kept in the family for decades.",
        "Scientists counted more nesting turtles on the southern beaches this summer than in any recent year.",
        "The football club sacked its manager after a run of eleven games without a single league victory.",
    ];
    const NAMES: [&str; 6] = ["Ana Ruiz", "Li Wei", "Tom Okafor", "Mia Berg", "Omar Haddad", "Jo Park"];

    #[test]
    fn a_sites_byline_with_other_names_on_every_page_is_learned_as_a_template() {
        let docs: Vec<(&str, String)> = (0..6)
            .map(|i| {
                let byline = format!("By {} | June {}, 2024", NAMES[i], i + 3);
                ("a.example", format!("Headline {i}\n\n{byline}\n\n{}", STORIES[i]))
            })
            .collect();
        let table = learn(&docs);
        let mut buf = Vec::new();
        let key = template_key("By Kim Lee | March 30, 2025", &mut buf).unwrap();
        assert_eq!(table.site_template("a.example", key), Some(Seen { documents: 6, sites: 1 }));
        assert_eq!(table.site_template("b.example", key), None);
        let entry = table.entries().iter().find(|e| e.kind == "template").unwrap();
        assert_eq!(entry.text, "by X | X 0");
        assert_eq!(entry.docs, 6);
        // Saved and loaded, it is the same table.
        let dir = tempfile::tempdir().unwrap();
        table.save(&dir.path().join("t.json")).unwrap();
        let loaded = BoilerplateTable::load(&dir.path().join("t.json")).unwrap();
        assert!(loaded.site_template("a.example", key).is_some());
    }

    #[test]
    fn a_template_of_one_story_or_one_line_is_not_learned() {
        // Six copies of one story, each with another name in its caption.
        let one_story: Vec<(&str, String)> = (0..6)
            .map(|i| ("a.example", format!("{} speaks to reporters in Lima.\n\n{}", NAMES[i], STORIES[0])))
            .collect();
        // Six stories under one and the same line: the exact table's.
        let one_line: Vec<(&str, String)> =
            (0..6).map(|i| ("a.example", format!("By Ana Ruiz | June 3, 2024\n\n{}", STORIES[i]))).collect();
        let mut buf = Vec::new();
        for (docs, line) in
            [(one_story, "Jo Park speaks to reporters in Lima."), (one_line, "By Ana Ruiz | June 3, 2024")]
        {
            let table = learn(&docs);
            let key = template_key(line, &mut buf).unwrap();
            assert_eq!(table.site_template("a.example", key), None, "{line}");
        }
    }

    #[test]
    fn a_site_name_glued_to_every_headline_is_learned_as_a_tail() {
        let docs: Vec<(&str, String)> =
            (0..5).map(|i| ("a.example", format!("Headline number {i} here | The Daily A\n\nBody {i}."))).collect();
        let table = learn(&docs);
        let line = "A brand new headline today | The Daily A";
        assert_eq!(table.site_suffix(Some("a.example"), line), Some(line.find(" | ").unwrap()));
        assert_eq!(table.site_suffix(Some("a.example"), "Prices rise - and fall"), None);
    }

    #[test]
    fn copies_of_one_story_do_not_teach_a_stray_token() {
        let docs: Vec<(&str, String)> =
            (0..5).map(|_| ("s", "Moscow retaliated for the U.S. bill".to_string())).collect();
        assert!(!learn(&docs).is_stray("bill"));
        let docs: Vec<(&str, String)> =
            (0..5).map(|_| ("s", "The vote passed, officials said. zzjunk".to_string())).collect();
        assert!(!learn(&docs).is_stray("zzjunk"), "one line repeated is one piece of evidence");
    }

    #[test]
    fn stray_tokens_are_learned_from_repetition_and_tables_round_trip() {
        let docs: Vec<(&str, String)> =
            (0..4).map(|i| ("s", format!("Story {i} ended here, officials said. zzjunk"))).collect();
        let table = learn(&docs);
        assert!(table.is_stray("zzjunk"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        table.save(&path).unwrap();
        let back = BoilerplateTable::load(&path).unwrap();
        assert!(back.is_stray("zzjunk"));
        assert_eq!(back.entries(), table.entries());
        std::fs::write(&path, "{}").unwrap();
        assert!(BoilerplateTable::load(&path).unwrap_err().to_string().contains("t.json"));
    }

    // The cleaner skips normalising lines whose letter ends match no
    // learned line's text; a table whose texts were edited by hand must
    // still remove lines by their hashes.
    #[test]
    fn an_edited_table_text_does_not_stop_its_line_from_being_removed() {
        let docs: Vec<(&str, String)> =
            (0..6).map(|i| ("a.example", format!("Story {i} here\n\nThe Daily A: news you trust"))).collect();
        let table = learn(&docs);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        table.save(&path).unwrap();
        let edited = std::fs::read_to_string(&path).unwrap().replace("The Daily A: news you trust", "edited");
        std::fs::write(&path, edited).unwrap();
        let rules = Rules::default();
        for table in [table, BoilerplateTable::load(&path).unwrap()] {
            let cleaner = Cleaner::new(&rules, table).unwrap();
            let out = cleaner.clean("A new story today\n\nThe Daily A: news you trust", Some("a.example"));
            assert_eq!(out.text, "A new story today");
        }
    }
}
