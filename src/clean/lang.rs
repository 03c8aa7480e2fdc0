//! A document's language and its stopwords, for the line classifier's
//! stopword share.
//!
//! The share of stopwords is the strongest single sign of prose (jusText's
//! main feature): a sentence is a third to a half function words in any
//! language, a menu or a credit almost none. Which words are function
//! words depends on the language, so each document's language is found
//! once (a vote of every list's stopwords on a sample of its long lines,
//! [`whatlang`]'s trigram statistics for a close vote) and its lines are
//! counted against that language's list (the
//! [`stop_words`] crate: NLTK's lists where NLTK has one, stopwords-iso's
//! otherwise).
//!
//! Chinese and Japanese put no spaces between words: there each Han or kana
//! character is a token, and the lists' one-character entries (的, 了, の,
//! は...) are the stopwords.

use std::sync::OnceLock;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// The stopwords of one language: whole words (lower case) and, for
/// scripts without spaces, single characters.
#[derive(Debug, Default)]
pub struct Stopwords {
    /// ISO 639-1 code, or `""` when no language was found.
    pub code: &'static str,
    words: HashSet<&'static str>,
    chars: HashSet<char>,
    // The longest word's length in bytes: a longer word is not looked up
    // (most of a paragraph's content words, and a hash spared each).
    longest: usize,
    // Bits set for each listed word's two `sketch` positions: a word with
    // either bit clear is not listed, found without hashing it or probing
    // the set (about half a paragraph's words). 8,192 bits, in cache.
    sketch: Vec<u64>,
}

/// Bits of a [`Stopwords`] sketch.
const SKETCH_BITS: usize = 1 << 13;

/// The two sketch positions of a word: from its length and its first two
/// and last bytes, which tell most words apart and cost a few operations.
#[inline]
fn sketch_bits(word: &[u8]) -> (usize, usize) {
    let n = word.len() as u64;
    let first = u64::from(word.first().copied().unwrap_or(0));
    let second = u64::from(word.get(1).copied().unwrap_or(0));
    let last = u64::from(word.last().copied().unwrap_or(0));
    let h = (n | first << 8 | second << 16 | last << 24).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let bits = SKETCH_BITS.trailing_zeros();
    ((h >> (64 - bits)) as usize, ((h >> (64 - 2 * bits)) as usize) & (SKETCH_BITS - 1))
}

impl Stopwords {
    /// Whether `word` (already lower case) is a stopword.
    pub fn is_word(&self, word: &str) -> bool {
        if word.len() > self.longest || self.sketch.is_empty() {
            return false;
        }
        let (a, b) = sketch_bits(word.as_bytes());
        let bit = |i: usize| (self.sketch[i / 64] >> (i % 64)) & 1 == 1;
        bit(a) && bit(b) && self.words.contains(word)
    }

    /// Whether the character `c` is a stopword of a script without spaces.
    pub fn is_char(&self, c: char) -> bool {
        self.chars.contains(&c)
    }
}

/// ISO 639-3 (whatlang) to ISO 639-1 (stop-words), for every language both
/// know.
// A language is a bit of a `u64` in the votes.
const _: () = assert!(CODES.len() <= 64);

const CODES: &[(&str, &str)] = &[
    ("eng", "en"),
    ("deu", "de"),
    ("fra", "fr"),
    ("spa", "es"),
    ("ita", "it"),
    ("por", "pt"),
    ("nld", "nl"),
    ("rus", "ru"),
    ("cmn", "zh"),
    ("jpn", "ja"),
    ("ara", "ar"),
    ("ukr", "uk"),
    ("pol", "pl"),
    ("tur", "tr"),
    ("swe", "sv"),
    ("dan", "da"),
    ("nob", "no"),
    ("fin", "fi"),
    ("ces", "cs"),
    ("slk", "sk"),
    ("hun", "hu"),
    ("ron", "ro"),
    ("ell", "el"),
    ("heb", "he"),
    ("hin", "hi"),
    ("kor", "ko"),
    ("vie", "vi"),
    ("ind", "id"),
    ("pes", "fa"),
    ("bul", "bg"),
    ("hrv", "hr"),
    ("slv", "sl"),
    ("cat", "ca"),
    ("lit", "lt"),
    ("lav", "lv"),
    ("est", "et"),
    ("tha", "th"),
    ("urd", "ur"),
    ("ben", "bn"),
    ("afr", "af"),
    ("tgl", "tl"),
];

fn table() -> &'static HashMap<&'static str, Stopwords> {
    static TABLE: OnceLock<HashMap<&'static str, Stopwords>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = HashMap::default();
        for &(_, code) in CODES {
            let Some(list) = stop_words::lookup(code) else { continue };
            let mut stops = Stopwords { code, ..Default::default() };
            for &w in list {
                let mut chars = w.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if is_unspaced(c) => {
                        stops.chars.insert(c);
                    }
                    _ => {
                        stops.words.insert(w);
                        stops.longest = stops.longest.max(w.len());
                        if stops.sketch.is_empty() {
                            stops.sketch = vec![0; SKETCH_BITS / 64];
                        }
                        let (a, b) = sketch_bits(w.as_bytes());
                        stops.sketch[a / 64] |= 1 << (a % 64);
                        stops.sketch[b / 64] |= 1 << (b % 64);
                    }
                }
            }
            table.insert(code, stops);
        }
        table.insert("", Stopwords::default());
        table
    })
}

/// The stopwords of a language by its ISO 639-1 code; an unknown code
/// gets an empty list.
pub fn stopwords(code: &str) -> &'static Stopwords {
    let table = table();
    table.get(code).unwrap_or_else(|| &table[""])
}

/// Which of [`CODES`]' languages (by index, a bit each) list a word as a
/// stopword: one lookup a word votes for every language at once.
/// With the longest stopword's length in bytes: a longer word (most of a
/// paragraph's content words) is not looked up.
fn votes() -> &'static (HashMap<&'static str, u64>, usize) {
    static VOTES: OnceLock<(HashMap<&'static str, u64>, usize)> = OnceLock::new();
    VOTES.get_or_init(|| {
        let mut votes: HashMap<&'static str, u64> = HashMap::default();
        for (i, &(_, code)) in CODES.iter().enumerate() {
            for &w in &stopwords(code).words {
                *votes.entry(w).or_default() |= 1 << i;
            }
        }
        let longest = votes.keys().map(|w| w.len()).max().unwrap_or(0);
        (votes, longest)
    })
}

/// Builds every language's stopword list and the vote's table now (about
/// 12 ms, once a process), rather than in the first [`detect`]: there,
/// every worker that cleans a document waits for it.
pub fn warm_up() {
    votes();
}

/// Whether `word` (lower case) is a stopword of a language that writes
/// its sentences' first words with a capital: English, German, French,
/// Spanish, Italian, Portuguese or Dutch (the first seven of `CODES`). The
/// longer lists of other languages hold names (`ana`).
pub fn is_capitalising_stopword(word: &str) -> bool {
    const LATIN_NEWS_LANGUAGES: u64 = (1 << 7) - 1;
    let (votes, longest) = votes();
    word.len() <= *longest && votes.get(word).is_some_and(|mask| mask & LATIN_NEWS_LANGUAGES != 0)
}

/// The stopwords of the language `text` is written in.
///
/// The sample is the text's lines of 40 bytes or more, in order, up to
/// 600 bytes (its shorter lines when it has none): menus, bylines and
/// credits are short, often in another language or script than the story
/// (an English menu over a Japanese story), and tell little of it.
///
/// Scripts without spaces are told by their share of the sample's letters.
/// Other text is put to a vote of stopwords: prose is a fifth to a half
/// function words, and a paragraph's make its language plain (what jusText
/// assumes when it counts them). Only a thin or close vote asks whatlang,
/// whose trigram statistics cost more than the rest of a page's cleaning
/// did, and a page with few stopwords of any list (under 15% of its words)
/// is of no language. When the opening's long lines fail so (link titles,
/// names) and the page has more, its longest lines vote once more.
pub fn detect(text: &str) -> &'static Stopwords {
    detect_voting(text, true)
}

/// [`detect`], with or without its early end of a won vote (tests hold
/// the two to the same answers).
fn detect_voting(text: &str, early: bool) -> &'static Stopwords {
    const LONG_LINE: usize = 40;
    let mut sample = String::with_capacity(SAMPLE_BYTES + 1);
    let mut whole = true;
    for long in [true, false] {
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && (l.len() >= LONG_LINE) == long) {
            if sample.len() >= SAMPLE_BYTES || !push_sample(&mut sample, line) {
                whole = false;
                break;
            }
        }
        if !sample.is_empty() {
            break;
        }
    }
    if let Some(stops) = vote(&sample, early) {
        return stops;
    }
    // The opening's long lines can all be headlines of link boxes, a few
    // stopwords among names (`Suzuki Files Bankruptcy, 2012 Election`),
    // above a story the vote never reached. The page's longest lines are
    // its paragraphs, if it has any: they vote once more.
    if whole {
        return stopwords("");
    }
    let mut longest: Vec<&str> = text.lines().map(str::trim).filter(|l| l.len() >= LONG_LINE).collect();
    // Longest first, the earlier of two of a length first: a stable sort.
    longest.sort_by_key(|l| std::cmp::Reverse(l.len()));
    sample.clear();
    for line in longest {
        if sample.len() >= SAMPLE_BYTES || !push_sample(&mut sample, line) {
            break;
        }
    }
    vote(&sample, early).unwrap_or(stopwords(""))
}

/// Bytes of a page that [`detect`] reads.
const SAMPLE_BYTES: usize = 600;

/// Appends `line` to a language sample, cut to what the sample has room
/// for; false when it was cut.
fn push_sample(sample: &mut String, line: &str) -> bool {
    let cut = super::floor_boundary(line, SAMPLE_BYTES.saturating_sub(sample.len()));
    sample.push_str(&line[..cut]);
    sample.push('\n');
    cut == line.len()
}

/// The language of `sample` by its script or its stopwords; `None` when it
/// holds too few stopwords of any list to tell.
fn vote(sample: &str, early: bool) -> Option<&'static Stopwords> {
    // whatlang picks the script with the most characters first, and a
    // Japanese text's are split among Han, Hiragana and Katakana: an
    // English menu line outnumbers any one of them.
    // An ASCII sample has no letter of a script without spaces.
    let ScriptCounts { letters, unspaced, kana, thai } = match sample.is_ascii() {
        true => ScriptCounts::default(),
        false => ScriptCounts::of(sample),
    };
    if unspaced * 2 > letters {
        return Some(stopwords(if thai * 2 > unspaced {
            "th"
        } else if kana * 10 >= unspaced {
            "ja"
        } else {
            "zh"
        }));
    }
    let (votes, longest) = (&votes().0, votes().1);
    let mut counts = [0u32; 64];
    let (mut words, mut lower) = (0usize, String::new());
    // One word's vote; a language when the vote is won early.
    let vote_word = |w: &str| -> Option<&'static Stopwords> {
        let w = match w.is_ascii() {
            true => w.trim_matches(|c: char| !c.is_ascii_alphanumeric()),
            false => w.trim_matches(|c: char| !c.is_alphanumeric()),
        };
        if w.is_empty() {
            return None;
        }
        words += 1;
        if w.len() > longest {
            return None;
        }
        let mask = match w.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80) {
            true => {
                lower.clear();
                match w.is_ascii() {
                    true => {
                        lower.push_str(w);
                        lower.make_ascii_lowercase();
                    }
                    false => lower.extend(w.chars().flat_map(char::to_lowercase)),
                }
                votes.get(lower.as_str())
            }
            false => votes.get(w),
        };
        let mut mask = mask.copied().unwrap_or(0);
        while mask != 0 {
            counts[mask.trailing_zeros() as usize] += 1;
            mask &= mask - 1;
        }
        // A landslide early in the sample stands: the rest of a page of
        // prose nearly always adds to it, and the words not looked up were
        // most of the vote's time (each a probe of a map of every list's
        // words). A page that opens with a long quote in another language
        // can be called for the quote's: none of cleaner-train's pages, nor
        // the news corpora's, were.
        if early && words.is_multiple_of(EARLY_EVERY_WORDS) {
            let (best, best_votes, second) = tally(&counts);
            if best_votes >= EARLY_VOTES && best_votes >= 3 * second && (best_votes as usize) * 4 >= words {
                return Some(stopwords(CODES[best].1));
            }
        }
        None
    };
    if let Some(won) = find_map_words(sample, vote_word) {
        return Some(won);
    }
    let (best, best_votes, second) = tally(&counts);
    // Prose is a fifth to a half stopwords: a sample with few of any
    // list's (names, codes, made-up words, a language without a list) is
    // of no language the classifier knows, whatever whatlang would say,
    // and is not put to whatlang: on made-up words, which match a short
    // stopword here and there, it was most of a clean's time.
    if (best_votes as usize) * 20 < words * 3 || best_votes < 2 {
        return None;
    }
    if best_votes >= 6 && best_votes * 4 >= second * 5 {
        return Some(stopwords(CODES[best].1));
    }
    // A thin or close vote (Spanish and French share many stopwords, and
    // NLTK's French list lacks `les`): whatlang decides, among the
    // languages whose stopwords the sample holds.
    let by_trigrams = whatlang::detect_lang(sample)
        .and_then(|lang| CODES.iter().position(|(three, _)| *three == lang.code()))
        .filter(|&i| (counts[i] as usize) * 20 >= words);
    Some(stopwords(CODES[by_trigrams.unwrap_or(best)].1))
}

/// The letters of a sample, and those of scripts without spaces among
/// them: Kana and Thai apart.
#[derive(Debug, Default, PartialEq)]
struct ScriptCounts {
    letters: usize,
    unspaced: usize,
    kana: usize,
    thai: usize,
}

impl ScriptCounts {
    fn of(sample: &str) -> ScriptCounts {
        // ASCII letters are counted a byte at a time, in a loop that
        // vectorises; only the other characters are decoded and looked up
        // in Unicode's tables. A Latin page's sample is nearly all ASCII
        // (a curly quote or a dash makes it not), and decoding all of it
        // was a third of the vote.
        let mut counts =
            ScriptCounts { letters: sample.bytes().filter(u8::is_ascii_alphabetic).count(), ..Default::default() };
        let mut rest = sample;
        while let Some(at) = rest.bytes().position(|b| !b.is_ascii()) {
            // Found after whole characters: a character starts there.
            let Some(c) = rest[at..].chars().next() else { break };
            rest = &rest[at + c.len_utf8()..];
            if !c.is_alphabetic() {
                continue;
            }
            counts.letters += 1;
            if is_unspaced(c) {
                counts.unspaced += 1;
                counts.kana += usize::from(('\u{3040}'..='\u{30FF}').contains(&c));
                counts.thai += usize::from(('\u{0E00}'..='\u{0E7F}').contains(&c));
            }
        }
        counts
    }
}

/// The first `Some` that `f` makes of the words of `text`, the words of
/// `split_whitespace`, in its order. They are found by a byte search for
/// ASCII white space; only a piece that is not ASCII is split again at
/// Unicode's (a no-break space): most pages hold a curly quote or a dash,
/// and splitting a whole sample a character at a time, each looked up in
/// Unicode's table, cost as much as the vote's lookups.
fn find_map_words<'t, T>(text: &'t str, mut f: impl FnMut(&'t str) -> Option<T>) -> Option<T> {
    for piece in text.as_bytes().split(|&b| super::is_ascii_space(b)).filter(|p| !p.is_empty()) {
        // A piece lies between ASCII bytes: its ends are character boundaries.
        let at = piece.as_ptr() as usize - text.as_ptr() as usize;
        let piece = &text[at..at + piece.len()];
        let found = match piece.is_ascii() {
            true => f(piece),
            false => piece.split_whitespace().find_map(&mut f),
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// How often (in words) [`detect`] asks whether its vote is already won.
const EARLY_EVERY_WORDS: usize = 16;
/// A vote is won early with this many stopwords of one language, three
/// times the runner-up's, and a quarter of the words so far: stricter
/// than the final rule, which makes an early win the whole sample's in
/// practice (not by proof: the rest of the sample is not read).
const EARLY_VOTES: u32 = 12;

/// The leading language of a vote (ties go to the earlier language of
/// `CODES`, the commoner in news), its votes and the runner-up's.
fn tally(counts: &[u32; 64]) -> (usize, u32, u32) {
    let (best, best_votes) = counts.iter().enumerate().fold((0, 0), |b, (i, &c)| if c > b.1 { (i, c) } else { b });
    let second = counts.iter().enumerate().filter(|&(i, _)| i != best).map(|(_, &c)| c).max().unwrap_or(0);
    (best, best_votes, second)
}

/// A character of a script written without spaces between words: Han,
/// Hiragana, Katakana (and their punctuation block), Thai.
pub fn is_unspaced(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // Han extension A
        | 0x4E00..=0x9FFF    // Han
        | 0xF900..=0xFAFF    // Han compatibility
        | 0x0E00..=0x0E7F    // Thai
        | 0x20000..=0x2FA1F  // Han extensions B-F
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        // Words and letters as the plain character walks find them, on
        // text of ASCII, Latin-1, CJK, Kana, Thai and Unicode spaces.
        #[test]
        fn the_byte_walks_find_the_words_and_letters_the_character_walks_find(
            text in "[ a-zA-Z.,\t\n\x0b\x0c\r\x1c-\x1f\u{85}\u{1680}\u{2028}\u{a0}\u{3000}\u{2009}éßÆ’—“部长ひカタไทย]{0,40}"
        ) {
            let mut words = Vec::new();
            let none: Option<()> = find_map_words(&text, |w| {
                words.push(w);
                None
            });
            proptest::prop_assert_eq!(none, None);
            proptest::prop_assert_eq!(words, text.split_whitespace().collect::<Vec<_>>());
            let mut counts = ScriptCounts::default();
            for c in text.chars().filter(|c| c.is_alphabetic()) {
                counts.letters += 1;
                if is_unspaced(c) {
                    counts.unspaced += 1;
                    counts.kana += usize::from(('\u{3040}'..='\u{30FF}').contains(&c));
                    counts.thai += usize::from(('\u{0E00}'..='\u{0E7F}').contains(&c));
                }
            }
            proptest::prop_assert_eq!(ScriptCounts::of(&text), counts);
        }
    }

    #[test]
    fn a_page_under_a_wall_of_link_titles_is_told_by_its_paragraphs() {
        // Over 600 bytes of long link titles, names and numbers, nearly
        // no stopwords, above an English story.
        let mut page = String::new();
        for i in 0..12 {
            page.push_str(&format!("Harbour Ledger Weekly Roundup {i}: Tolvik Ferries, Marrow Bay Cup Results\n"));
        }
        page.push_str("The ferry company said on Monday that it would add two crossings a day to the timetable, because the bridge is closed for repairs until the end of the month and the queues at the port have grown.\n");
        assert_eq!(detect(&page).code, "en");
        // A story on one long line, only its start in the first sample.
        let short_wall: String = page.lines().skip(5).map(|l| format!("{l}\n")).collect();
        assert_eq!(detect(&short_wall).code, "en");
        // Link titles alone are still of no language.
        let titles: String = page.lines().take(12).map(|l| format!("{l}\n")).collect();
        assert_eq!(detect(&titles).code, "");
    }

    #[test]
    fn languages_of_a_news_corpus_are_found_with_their_stopwords() {
        let cases = [
            ("en", "The minister said on Monday that the talks would resume after the holiday."),
            ("de", "Der Minister sagte am Montag, dass die Gespräche nach den Feiertagen wieder aufgenommen werden."),
            ("fr", "Le ministre a déclaré lundi que les négociations reprendraient après les fêtes."),
            ("es", "El ministro dijo el lunes que las negociaciones se reanudarían después de las fiestas."),
            ("ru", "Министр заявил в понедельник, что переговоры возобновятся после праздников."),
            ("zh", "部长周一表示，谈判将在假期结束后恢复，双方的立场仍然存在分歧。"),
            ("ja", "大臣は月曜日、休暇の後に交渉が再開されると述べた。"),
            ("it", "Il ministro ha detto lunedì che i negoziati riprenderanno dopo le feste, ma non ha dato una data."),
            (
                "pt",
                "O ministro disse na segunda-feira que as negociações serão retomadas depois das festas, mas não deu uma data.",
            ),
            (
                "nl",
                "De minister zei maandag dat de gesprekken na de feestdagen worden hervat, maar hij noemde geen datum.",
            ),
            ("ar", "قال الوزير يوم الاثنين إن المحادثات ستستأنف بعد العطلة، لكنه لم يحدد موعدا لذلك."),
        ];
        for (code, text) in cases {
            let stops = detect(text);
            assert_eq!(stops.code, code, "{text}");
            assert!(!stops.words.is_empty() || !stops.chars.is_empty(), "{code} has no stopwords");
        }
        // The story's language, not its menu's.
        let page = "The Harbour Courier | Home | World | Business | Sport\n港湾ストが三日目に\n\
                    労働組合によると、港湾労働者は月曜日も仕事を休み、ストライキは三日目に入った。\n\
                    「私たちは引き下がらない」とマリア・ロペスさんは語った。";
        assert_eq!(detect(page).code, "ja");
        // Made-up words are of no language.
        assert_eq!(detect("Vorlak tesmin quor balatri venso. Kiramo delvit osren tulka mavredo.").code, "");
        // A vote won early is the vote the whole sample gives.
        let long = [
            "The minister said on Monday that the talks would resume after the holiday, and that both sides had agreed to meet again in the spring. The union said it was ready to return to the table if the offer was improved.",
            "Der Minister sagte am Montag, dass die Gespräche nach den Feiertagen wieder aufgenommen werden, und dass sich beide Seiten im Frühjahr erneut treffen wollen. Die Gewerkschaft sei bereit, an den Tisch zurückzukehren.",
            "Le ministre a déclaré lundi que les négociations reprendraient après les fêtes et que les deux parties se retrouveraient au printemps. Le syndicat s'est dit prêt à revenir à la table si l'offre était améliorée.",
        ];
        for text in cases.iter().map(|c| c.1).chain(long) {
            let page = format!("{text}\n{text}\n{text}");
            assert_eq!(detect_voting(&page, true).code, detect_voting(&page, false).code, "{text}");
        }
        assert!(stopwords("en").is_word("the"));
        // The sketch never turns a listed word away.
        for &(_, code) in CODES {
            let stops = stopwords(code);
            assert!(stops.words.iter().all(|w| stops.is_word(w)), "{code}");
        }
        assert!(!stopwords("").is_word("") && !stopwords("en").is_word("harbour"));
        assert!(stopwords("ja").is_char('の'));
        assert!(stopwords("zh").is_char('的'));
    }
}
