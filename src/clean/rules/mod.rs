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
//!
//! The rule data and the built-in defaults are here; reading a rules file
//! is in `file`, compiling the rules and scanning a line with them in
//! `compile`, and the byte screens and pattern analysis that spare most
//! searches in `screens`.

mod compile;
mod file;
mod screens;

use serde::{Deserialize, Serialize};

pub(crate) use compile::LineScan;
pub use compile::{CompiledPatternRule, CompiledRules, LineRule};
pub use file::RuleError;

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

impl Rules {
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
}

#[cfg(test)]
mod tests {
    use super::{CompiledRules, Rules};
    use proptest::prelude::*;

    /// Lines of junk pieces, prose and spaces, for the property tests of
    /// `compile` and `screens`.
    pub(super) fn junk_line() -> impl Strategy<Value = String> {
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

    /// The default rules, compiled once for the tests of `compile` and
    /// `screens`.
    pub(super) fn compiled_all() -> &'static CompiledRules {
        static RULES: std::sync::OnceLock<CompiledRules> = std::sync::OnceLock::new();
        RULES.get_or_init(|| Rules::default().compile().unwrap())
    }
}
