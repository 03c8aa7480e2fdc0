//! A deterministic generator of news dumps with planted near-duplicates and
//! scraper junk, for accuracy tests, scale tests and benchmarks.
//!
//! Articles are built from sentences: from a base corpus of real articles
//! when one is given (each paragraph a run of consecutive sentences of one
//! base article, so text reads locally like news and no two articles share
//! long passages by accident), or else from a Zipf-distributed vocabulary of
//! made-up words. A share of articles gets syndicated copies on other sites:
//! a few words edited, a headline rewritten, the last paragraph dropped, a
//! crosspost unchanged, or a truncated copy of the first half. Every site
//! wraps its articles in its own junk: a metadata header, an image credit
//! glued to the headline, caption lines, share and cookie prompts, read-more
//! links, a slogan on every page, a copyright footer, a tag list, a stray
//! token glued after the last sentence, a lead repeated as the first
//! paragraph. The same seed and options give the same bytes.
//!
//! The generator knows which characters are junk: [`SynthDoc::clean`] is the
//! article without them, so a cleaner can be scored against it.

use crate::minhash::splitmix64;

/// Options of the generator.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// Seed of every random choice.
    pub seed: u64,
    /// Share of original articles that get syndicated copies.
    pub copy_rate: f64,
    /// Wrap articles in per-site junk.
    pub junk: bool,
    /// Number of sites.
    pub sites: usize,
    /// Short documents (one or two paragraphs), for scale tests in documents.
    pub short: bool,
    /// Draw a progress bar on stderr while writing.
    pub progress: bool,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions { seed: 1, copy_rate: 0.3, junk: true, sites: 40, short: false, progress: false }
    }
}

/// One generated document.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SynthDoc {
    /// Unique id, `s` and a sequence number.
    pub id: String,
    /// The site (domain) that published it.
    pub site: String,
    /// The text as a scraper would deliver it, junk included.
    pub text: String,
    /// The article alone: the text without the junk.
    #[serde(skip)]
    pub clean: String,
    /// Id of the article this one copies, if it is a copy.
    #[serde(skip)]
    pub copy_of: Option<String>,
    /// What kind of document it is: `original`, `edited`, `crosspost`, `truncated`.
    #[serde(skip)]
    pub kind: &'static str,
}

/// Small deterministic RNG (SplitMix64 stream).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        splitmix64(self.0)
    }
    fn below(&mut self, n: usize) -> usize {
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Sentences of the base corpus, grouped by article.
#[derive(Debug, Clone, Default)]
pub struct SentencePool {
    articles: Vec<Vec<String>>,
}

impl SentencePool {
    /// Splits base articles into sentences (at `. `, `? `, `! ` and line breaks).
    pub fn from_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> SentencePool {
        let mut articles = Vec::new();
        for text in texts {
            let mut sentences = Vec::new();
            for para in text.split('\n') {
                let mut start = 0;
                let b = para.as_bytes();
                for i in 0..b.len() {
                    let end_mark = matches!(b[i], b'.' | b'?' | b'!') && (i + 1 == b.len() || b[i + 1] == b' ');
                    if end_mark {
                        let s = para[start..=i].trim();
                        if s.split(' ').count() >= 4 {
                            sentences.push(s.to_string());
                        }
                        start = i + 1;
                    }
                }
                let rest = para[start..].trim();
                if rest.split(' ').count() >= 4 {
                    sentences.push(rest.to_string());
                }
            }
            if sentences.len() >= 3 {
                articles.push(sentences);
            }
        }
        SentencePool { articles }
    }

    /// Number of base articles.
    pub fn len(&self) -> usize {
        self.articles.len()
    }

    /// True when there are no base articles.
    pub fn is_empty(&self) -> bool {
        self.articles.is_empty()
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ter", "san", "vo", "ri", "den", "ba", "nu", "shi", "gor", "el", "tha", "qui", "mar", "os", "pe",
    "lin", "du", "ra", "ves", "ton", "ci", "fe", "ul", "wen", "zo", "har", "ne",
];

/// A made-up word for vocabulary rank `rank`: short for frequent words.
fn vocab_word(rank: usize) -> String {
    let mut x = splitmix64(rank as u64 ^ 0xC0FFEE);
    let syllables = 1 + (rank > 50) as usize + (rank > 2000) as usize + (x % 2) as usize;
    let mut w = String::new();
    for _ in 0..syllables {
        w.push_str(SYLLABLES[(x % SYLLABLES.len() as u64) as usize]);
        x = splitmix64(x);
    }
    w
}

/// Junk style of one site.
#[derive(Debug, Clone)]
struct Site {
    domain: String,
    name: String,
    header: usize,
    glued_credit: bool,
    captions: bool,
    prompts: bool,
    slogan: String,
    footer: bool,
    tags: bool,
    stray: Option<&'static str>,
    repeat_lead: bool,
}

const STRAY_TOKENS: &[&str] = &["rehash", "amp", "wpcontent", "ndash", "cmsnode"];
const SECTIONS: &[&str] = &["World", "Business", "Politics", "Sport", "Science", "Europe", "Asia", "Economy"];
const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const AGENCIES: &[&str] = &["Reuters", "AP", "AFP", "Getty Images", "EPA", "Bloomberg"];
const SURNAMES: &[&str] = &["Okafor", "Lindqvist", "Moreau", "Tanaka", "Delgado", "Novak", "Brennan", "Haddad"];
const FIRST: &[&str] = &["Ana", "Tom", "Lena", "Rui", "Mia", "Sam", "Ivo", "Noor"];

impl Site {
    fn new(i: usize, rng: &mut Rng) -> Site {
        let stem =
            format!("{}{}", vocab_word(3000 + i * 7), ["times", "post", "herald", "wire", "daily", "courier"][i % 6]);
        let name = format!("The {}{}", stem[..1].to_uppercase(), &stem[1..]);
        Site {
            domain: format!("{stem}.example"),
            slogan: format!(
                "{name}: {}",
                ["news you can trust", "independent since 1921", "your world, every day", "read all about it"][i % 4]
            ),
            name,
            header: rng.below(5),
            glued_credit: rng.chance(0.4),
            captions: rng.chance(0.6),
            prompts: rng.chance(0.7),
            footer: rng.chance(0.7),
            tags: rng.chance(0.4),
            stray: if rng.chance(0.25) { Some(*rng.pick(STRAY_TOKENS)) } else { None },
            repeat_lead: rng.chance(0.3),
        }
    }

    fn header(&self, rng: &mut Rng) -> Option<String> {
        let (y, m, d) = (2024 + rng.below(2), 1 + rng.below(12), 1 + rng.below(28));
        Some(match self.header {
            0 => format!(" date {y}-{m:02}-{d:02} Home"),
            1 => format!("Home > {} > {}", rng.pick(SECTIONS), rng.pick(SECTIONS)),
            2 => format!("Published {d} {} {y} {:02}:{:02} GMT", MONTHS[m - 1], rng.below(24), rng.below(60)),
            3 => format!("{} | {d}/{m:02}/{y}", rng.pick(SECTIONS)),
            _ => return None,
        })
    }
}

/// An article before junk: headline and body paragraphs.
#[derive(Debug, Clone)]
struct Article {
    headline: String,
    paragraphs: Vec<String>,
}

/// Generates documents one at a time; copies of an article follow it within
/// a few hundred documents.
pub struct Generator {
    opts: SynthOptions,
    pool: SentencePool,
    rng: Rng,
    sites: Vec<Site>,
    next_id: u64,
    // (due at sequence number, doc) for copies not yet emitted.
    pending: std::collections::BTreeMap<(u64, u64), SynthDoc>,
    zipf: Vec<f64>,
}

impl Generator {
    /// A generator over `pool` (may be empty: made-up words are used).
    pub fn new(opts: SynthOptions, pool: SentencePool) -> Generator {
        let mut rng = Rng(opts.seed);
        let sites = (0..opts.sites.max(2)).map(|i| Site::new(i, &mut rng)).collect();
        // Cumulative Zipf(1) weights over a 50k-word vocabulary.
        let mut zipf = Vec::with_capacity(50_000);
        let mut acc = 0.0;
        for r in 1..=50_000 {
            acc += 1.0 / r as f64;
            zipf.push(acc);
        }
        Generator { opts, pool, rng, sites, next_id: 0, pending: Default::default(), zipf }
    }

    fn word(&mut self) -> String {
        let total = *self.zipf.last().unwrap_or(&1.0);
        let x = (self.rng.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
        let rank = self.zipf.partition_point(|&c| c < x);
        vocab_word(rank)
    }

    fn made_up_sentence(&mut self) -> String {
        let n = self.rng.range(8, 28);
        let mut words: Vec<String> = (0..n).map(|_| self.word()).collect();
        let first = &mut words[0];
        *first = format!("{}{}", first[..1].to_uppercase(), &first[1..]);
        format!("{}.", words.join(" "))
    }

    fn paragraph(&mut self) -> String {
        let n = self.rng.range(2, 5);
        if self.pool.is_empty() {
            return (0..n).map(|_| self.made_up_sentence()).collect::<Vec<_>>().join(" ");
        }
        let art = self.rng.below(self.pool.articles.len());
        let sentences = &self.pool.articles[art];
        let start = self.rng.below(sentences.len());
        (0..n).map(|i| sentences[(start + i) % sentences.len()].as_str()).collect::<Vec<_>>().join(" ")
    }

    fn article(&mut self) -> Article {
        let paras = if self.opts.short { self.rng.range(1, 2) } else { self.rng.range(4, 12) };
        let headline_src = if self.pool.is_empty() { self.made_up_sentence() } else { self.paragraph() };
        let headline: Vec<&str> = headline_src.split(' ').take(self.rng.range(6, 12)).collect();
        let headline = headline.join(" ").trim_end_matches(['.', ',', ';', ':']).to_string();
        let mut paragraphs: Vec<String> = (0..paras).map(|_| self.paragraph()).collect();
        if self.rng.chance(0.3) {
            let city = *self.rng.pick(&["LONDON", "PARIS", "NAIROBI", "TOKYO", "LIMA", "OSLO"]);
            paragraphs[0] = format!("{city} ({}) - {}", self.rng.pick(AGENCIES), paragraphs[0]);
        }
        Article { headline, paragraphs }
    }

    fn edit_words(&mut self, text: &str, edits: usize) -> String {
        let mut words: Vec<String> = text.split(' ').map(str::to_string).collect();
        for _ in 0..edits {
            if words.len() < 3 {
                break;
            }
            let at = self.rng.below(words.len());
            match self.rng.below(3) {
                0 => words[at] = self.word(),
                1 => {
                    words.remove(at);
                }
                _ => {
                    let w = self.word();
                    words.insert(at, w);
                }
            }
        }
        words.join(" ")
    }

    fn copy_of(&mut self, a: &Article) -> (Article, &'static str) {
        let mut c = a.clone();
        let roll = self.rng.below(10);
        let kind = match roll {
            0 => "crosspost",
            1 => {
                let keep = c.paragraphs.len().div_ceil(2);
                c.paragraphs.truncate(keep);
                "truncated"
            }
            _ => {
                let words: usize = c.paragraphs.iter().map(|p| p.split(' ').count()).sum();
                // Up to about 1 edit in 60 words keeps most copies well above
                // Jaccard 0.8; some land near or below it, as real edits do.
                let edits = self.rng.range(1, (words / 60).max(2));
                for _ in 0..edits {
                    let p = self.rng.below(c.paragraphs.len());
                    c.paragraphs[p] = self.edit_words(&c.paragraphs[p].clone(), 1);
                }
                if self.rng.chance(0.3) {
                    c.headline = self.edit_words(&c.headline.clone(), 2);
                }
                if c.paragraphs.len() > 4 && self.rng.chance(0.2) {
                    c.paragraphs.pop();
                }
                "edited"
            }
        };
        (c, kind)
    }

    /// Renders an article for a site; returns (text with junk, clean text).
    fn render(&mut self, a: &Article, site_ix: usize) -> (String, String) {
        let clean =
            std::iter::once(a.headline.clone()).chain(a.paragraphs.iter().cloned()).collect::<Vec<_>>().join("\n\n");
        if !self.opts.junk {
            return (clean.clone(), clean);
        }
        let site = self.sites[site_ix].clone();
        let mut lines: Vec<String> = Vec::new();
        if let Some(h) = site.header(&mut self.rng) {
            lines.push(h);
        }
        let mut headline = a.headline.clone();
        if site.glued_credit && self.rng.chance(0.7) {
            headline.push_str(&format!(" | Image: {}", self.rng.pick(AGENCIES)));
        }
        lines.push(headline);
        if site.repeat_lead && !a.paragraphs.is_empty() {
            lines.push(a.paragraphs[0].clone());
        }
        let n = a.paragraphs.len();
        for (i, p) in a.paragraphs.iter().enumerate() {
            let mut p = p.clone();
            if i + 1 == n
                && let Some(tok) = site.stray
            {
                p.push(' ');
                p.push_str(tok);
            }
            lines.push(p);
            if site.captions && i == 0 {
                lines.push(match self.rng.below(4) {
                    0 => format!("Photo: {}", self.rng.pick(AGENCIES)),
                    1 => format!(
                        "({} Photo/{} {})",
                        self.rng.pick(&["AP", "AFP"]),
                        self.rng.pick(FIRST),
                        self.rng.pick(SURNAMES)
                    ),
                    2 => "File photo".to_string(),
                    _ => format!("Image credit: {}", self.rng.pick(AGENCIES)),
                });
            }
            if site.prompts && i == n / 2 && n > 2 {
                lines.push(match self.rng.below(4) {
                    0 => "Advertisement".to_string(),
                    1 => format!(
                        "Read more: {}",
                        self.rng.pick(&["Markets slide as", "Storm warning for", "Minister quits over"]).to_string()
                            + " "
                            + &self.word()
                    ),
                    2 => format!("Also read: {} {}", self.rng.pick(SECTIONS), self.word()),
                    _ => format!("Related: {} {} {}", self.word(), self.word(), self.word()),
                });
            }
        }
        if site.prompts {
            lines.push(
                self.rng
                    .pick(&[
                        "Share this article",
                        "Follow us on social media",
                        "Subscribe to our newsletter for the latest updates.",
                        "We use cookies to improve your experience. Accept all cookies",
                    ])
                    .to_string(),
            );
        }
        lines.push(site.slogan.clone());
        if site.tags {
            lines.push(format!("Tags: {}, {}, {}", self.word(), self.word(), self.rng.pick(SECTIONS).to_lowercase()));
        }
        if site.footer {
            lines.push(format!("© 2025 {}. All rights reserved.", site.name));
        }
        (lines.join("\n\n"), clean)
    }

    fn make(&mut self, a: &Article, site: usize, copy_of: Option<String>, kind: &'static str) -> SynthDoc {
        let (text, clean) = self.render(a, site);
        self.next_id += 1;
        SynthDoc {
            id: format!("s{:08}", self.next_id),
            site: self.sites[site].domain.clone(),
            text,
            clean,
            copy_of,
            kind,
        }
    }

    /// The next document.
    pub fn next_doc(&mut self) -> SynthDoc {
        let seq = self.next_id;
        if let Some((&key, _)) = self.pending.iter().next()
            && key.0 <= seq
            && let Some(mut doc) = self.pending.remove(&key)
        {
            self.next_id += 1;
            doc.id = format!("s{:08}", self.next_id);
            return doc;
        }
        let article = self.article();
        let site = self.rng.below(self.sites.len());
        let doc = self.make(&article, site, None, "original");
        if self.rng.chance(self.opts.copy_rate) {
            let copies = self.rng.range(1, 3);
            for c in 0..copies {
                let (copy, kind) = self.copy_of(&article);
                let other = (site + 1 + self.rng.below(self.sites.len() - 1)) % self.sites.len();
                let mut d = self.make(&copy, other, Some(doc.id.clone()), kind);
                self.next_id -= 1; // ids are given when emitted
                d.id.clear();
                let due = seq + 1 + self.rng.below(300) as u64;
                self.pending.insert((due, seq * 4 + c as u64), d);
            }
        }
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_documents() {
        let mut a = Generator::new(SynthOptions::default(), SentencePool::default());
        let mut b = Generator::new(SynthOptions::default(), SentencePool::default());
        for _ in 0..200 {
            let (x, y) = (a.next_doc(), b.next_doc());
            assert_eq!((x.id, x.text), (y.id, y.text));
        }
    }

    #[test]
    fn ids_are_unique_and_copies_follow_their_original() {
        let mut g = Generator::new(SynthOptions { copy_rate: 0.5, ..Default::default() }, SentencePool::default());
        let docs: Vec<SynthDoc> = (0..500).map(|_| g.next_doc()).collect();
        let ids: std::collections::HashSet<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids.len(), docs.len());
        let copies = docs.iter().filter(|d| d.copy_of.is_some()).count();
        assert!(copies > 100, "{copies}");
        for d in &docs {
            if let Some(orig) = &d.copy_of {
                assert!(orig < &d.id);
            }
        }
    }

    #[test]
    fn clean_text_is_the_text_without_junk() {
        let mut g = Generator::new(SynthOptions { junk: false, ..Default::default() }, SentencePool::default());
        let d = g.next_doc();
        assert_eq!(d.text, d.clean);
        let mut g = Generator::new(SynthOptions::default(), SentencePool::default());
        let junky = (0..50).map(|_| g.next_doc()).filter(|d| d.text.len() > d.clean.len()).count();
        assert!(junky > 40);
    }

    #[test]
    fn base_sentences_are_used() {
        let pool = SentencePool::from_texts([
            "One two three four five. Six seven eight nine ten! Eleven twelve thirteen fourteen?",
        ]);
        assert_eq!(pool.len(), 1);
        let mut g = Generator::new(SynthOptions::default(), pool);
        assert!(g.next_doc().clean.contains("seven eight nine"));
    }
}

/// How much to generate.
#[derive(Debug, Clone, Copy)]
pub enum SynthLimit {
    /// Stop after this many documents.
    Documents(u64),
    /// Stop once this many bytes of JSONL (before compression) are written.
    Bytes(u64),
}

/// Figures of a generated corpus.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SynthSummary {
    /// Documents written.
    pub documents: u64,
    /// Bytes of JSONL before compression.
    pub bytes: u64,
    /// Documents that copy another.
    pub copies: u64,
}

/// Writes a generated corpus as JSONL (`{"id","site","text"}`) to `path`,
/// compressed with zstd or gzip when the name ends in `.zst` or `.gz`, and,
/// if `truth` is given, a sidecar of `{"id","copy_of","kind","clean"}`
/// lines. Both are written atomically.
pub fn write_corpus(
    path: &std::path::Path,
    truth: Option<&std::path::Path>,
    limit: SynthLimit,
    opts: SynthOptions,
    pool: SentencePool,
) -> crate::Result<SynthSummary> {
    use std::io::Write;
    let progress = crate::progress::Progress { enabled: opts.progress };
    let bar = match limit {
        SynthLimit::Bytes(n) => progress.bytes(n, "generating"),
        SynthLimit::Documents(n) => progress.documents(n, "generating"),
    };
    let mut out = crate::output::AtomicFile::create(path)?;
    let mut truth_out = truth.map(crate::output::AtomicFile::create).transpose()?;
    let mut g = Generator::new(opts, pool);
    let mut summary = SynthSummary::default();
    let mut line = Vec::new();
    loop {
        let done = match limit {
            SynthLimit::Documents(n) => summary.documents >= n,
            SynthLimit::Bytes(n) => summary.bytes >= n,
        };
        if done {
            break;
        }
        let doc = g.next_doc();
        line.clear();
        serde_json::to_writer(&mut line, &doc).map_err(|e| crate::Error::io(path, std::io::Error::other(e)))?;
        line.push(b'\n');
        out.write_all(&line).map_err(|e| crate::Error::io(path, e))?;
        summary.documents += 1;
        summary.bytes += line.len() as u64;
        summary.copies += u64::from(doc.copy_of.is_some());
        // Every 256 documents: a bar update costs more than a document.
        if summary.documents % 256 == 0 {
            bar.set_position(match limit {
                SynthLimit::Bytes(_) => summary.bytes,
                SynthLimit::Documents(_) => summary.documents,
            });
        }
        if let (Some(t), Some(tp)) = (truth_out.as_mut(), truth) {
            let rec = serde_json::json!({"id": doc.id, "copy_of": doc.copy_of, "kind": doc.kind, "clean": doc.clean});
            line.clear();
            serde_json::to_writer(&mut line, &rec).map_err(|e| crate::Error::io(tp, std::io::Error::other(e)))?;
            line.push(b'\n');
            t.write_all(&line).map_err(|e| crate::Error::io(tp, e))?;
        }
    }
    bar.finish_and_clear();
    out.commit()?;
    if let Some(t) = truth_out {
        t.commit()?;
    }
    Ok(summary)
}

impl SentencePool {
    /// Reads base articles from JSONL inputs (any compression), taking the
    /// text field of each record; records without one are passed over.
    pub fn from_inputs(inputs: &[crate::Input], fields: &crate::FieldNames) -> crate::Result<SentencePool> {
        let dir = std::env::temp_dir();
        let corpus = crate::input::Corpus::open(inputs, &dir)?;
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut reader = crate::input::BatchReader::new(&corpus, counter);
        let mut texts = Vec::new();
        while let Some(batch) = reader.next_batch() {
            for rec in &batch.records {
                if let Ok(f) = crate::input::parse_record(batch.bytes(rec), fields) {
                    texts.push(f.text.into_owned());
                }
            }
            if let Some(f) = batch.failure {
                let file = corpus.sources[f.source as usize].name.clone();
                return Err(crate::Error::Read { file, line: f.line, source: f.error });
            }
        }
        Ok(SentencePool::from_texts(texts.iter().map(String::as_str)))
    }
}
