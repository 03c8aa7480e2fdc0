//! The rules file: a user's JSON rules read and deep-merged over the
//! built-in defaults, the rules written back out in that format, and the
//! error that names a rule that cannot be used.

use std::path::Path;

use super::Rules;
use crate::{Error, Result};

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
        // A file the user named: one that cannot be read is their input's fault (exit 2).
        let text = std::fs::read_to_string(path).map_err(|source| Error::Input { path: path.to_path_buf(), source })?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
