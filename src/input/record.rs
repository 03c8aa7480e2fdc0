//! Parsing a record: the fields doppel needs (text, id, site, date,
//! priority) taken from one JSONL record, in one pass for a flat object and
//! through serde_json otherwise, and the ids a document goes by.

use std::borrow::Cow;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::batches::marked_reason;
use super::json::{
    decode_json_string, has_control_byte, json_kind, json_string, json_string_value, skip_flat_value, skip_json_space,
};
use super::{Source, SourceKind};

/// Which fields of a JSON record hold the text, the id and the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldNames {
    /// Name of the text field.
    pub text: String,
    /// Name of the id field.
    pub id: String,
    /// Name of the site (domain) field, if sites are used.
    pub site: Option<String>,
    /// Name of the publication date field, if dates are used.
    pub date: Option<String>,
    /// Name of the field `--keep-priority` ranks records by, if any (the
    /// dedup job sets it from its priority list).
    pub priority: Option<String>,
}

impl Default for FieldNames {
    fn default() -> Self {
        FieldNames { text: "text".into(), id: "id".into(), site: None, date: None, priority: None }
    }
}

/// The fields doppel needs from a record, borrowed where possible.
#[derive(Debug)]
pub(crate) struct Fields<'a> {
    pub text: Cow<'a, str>,
    /// Byte range of the text value (with its quotes) in the record.
    pub text_span: (usize, usize),
    /// The id as raw JSON (a string or a number), if present and not null.
    pub id: Option<&'a str>,
    /// The site field as raw JSON, if asked for and present.
    pub site: Option<&'a str>,
    /// The date field as raw JSON, if asked for and present.
    pub date: Option<&'a str>,
    /// The priority field as raw JSON, if asked for and present.
    pub priority: Option<&'a str>,
}

impl<'a> Fields<'a> {
    /// The site as text: a string's value, or any other value's JSON
    /// (a string that cannot be decoded, holding a lone surrogate, stays
    /// JSON too); borrowed unless the string holds an escape.
    ///
    /// A URL stands for its host, lower case and without `www.`
    /// (`https://www.Example.com/a/b` is `example.com`), so that a field
    /// holding each page's address groups the pages by site.
    pub fn site_text(&self) -> Option<Cow<'a, str>> {
        let raw = self.site?;
        let site = match raw.as_bytes().first() {
            Some(b'"') => json_string_value(raw).unwrap_or(Cow::Borrowed(raw)),
            _ if raw == "null" => return None,
            _ => Cow::Borrowed(raw),
        };
        Some(match url_host(&site) {
            Some(host) => Cow::Owned(host),
            None => site,
        })
    }
}

/// The host of a URL (`scheme://host...` or `//host...`), lower case and
/// without a leading `www.` or a port; `None` for anything else.
fn url_host(value: &str) -> Option<String> {
    let value = value.trim();
    let rest = match value.find("://") {
        Some(at) if at > 0 && value[..at].bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) => {
            &value[at + 3..]
        }
        _ => value.strip_prefix("//")?,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host.split(':').next()?,
    };
    if host.is_empty() {
        return None;
    }
    let host = host.to_ascii_lowercase();
    Some(host.strip_prefix("www.").map(str::to_string).unwrap_or(host))
}

/// Parses one JSONL record and extracts the text and id fields; other fields
/// are skipped without being built. The error is a reason for a user.
///
/// A flat object (see [`flat_record_fields`]), which is nearly every news
/// record, is read in one pass; anything else, and every bad record, goes
/// through serde_json, which also words the reason.
pub(crate) fn parse_record<'a>(bytes: &'a [u8], names: &FieldNames) -> std::result::Result<Fields<'a>, String> {
    if let Some(reason) = marked_reason(bytes) {
        return Err(reason);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1))?;
    match flat_record_fields(text, names) {
        Some(fields) => Ok(fields),
        None => parse_record_with_serde(text, names),
    }
}

/// [`parse_record`] by serde_json, for any record.
fn parse_record_with_serde<'a>(text: &'a str, names: &FieldNames) -> std::result::Result<Fields<'a>, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let values = FieldsSeed { names }.deserialize(&mut de).map_err(|e| format!("malformed JSON record: {e}"))?;
    de.end().map_err(|e| format!("malformed JSON record: {e}"))?;
    let raw_text = values.text.ok_or_else(|| format!("missing text field `{}`", names.text))?;
    let raw = raw_text.get();
    if !raw.starts_with('"') {
        return Err(format!("text field `{}` must be a string, got {}", names.text, json_kind(raw)));
    }
    let value =
        json_string_value(raw).map_err(|e| format!("malformed JSON record: {e} in text field `{}`", names.text))?;
    // The raw value borrows from `text`: its offset there is its span.
    let start = raw.as_ptr() as usize - text.as_ptr() as usize;
    let id = checked_id(values.id.map(RawValue::get))
        .map_err(|raw| format!("id field `{}` must be a string or a number, got {raw}", names.id))?;
    Ok(Fields {
        text: value,
        text_span: (start, start + raw.len()),
        id,
        site: values.site.map(RawValue::get),
        date: values.date.map(RawValue::get),
        priority: values.priority.map(RawValue::get),
    })
}

/// A raw id that is a string or a number; `None` for null; the raw value
/// back as the error for any other.
fn checked_id(id: Option<&str>) -> std::result::Result<Option<&str>, &str> {
    let Some(raw) = id else { return Ok(None) };
    match raw.as_bytes().first().copied().unwrap_or(b'n') {
        b'n' => Ok(None),
        b'"' | b'-' | b'0'..=b'9' => Ok(Some(raw)),
        _ => Err(raw),
    }
}

/// The fields of a record that is one flat JSON object (every value a
/// string, a number, `true`, `false` or `null`) with a string text field,
/// in one pass over it: the text is decoded as its end is looked for, a
/// vector search at a time for the next quote or backslash. `None` for any
/// other record (a nested value, an escape in a key or a `\u` escape outside
/// the text, a missing or non-string text, a bad id) and for anything that
/// is not well-formed JSON, which [`parse_record_with_serde`] then reads or
/// refuses: this path only ever accepts what serde_json accepts, and then
/// gives what it gives.
///
/// serde_json scanned the text to find where its value ends, and the text
/// was then decoded in a second scan: the two were a sixth of every pass
/// over the corpus (learning, cleaning, signing, writing).
fn flat_record_fields<'a>(text: &'a str, names: &FieldNames) -> Option<Fields<'a>> {
    let b = text.as_bytes();
    let mut i = skip_json_space(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_json_space(b, i + 1);
    let mut value: Option<(Cow<'a, str>, (usize, usize))> = None;
    let (mut id, mut site, mut date, mut priority) = (None, None, None, None);
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = i + 1 + memchr::memchr2(b'"', b'\\', &b[i + 1..])?;
        if b[key_end] != b'"' || has_control_byte(&b[i + 1..key_end]) {
            return None;
        }
        let key = &text[i + 1..key_end];
        i = skip_json_space(b, key_end + 1);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_json_space(b, i + 1);
        // The first of each field counts, as in the serde_json path.
        if key == names.text && value.is_none() {
            if b.get(start) != Some(&b'"') {
                return None;
            }
            let (decoded, end) = decode_json_string(text, start).ok()?;
            value = Some((decoded, (start, end)));
            i = end;
        } else {
            i = skip_flat_value(b, start)?;
            let raw = &text[start..i];
            if key == names.id && id.is_none() {
                id = Some(raw);
            } else if names.site.as_deref() == Some(key) && site.is_none() {
                site = Some(raw);
            } else if names.date.as_deref() == Some(key) && date.is_none() {
                date = Some(raw);
            } else if names.priority.as_deref() == Some(key) && priority.is_none() {
                priority = Some(raw);
            }
        }
        i = skip_json_space(b, i);
        match b.get(i) {
            Some(b',') => i = skip_json_space(b, i + 1),
            Some(b'}') => break,
            _ => return None,
        }
    }
    if skip_json_space(b, i + 1) != b.len() {
        return None;
    }
    let (text, text_span) = value?;
    let id = checked_id(id).ok()?;
    Some(Fields { text, text_span, id, site, date, priority })
}

/// Extracts just the id (raw JSON) of a record known to be valid.
fn parse_id<'a>(bytes: &'a [u8], names: &FieldNames) -> Option<&'a str> {
    parse_record(bytes, names).ok().and_then(|f| f.id)
}

/// The raw JSON id a record carries itself: its id field, or a text
/// file's relative path; `None` when a JSONL record has no id.
pub(crate) fn own_id(source: &Source, bytes: &[u8], names: &FieldNames) -> Option<String> {
    match &source.kind {
        SourceKind::Jsonl => parse_id(bytes, names).map(str::to_owned),
        SourceKind::Text { id } => Some(json_string(id)),
    }
}

/// The raw JSON id of a document: its own id, or `"FILE:LINE"`.
pub(crate) fn fallback_id(source: &Source, line: u64) -> String {
    match &source.kind {
        SourceKind::Text { id } => json_string(id),
        SourceKind::Jsonl => json_string(&format!("{}:{}", source.name, line)),
    }
}

struct FieldsSeed<'n> {
    names: &'n FieldNames,
}

#[derive(Default)]
struct FieldValues<'a> {
    text: Option<&'a RawValue>,
    id: Option<&'a RawValue>,
    site: Option<&'a RawValue>,
    date: Option<&'a RawValue>,
    priority: Option<&'a RawValue>,
}

impl<'de> DeserializeSeed<'de> for FieldsSeed<'_> {
    type Value = FieldValues<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FieldsSeed<'_> {
    type Value = FieldValues<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
        let mut v = FieldValues::default();
        while let Some(key) = map.next_key_seed(StrSeed { what: "a field name" })? {
            if key == self.names.text && v.text.is_none() {
                v.text = Some(map.next_value()?);
            } else if key == self.names.id && v.id.is_none() {
                v.id = Some(map.next_value()?);
            } else if self.names.site.as_deref() == Some(&*key) && v.site.is_none() {
                v.site = Some(map.next_value()?);
            } else if self.names.date.as_deref() == Some(&*key) && v.date.is_none() {
                v.date = Some(map.next_value()?);
            } else if self.names.priority.as_deref() == Some(&*key) && v.priority.is_none() {
                v.priority = Some(map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(v)
    }
}

/// A string, borrowed from the input when it has no escapes.
struct StrSeed {
    what: &'static str,
}

impl<'de> DeserializeSeed<'de> for StrSeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for StrSeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.what)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> std::result::Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names() -> FieldNames {
        FieldNames::default()
    }

    #[test]
    fn a_site_field_holding_a_url_stands_for_its_host() {
        assert_eq!(url_host("https://www.Example.com/a/b?x=1").as_deref(), Some("example.com"));
        assert_eq!(url_host("http://user@news.example.org:8080/").as_deref(), Some("news.example.org"));
        assert_eq!(url_host("//cdn.example.net/x").as_deref(), Some("cdn.example.net"));
        assert_eq!(url_host("example.com"), None);
        assert_eq!(url_host("Harbour Ledger"), None);
        let names = FieldNames { site: Some("url".into()), ..FieldNames::default() };
        let f = parse_record(br#"{"id":1,"url":"https://www.harbour.example/2024/story","text":"t"}"#, &names).unwrap();
        assert_eq!(f.site_text().as_deref(), Some("harbour.example"));
    }

    /// What a parse gave, comparable.
    fn summary(r: std::result::Result<Fields<'_>, String>) -> std::result::Result<String, String> {
        r.map(|f| format!("{:?} {:?} {:?} {:?}", f.text, f.text_span, f.id, f.site))
    }

    /// A JSON string token: mostly well formed, sometimes with a bad
    /// escape, a lone surrogate or a raw control byte.
    fn json_string_token() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => r#""(?:[a-z é😀]|\\["\\/bfnrt]|\\u00[0-9a-f]{2}|\\u[dD][89aAbB][0-9a-f]{2}\\u[dD][c-f][0-9a-f]{2}){0,8}""#,
            1 => r#""(?:[a-z ]|\\u[dD][89aAbB][0-9a-f]{2}|\\u[dD][c-f][0-9a-f]{2}|\\u12|\\u-12a|\\x|\x01|\t|\x7f){0,6}""#,
            1 => r#""(?:[a-z ]|\\n){0,6}"#,
        ]
    }

    /// Any JSON value, mostly well formed: a string, a number (or what
    /// looks like one), a literal, a nested value.
    fn json_value() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => json_string_token(),
            2 => r"-?(?:0|[1-9][0-9]{0,3})(?:\.[0-9]{1,2})?(?:[eE][+-]?[0-9]{1,2})?",
            1 => r"-?(?:0[0-9]|)(?:\.[0-9]{0,2})?(?:[eE][+-]?[0-9]{0,2})?",
            1 => "true|false|null|nul|tru|nulls",
            1 => r#"\{"a":\[1,"x"\]\}|\[\]|\{\}"#,
        ]
    }

    fn json_record() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            4 => Just("text"),
            2 => Just("id"),
            2 => Just("site"),
            2 => Just("url"),
            1 => Just(r"te\u0078t"),
            1 => Just("ti\u{1}tle")
        ];
        let space = "[ \t\n\r]{0,2}";
        let pair = (key, json_value(), space.prop_map(String::from), space);
        let tail = prop_oneof![8 => Just(""), 1 => Just("x"), 1 => Just(","), 1 => Just("}")];
        (proptest::collection::vec(pair, 0..4), json_string_token(), 0usize..4, space, tail).prop_map(
            |(mut pairs, text, at, ws, tail)| {
                // Nearly every record has a text string somewhere.
                pairs.insert(at.min(pairs.len()), ("text", text, String::new(), String::new()));
                let body: Vec<String> = pairs.iter().map(|(k, v, a, b)| format!("{a}\"{k}\"{b}:{a}{v}{b}")).collect();
                format!("{ws}{{{}}}{ws}{tail}", body.join(","))
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]
        // The one-pass reader of flat records gives what serde_json gives,
        // for every record, and refuses (to serde_json, which explains)
        // whatever serde_json refuses.
        #[test]
        fn flat_records_read_as_serde_json_reads_them(record in json_record()) {
            let names = FieldNames { site: Some("site".into()), ..FieldNames::default() };
            let text = record.as_str();
            prop_assert_eq!(summary(parse_record(text.as_bytes(), &names)), summary(parse_record_with_serde(text, &names)));
            if let Some(f) = flat_record_fields(text, &names) {
                prop_assert_eq!(summary(Ok(f)), summary(parse_record_with_serde(text, &names)));
            }
        }
    }

    #[test]
    fn a_flat_record_is_read_in_one_pass() {
        let names = FieldNames { site: Some("site".into()), ..FieldNames::default() };
        let rec = "{\"id\": 7, \"site\":\"a.example\", \"n\":-1.5e3,\"ok\":true, \"text\":\"caf\\u00e9\\n\\\"x\\\"\"}";
        let f = flat_record_fields(rec, &names).expect("a flat record");
        assert_eq!((f.text.as_ref(), f.id, f.site), ("café\n\"x\"", Some("7"), Some("\"a.example\"")));
        assert_eq!(&rec[f.text_span.0..f.text_span.1], "\"caf\\u00e9\\n\\\"x\\\"\"");
        // Nested values go to serde_json.
        assert!(flat_record_fields(r#"{"text":"a","meta":{"b":1}}"#, &names).is_none());
    }

    #[test]
    fn lone_surrogates_are_refused_as_serde_json_refuses_them() {
        for raw in [r#""\ud800""#, r#""a\udc00b""#, r#""\ud800\u0041""#, r#""\ud800\n""#, r#""\uD83D""#] {
            assert!(serde_json::from_str::<String>(raw).is_err(), "{raw}");
            assert!(json_string_value(raw).is_err(), "{raw}");
            let record = format!(r#"{{"text":{raw}}}"#);
            let reason = parse_record(record.as_bytes(), &names()).unwrap_err();
            assert!(reason.contains("lone surrogate") && reason.contains("text field `text`"), "{reason}");
        }
        assert_eq!(json_string_value(r#""\uD83D\uDE00""#).unwrap(), "😀");
    }

    #[test]
    fn parses_text_and_id_and_skips_the_rest() {
        let rec = br#"{"meta":{"a":[1,2,{"b":null}]},"text":"caf\u00e9 \"x\"","id":17}"#;
        let f = parse_record(rec, &names()).unwrap();
        assert_eq!(f.text, "café \"x\"");
        assert_eq!(f.id.unwrap(), "17");
        let rec = br#"{"id":"a-1","text":"plain"}"#;
        let f = parse_record(rec, &names()).unwrap();
        assert!(matches!(f.text, Cow::Borrowed("plain")));
        assert_eq!(f.id.unwrap(), "\"a-1\"");
    }

    #[test]
    fn clear_reasons_for_bad_records() {
        let reason = |b: &[u8]| parse_record(b, &names()).unwrap_err();
        assert!(reason(br#"{"id":1}"#).contains("missing text field `text`"));
        assert!(reason(br#"{"text":5}"#).contains("text field `text` must be a string, got a number"));
        assert!(reason(br#"{"text":"a""#).contains("malformed JSON"));
        assert!(reason(br#"[1,2]"#).contains("expected a JSON object"));
        assert!(reason(b"{\"text\":\"\xff\"}").contains("invalid UTF-8 at byte 10"));
        assert!(reason(br#"{"text":"a","id":[1]}"#).contains("must be a string or a number"));
        assert!(reason(br#"{"text":"a"} x"#).contains("trailing characters"));
    }

    #[test]
    fn null_id_means_no_id() {
        assert!(parse_record(br#"{"text":"a","id":null}"#, &names()).unwrap().id.is_none());
    }

    #[test]
    fn custom_field_names() {
        let n = FieldNames {
            text: "body".into(),
            id: "uid".into(),
            site: Some("domain".into()),
            date: None,
            priority: None,
        };
        let rec = br#"{"text":"no","body":"y\u00e9s","uid":"u","domain":"a.example"}"#;
        let f = parse_record(rec, &n).unwrap();
        assert_eq!(f.text, "yés");
        assert_eq!(f.id.unwrap(), "\"u\"");
        assert_eq!(&rec[f.text_span.0..f.text_span.1], br#""y\u00e9s""#);
        assert_eq!(f.site_text().as_deref(), Some("a.example"));
        // A site no string can hold is kept as its JSON.
        let rec = br#"{"body":"t","domain":"\ud800"}"#;
        assert_eq!(parse_record(rec, &n).unwrap().site_text().as_deref(), Some(r#""\ud800""#));
    }
}
