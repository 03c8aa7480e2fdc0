//! The cleaner's rules as data: built-in defaults, a JSON rules file that
//! overrides or extends them, and their compiled form.
//!
//! Each pattern rule is a list of case-insensitive regular expressions
//! matched against one line (paragraph) at a time. A match that covers the
//! whole line (ignoring surrounding spaces) removes the line; a match that
//! covers part of it cuts just that part, which is how a credit glued to a
//! headline (`Headline | Image: X`) goes while the headline stays. Built-in
//! patterns are anchored to the start or the end of a line, so nothing is
//! ever cut from the middle of a sentence.
//!
//! `doppel clean --explain` prints the effective rules in the rules-file
//! format, so the defaults can be saved, edited and passed back with
//! `--rules`.

use std::path::Path;

use regex_automata::meta::Regex;
use regex_automata::nfa::thompson::WhichCaptures;
use regex_syntax::hir::{self, Hir, HirKind};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A rule made of line patterns.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PatternRule {
    /// Whether the rule runs (by default, yes).
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// Lines longer than this many bytes are never touched by the rule
    /// (by default 400: a caption or a prompt, not a paragraph).
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: usize,
    /// Regular expressions (case-insensitive).
    pub patterns: Vec<String>,
    /// More patterns, added to `patterns` (handy in a rules file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_patterns: Vec<String>,
    /// A prefilter: the rule runs only on lines holding one of these
    /// (ASCII case-insensitive). Every pattern must need one of them; empty
    /// means every line. Extra patterns that need none should clear it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
}

fn enabled_by_default() -> bool {
    true
}

fn default_max_line_bytes() -> usize {
    400
}

impl PatternRule {
    fn new(max_line_bytes: usize, patterns: &[&str]) -> PatternRule {
        PatternRule {
            enabled: true,
            max_line_bytes,
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
            extra_patterns: Vec::new(),
            keywords: Vec::new(),
        }
    }
}

/// Stray tokens glued after the last sentence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StrayTokenRule {
    /// Whether the rule runs.
    pub enabled: bool,
    /// Tokens always cut in that position.
    pub tokens: Vec<String>,
    /// A token found in that position in at least this many documents of
    /// the corpus is learned as junk (0: learn nothing).
    pub learn_min_docs: u32,
}

/// Paragraphs repeated inside one document.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RepeatedParagraphRule {
    /// Whether the rule runs.
    pub enabled: bool,
    /// Shorter paragraphs (in words) are never treated as repeats.
    pub min_words: usize,
    /// A paragraph of at least this many words that the next paragraph
    /// starts with (a lead printed alone, then again with more) is removed.
    pub prefix_min_words: usize,
}

/// Lines that recur across documents.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BoilerplateRule {
    /// Whether the rule runs.
    pub enabled: bool,
    /// Per site (with `--site-field`): a line on at least this many of a
    /// site's documents...
    pub site_min_docs: u32,
    /// ...and on at least this share of them...
    pub site_min_share: f64,
    /// ...and no longer than this many words.
    pub site_max_words: usize,
    /// Across the corpus: a line on at least this many documents...
    pub corpus_min_docs: u32,
    /// ...of at least this many sites (when sites are known)...
    pub corpus_min_sites: u32,
    /// ...and no longer than this many words. Syndicated copies share long
    /// paragraphs; boilerplate lines are short.
    pub corpus_max_words: usize,
    /// A line on a site or across the corpus must also recur in at least
    /// this many different stories (documents that are not copies of one
    /// another, see `clean::story`): a syndicated story's own lines recur
    /// on many sites, but in one story.
    #[serde(default = "default_min_stories")]
    pub min_stories: u32,
}

fn default_min_stories() -> u32 {
    3
}

impl BoilerplateRule {
    /// Whether a line is short enough to be counted, and so to be
    /// boilerplate: at most twice the larger word limit, in whitespace
    /// words. Learning and cleaning both ask, so a line the learning pass
    /// never counted is never normalised for a lookup either.
    pub fn counts_line(&self, line: &str) -> bool {
        let max_words = self.site_max_words.max(self.corpus_max_words);
        // A word takes a byte and a space: a line this short has few
        // enough words without counting them.
        line.len().div_ceil(2) <= 2 * max_words || super::words_upto(line, 2 * max_words + 1) <= 2 * max_words
    }
}

/// The line classifier ([`super::model`]): lines it scores as junk.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClassifierRule {
    /// Whether the classifier runs.
    pub enabled: bool,
    /// A line is cut when its junk probability is at least this; `null`
    /// takes the model's own default. Higher keeps more: the one knob
    /// between keeping content and cutting junk.
    pub threshold: Option<f32>,
}

impl Default for ClassifierRule {
    fn default() -> Self {
        ClassifierRule { enabled: true, threshold: None }
    }
}

/// A user-defined pattern rule.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CustomRule {
    /// Name shown in `removed.jsonl` and the stats.
    pub name: String,
    /// The rule's patterns and limits.
    #[serde(flatten)]
    pub rule: PatternRule,
}

/// All rules of the cleaner.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Metadata header lines (dates, breadcrumbs, bylines of time) before
    /// and at the first content line.
    pub header: PatternRule,
    /// Credits glued to a line after a pipe.
    pub image_credit: PatternRule,
    /// Whole caption and credit lines.
    pub caption: PatternRule,
    /// Share, follow, subscribe, newsletter, cookie and advertising lines.
    pub prompt: PatternRule,
    /// `Read more:`, `Also read:`, `Related:` lines; a bare label such as
    /// `Most popular` also takes the link lines right under it.
    pub read_more: PatternRule,
    /// Copyright footers.
    pub copyright: PatternRule,
    /// Tag lists.
    pub tags: PatternRule,
    /// Author bios and contact lines at the end of an article.
    pub author: PatternRule,
    /// Stray tokens after the last sentence.
    pub stray_token: StrayTokenRule,
    /// Repeated paragraphs.
    pub repeated_paragraph: RepeatedParagraphRule,
    /// Lines recurring across documents.
    pub boilerplate: BoilerplateRule,
    /// The line classifier, for junk that no pattern names.
    #[serde(default)]
    pub classifier: ClassifierRule,
    /// User-defined rules, run after the built-in pattern rules.
    #[serde(default)]
    pub custom: Vec<CustomRule>,
}

const MONTH: &str = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?";
const WEEKDAY: &str = r"(?:(?:mon|tue(?:s)?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?)";
const TIME: &str = r"(?:\d{1,2}[:.]\d{2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?\s*(?:gmt|utc|bst|cet|est|edt|pst|ist|[+-]\d{2}:?\d{2})?)";
const AGENCY: &str = r"(?:ap|afp|reuters|epa|getty images|getty|afp via getty images|pa|ansa|xinhua|bloomberg|shutterstock|alamy|dpa|anadolu|efe|file)";

impl Default for Rules {
    fn default() -> Self {
        let date = format!(
            r"(?:{WEEKDAY}\s+)?(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTH},?\s+\d{{4}}|{MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}})"
        );
        let mut rules = Rules {
            header: PatternRule {
                enabled: true,
                max_line_bytes: 400,
                patterns: vec![
                    // ` date 2024-12-28 Home`, and the same glued before a headline.
                    r"^\s*date\s+\d{4}-\d{2}-\d{2}(?:[ t]\d{2}:\d{2}(?::\d{2})?)?(?:\s+(?:home|news)\b)?\s*".into(),
                    // Breadcrumbs: `Home`, `News > World > Europe`, `Home · News`.
                    r"^\s*(?:home|news)(?:\s*(?:>|»|›|/|\||·|•)\s*[\w&',. -]{1,40}){0,6}\s*$".into(),
                    // A byline, alone or with a date: `By Ana Tanaka | 2017-03-28T11:22Z`.
                    r"^\s*(?:(?:written|words|story|reporting|text) )?by\s+(?-i:[A-Z])(?:[\w.' -]|’){1,60}?(?:\s+and\s+(?:[\w.' -]|’){2,40})?(?:\s*(?:\||,|-|–|—|·|\bon\b)\s*[^!?]{0,60})?\s*$".into(),
                    // `Reading time: 2 minutes`, `4 min read`.
                    r"^\s*(?:(?:estimated )?read(?:ing)? time\s*:?\s*\d+\s*(?:min(?:ute)?s?)?|\d+\s*min(?:ute)?s?\s+read)\.?\s*$".into(),
                    // `Published 14 March 2025 10:42 GMT`, `Updated: 12:04`.
                    r"^\s*(?:published|updated|posted|last updated|first published)(?:\s+on)?\s*:?\s+.{0,40}\d.{0,40}$".into(),
                    // A date (and time) alone: `Saturday, December 28, 2024`.
                    format!(r"^\s*{date}(?:\s*(?:,|at|-|\|)?\s*{TIME})?\s*$"),
                    // ISO 8601 date-time alone: `2017-03-28T11:22:00Z`.
                    r"^\s*\d{4}-\d{2}-\d{2}t\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?\s*$".into(),
                    format!(r"^\s*{TIME}\s*(?:,|\|)?\s*{date}?\s*$"),
                    // `World | 14/03/2025`.
                    format!(r"^\s*[a-z][\w &]{{0,30}}\s*\|\s*{date}\s*$"),
                ],
                extra_patterns: Vec::new(),
                keywords: Vec::new(),
            },
            image_credit: PatternRule {
                enabled: true,
                max_line_bytes: 5000,
                patterns: vec![
                    r"\s*\|\s*(?:image|photo|picture|photograph|graphic|video|credit|image credit|photo credit)s?\s*:\s*[^|]{1,60}$".into(),
                    format!(r"\s*\(\s*{AGENCY}\s*(?:photo|images?|pictures?)?\s*/[^)]{{1,60}}\)\s*$"),
                    // A credit after the last sentence: `... on Monday. Photo by Name`
                    // (the stop stays).
                    r"[.!?]\s+(?:photo(?:graph)?|image|picture)s?\s*(?:by|credit:?)\s+[^.!?]{1,80}\.?\s*$".into(),
                    // A wire sign-off glued to the last paragraph: `(Reporting by X; Editing by Y)`.
                    r"\s*\((?:additional )?(?:reporting|writing|editing|compiled|produced) by [^)]{1,200}\)\s*$".into(),
                ],
                extra_patterns: Vec::new(),
                keywords: Vec::new(),
            },
            caption: PatternRule {
                enabled: true,
                max_line_bytes: 400,
                patterns: vec![
                    // `Photo: AP`, `Image credit: Getty Images`.
                    r"^\s*(?:photo|image|picture|photograph|graphic|video)s?(?:\s+credit)?\s*:\s*[^.!?]{1,80}\.?\s*$".into(),
                    // `(AP Photo/Jane Doe)`, `REUTERS/Name`.
                    format!(r"^\s*\(?\s*{AGENCY}\s*(?:photo|images?|pictures?)?\s*/\s*[^)]{{1,60}}\)?\s*$"),
                    // `Photo by Name/Agency via Getty Images`, `Photograph: Name`.
                    r"^\s*(?:photo(?:graph)?|image|picture)s?\s+(?:by|courtesy of|credit)\s+[^.!?]{1,100}$".into(),
                    r"^[^.!?]{0,100}\bvia getty images\s*$".into(),
                    // `Image caption Soldiers ...` (a caption with its label).
                    r"^\s*(?:image|media|video) caption\b.{0,300}$".into(),
                    // `File photo`.
                    r"^\s*(?:file|stock|representative|representational)\s+(?:photo|image|picture)\.?\s*$".into(),
                    // A caption ending in its credit: `... on Monday. (AP Photo/Jane Doe)`.
                    // A one-sentence caption ending in its credit. On a longer
                    // paragraph only the credit is cut (image_credit).
                    format!(r"^[^.!?]{{0,160}}[.!?]?\s*\(\s*{AGENCY}\s*(?:photo|images?|pictures?)?\s*/[^)]{{1,60}}\)\s*$"),
                    // A caption sentence, then its credit: `... on Monday. Photo: Reuters`
                    // (not a headline with a credit glued after a pipe).
                    format!(r"^[^|]{{0,300}}[.!?]\s+(?:photo|image|picture)\s*(?:credit)?\s*:\s*{AGENCY}\.?\s*$"),
                    // A one-sentence caption and its credit: `X arrives in Oslo. Photo by Name/Agency`.
                    r"^[^.!?|]{5,200}[.!?]\s+(?:©|\(c\)|credit\s*:|(?:photo(?:graph)?|image|picture)s?\s*(?:by|:|credit:?))\s*[^.!?]{1,80}\.?\s*$".into(),
                    // `Source: Cedar Standard`.
                    r"^\s*sources?\s*:\s*[^.!?]{1,60}$".into(),
                ],
                extra_patterns: Vec::new(),
                keywords: Vec::new(),
            },
            prompt: PatternRule::new(
                400,
                &[
                    r"^\s*(?:share|share this|share this (?:article|story|post|page)|share on (?:facebook|twitter|x|whatsapp|linkedin|email)|follow us|follow us on [\w ,&]+|subscribe|subscribe now|advertisement|advertising|sponsored|sponsored content|print this (?:article|page)|email this (?:article|story)|click here to [^.]{0,60}|scroll (?:down )?to continue reading)\.?\s*$",
                    r"^\s*(?:subscribe|sign up|register)\b.{0,100}\bnewsletters?\b.{0,80}$",
                    r"^\s*subscribe\b[^.!?]{0,80}[.!]?\s*$",
                    // Comment counters: `312 comments — add yours`, `Comments (12)`.
                    r"^\s*(?:\d+\s+comments?\b.{0,30}|comments?\s*\(\d+\)|view (?:all )?\d*\s*comments?|join the (?:conversation|discussion)\b.{0,30}|(?:add|leave|post) (?:a|your) comment.{0,20}|show comments)\s*$",
                    // Newsletter boxes and sign-up fields.
                    r"^.{0,80}\b(?:delivered|sent|straight) (?:to|into) your inbox\b.{0,60}$",
                    r"^\s*(?:enter )?(?:your )?e-?mail(?: address)?\s*:?\s*$",
                    // Update notes: `This story has been updated with additional details.`
                    r"^\s*(?:this (?:story|article|report) (?:has been|was) updated\b.{0,80}|updates? (?:with|to add) [^.]{1,60}\.?)\s*$",
                    // `Listen to this article · 4:32`.
                    r"^\s*(?:listen to (?:this )?(?:article|story)|play audio)\b.{0,30}$",
                    // Share bars: a line made only of network and sharing words.
                    r"^\s*(?:(?:share(?: on| via)?|send|email|e-mail|mail|print|copy link|facebook|twitter|x|google\+|whatsapp|tumblr|linkedin|stumbleupon|stumble|digg|reddit|pinterest|messenger|telegram|pocket|flipboard|sms|vk|weibo|wechat|newsvine|more)\b(?:[\s,|/]|·|•)*){2,}$",
                    r"^.{0,120}\bnewsletters?\b.{0,60}\b(?:subscribe|sign up)\b.{0,60}$",
                    r"^.{0,200}\b(?:we use|this (?:web)?site uses|uses) cookies\b.{0,250}$",
                    r"^.{0,150}\b(?:accept (?:all )?cookies|cookie (?:policy|settings|preferences))\b.{0,150}$",
                ],
            ),
            read_more: PatternRule::new(
                400,
                &[
                    r"^\s*(?:read more|also read|read also|read next|read|more|more on|more on this(?: story)?|related|related articles?|related stories|related news|see also|see more|further reading|recommended|you may also like|most read|trending|watch|listen)\s*(?::|>|\||–|—)\s*.{0,250}$",
                    r"^\s*(?:read more|related|related articles|related stories|related coverage|you may also like|most read|most popular|most viewed|more stories|more news|more from [\w .'&-]{1,40}|popular (?:on|at|in) [\w .'&-]{1,40}|popular now|elsewhere (?:on|at|in) [\w .'&-]{1,40}|recommended|recommended for you|you might also like|you may have missed|don'?t miss|what'?s hot|in other news|trending|trending now|top stories|latest|latest news|latest stories|editor'?s picks)\s*:?\s*$",
                ],
            ),
            copyright: PatternRule::new(
                500,
                &[
                    r"^\s*(?:copyright\s*)?(?:©|\(c\)|copyright)\s*(?:\d{4}|[a-z]).{0,300}$",
                    r"^.{0,200}\ball rights reserved\.?\s*$",
                    r"^[^.!?]{0,60}©\s*\d{4}\b[^.!?]{0,100}$",
                    // Syndication notes: `This story first appeared at X. Republished with permission.`
                    r"^\s*this (?:story|article|report) (?:first|originally) (?:appeared|ran|was published) (?:at|on|in) .{1,120}$",
                    r"^\s*(?:republished|reprinted|reproduced) with (?:the )?permission\b.{0,100}$",
                ],
            ),
            tags: PatternRule::new(
                400,
                &[r"^\s*(?:tags|topics|keywords|filed under)\s*:\s*.{1,300}$", r"^\s*(?:#[\w-]+[\s,]*){2,}$"],
            ),
            author: PatternRule::new(
                300,
                &[
                    r"^\s*about the author\s*:.{1,250}$",
                    r"^\s*\((?:additional )?(?:reporting|writing|editing|compiled|produced) by [^)]{1,200}\)\s*$",
                    // `Name | Foreign Affairs Editor`.
                    r"^(?-i:[A-Z])(?:[\w.'-]|’)+(?: (?-i:[A-Z])(?:[\w.'-]|’)+){1,3}\s*(?:\||,|-|–|—)\s*(?:[\w]+ ){0,3}(?:editor|correspondent|reporter|writer|columnist|producer|contributor)\s*$",
                    r"^\s*(?:contact|email|reach)\s+[^@\n]{2,60}\s+at\s+\S+@\S+\.\w+\.?\s*$",
                    // `Name has reported on X for 12 years. Follow her on ...`
                    r"^(?-i:[A-Z])(?:[\w.'-]|’)+(?: (?-i:[A-Z])(?:[\w.'-]|’)+){1,3} (?:has|have) (?:reported|written|covered) (?:on|about) [^.]{1,80}\.\s*follow\b.{0,80}$",
                    // `Name is a contributor at The Paper, covering ...`
                    r"^(?-i:[A-Z])(?:[\w.'-]|’)+(?: (?-i:[A-Z])(?:[\w.'-]|’)+){1,3} (?:is|was) an? (?:[\w-]+ ){0,3}(?:editor|reporter|correspondent|contributor|producer|writer|columnist)\s+(?:at|for|with)\s+(?:the )?(?-i:[A-Z]).{0,150}$",
                ],
            ),
            stray_token: StrayTokenRule {
                enabled: true,
                tokens: ["rehash", "amp", "nbsp", "quot", "ndash", "mdash", "hellip", "rsquo", "ldquo", "rdquo", "wpcontent"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                learn_min_docs: 3,
            },
            repeated_paragraph: RepeatedParagraphRule { enabled: true, min_words: 4, prefix_min_words: 8 },
            boilerplate: BoilerplateRule {
                enabled: true,
                site_min_docs: 4,
                site_min_share: 0.05,
                site_max_words: 40,
                corpus_min_docs: 50,
                corpus_min_sites: 3,
                corpus_max_words: 20,
                min_stories: default_min_stories(),
            },
            classifier: ClassifierRule::default(),
            custom: Vec::new(),
        };
        // Prefilters, each taken from what every pattern of its rule needs.
        // They spare the patterns that must scan a line (`^.{0,300}...`) on
        // the body paragraphs that make up most of the text.
        rules.caption.keywords =
            ["photo", "image", "picture", "graphic", "video", "/", "getty", "caption", "©", "(c)", "credit", "source"]
                .map(String::from)
                .to_vec();
        rules.prompt.keywords = [
            "share",
            "follow",
            "subscribe",
            "advert",
            "sponsor",
            "print",
            "mail",
            "click",
            "scroll",
            "newsletter",
            "cookie",
            "comment",
            "conversation",
            "discussion",
            "listen",
            "audio",
            "send",
            "copy",
            "facebook",
            "twitter",
            "google",
            "whatsapp",
            "tumblr",
            "linkedin",
            "stumble",
            "digg",
            "reddit",
            "pinterest",
            "messenger",
            "telegram",
            "pocket",
            "flipboard",
            "sms",
            "vk",
            "weibo",
            "wechat",
            "newsvine",
            "inbox",
            "update",
            "register",
            "sign up",
        ]
        .map(String::from)
        .to_vec();
        rules.copyright.keywords =
            ["©", "(c)", "copyright", "rights reserved", "this story", "this article", "this report", "permission"]
                .map(String::from)
                .to_vec();
        rules.tags.keywords = ["tags", "topics", "keywords", "filed under", "#"].map(String::from).to_vec();
        rules.read_more.keywords = [
            "read",
            "more",
            "related",
            "see also",
            "recommended",
            "you may",
            "you might",
            "trending",
            "watch",
            "listen",
            "most",
            "popular",
            "elsewhere",
            "miss",
            "hot",
            "in other news",
            "top stories",
            "latest",
            "picks",
        ]
        .map(String::from)
        .to_vec();
        // A bio names a role, a credit line a task, a contact line an address.
        rules.author.keywords = [
            "about the author",
            "reporting by",
            "writing by",
            "editing by",
            "compiled by",
            "produced by",
            "@",
            "editor",
            "correspondent",
            "reporter",
            "writer",
            "columnist",
            "producer",
            "contributor",
            "reported",
            "written",
            "covered",
        ]
        .map(String::from)
        .to_vec();
        rules
    }
}

/// Deep-merges `patch` into `base`: objects merge key by key, anything else
/// replaces.
fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
    match (base, patch) {
        (serde_json::Value::Object(b), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

impl Rules {
    /// The defaults overridden by a rules file: a JSON object in the format
    /// `--explain` prints, in which only the fields to change need appear.
    pub fn from_file(path: &Path) -> Result<Rules> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Rules::from_json(&text).map_err(|comment| Error::DataCorruption { path: path.to_path_buf(), comment })
    }

    /// As [`Rules::from_file`], from JSON text.
    pub fn from_json(text: &str) -> std::result::Result<Rules, String> {
        let patch: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let mut value = serde_json::to_value(Rules::default()).map_err(|e| e.to_string())?;
        merge(&mut value, patch);
        let rules: Rules = serde_json::from_value(value).map_err(|e| format!("invalid rules: {e}"))?;
        rules.compile().map_err(|e| e.to_string())?;
        Ok(rules)
    }

    /// The rules as pretty JSON, in the rules-file format.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The built-in whole-line rules by name, in the order they are tried
    /// (custom rules follow them).
    fn builtin_line_rules(&self) -> [(&'static str, &PatternRule); 6] {
        [
            (crate::clean::CAPTION, &self.caption),
            (crate::clean::PROMPT, &self.prompt),
            (crate::clean::READ_MORE, &self.read_more),
            (crate::clean::COPYRIGHT, &self.copyright),
            (crate::clean::TAGS, &self.tags),
            (crate::clean::AUTHOR, &self.author),
        ]
    }

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

/// A rule that cannot be used, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    /// The rule.
    pub rule: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rule `{}`: {}", self.rule, self.message)
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
    combined: Option<Screened>,
    /// The same search split by required bytes (see [`ByteScreens`]).
    screens: Option<ByteScreens>,
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
struct Screened {
    exact: Regex,
    /// None when the pattern has no wide bound to loosen.
    loose: Option<Regex>,
}

impl Screened {
    /// The error is the build error's message (the rule names itself).
    fn new(pattern: &Hir, captures: WhichCaptures) -> std::result::Result<Screened, String> {
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

    fn is_match(&self, haystack: &[u8]) -> bool {
        self.loose.as_ref().is_none_or(|re| re.is_match(haystack)) && self.exact.is_match(haystack)
    }

    fn find(&self, haystack: &[u8]) -> Option<regex_automata::Match> {
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
struct ByteScreens {
    /// A pattern alone, the byte each of its matches holds, and the tail
    /// its matches lie in (see [`end_tail_text`]).
    alone: Vec<(u8, Screened, Option<usize>)>,
    /// The patterns that need no rare byte, as one alternation.
    rest: Option<Screened>,
    /// Strings one of which every match of `rest` holds (see
    /// [`required_literals`]), when there is such a set.
    rest_literals: Option<Vec<Vec<u8>>>,
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
    fn new(trees: &[Hir]) -> std::result::Result<Option<ByteScreens>, String> {
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
    fn find(&self, haystack: &[u8], combined: &Screened, rest_literal: bool) -> Option<regex_automata::Match> {
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
fn required_literals(hir: &Hir) -> Option<Vec<Vec<u8>>> {
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
fn max_text_bytes(hir: &Hir) -> Option<usize> {
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
fn text_bytes(line: &[u8]) -> usize {
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
fn starts_wide(hir: &Hir) -> bool {
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
fn parse_pattern(pattern: &str) -> std::result::Result<Hir, String> {
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
fn rebuild(hir: &Hir, loose: bool, first_group: u32, loosened: &mut bool) -> Hir {
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

    fn junk_line() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("Photo: Reuters".to_string()),
            Just(" | Image: AP".to_string()),
            Just("(AP Photo/Jane Doe)".to_string()),
            Just("we use cookies".to_string()),
            Just("All rights reserved.".to_string()),
            Just("Read more: ".to_string()),
            Just("Published 3 May 2024 10:42 GMT".to_string()),
            Just("By Ana Lee | ".to_string()),
            Just("Subscribe to our newsletter".to_string()),
            Just("(Reporting by Kim Ho; Editing by Al Ng)".to_string()),
            Just(". Photo by Sam Roe".to_string()),
            Just("©".to_string()),
            Just(" Officials met on Monday and agreed the budget after a long debate. ".to_string()),
            "[ \t]{0,90}",
            "[a-z .,|()/:]{0,90}",
        ];
        proptest::collection::vec(piece, 0..8).prop_map(|p| p.concat())
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

    fn compiled_all() -> &'static CompiledRules {
        static RULES: std::sync::OnceLock<CompiledRules> = std::sync::OnceLock::new();
        RULES.get_or_init(|| Rules::default().compile().unwrap())
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
    fn defaults_compile_and_round_trip_through_explain() {
        let rules = Rules::default();
        rules.compile().unwrap();
        assert_eq!(Rules::from_json(&rules.to_json()).unwrap(), rules);
    }

    #[test]
    fn a_rules_file_changes_only_what_it_names() {
        let r = Rules::from_json(r#"{"prompt": {"enabled": false}, "stray_token": {"tokens": ["zzz"]}}"#).unwrap();
        assert!(!r.prompt.enabled);
        assert_eq!(r.stray_token.tokens, vec!["zzz"]);
        assert_eq!(r.caption, Rules::default().caption);
    }

    #[test]
    fn bad_rules_are_named() {
        let e = Rules::from_json(r#"{"caption": {"extra_patterns": ["(unclosed"]}}"#).unwrap_err();
        assert!(e.contains("rule `caption`") && e.contains("(unclosed"), "{e}");
        let e = Rules::from_json(r#"{"promt": {"enabled": false}}"#).unwrap_err();
        assert!(e.contains("promt"), "{e}");
        let e = Rules::from_json(
            r#"{"custom": [{"name": "ads", "enabled": true, "max_line_bytes": 9, "patterns": ["["]}]}"#,
        )
        .unwrap_err();
        assert!(e.contains("rule `ads`"), "{e}");
        let e = Rules::from_json(r#"{"boilerplate": {"corpus_min_sites": 9}}"#).unwrap_err();
        assert!(e.contains("boilerplate.corpus_min_sites"), "{e}");
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
