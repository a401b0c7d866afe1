//! `config.json` as iocage 1.x and libioc write it, read into flat key/text pairs.
//!
//! The two tools disagree on types: iocage writes switches as numbers (`"vnet": 1`) or, in
//! older files, as `"on"`/`"off"`; libioc writes every value as a string (`"yes"`/`"no"`,
//! `"none"`, lists joined by commas) and nests dotted keys (`user.note` is stored as
//! `{"user": {"note": ...}}`). Everything becomes text here; [`super::mapping`] normalises.

use std::path::Path;

use serde_json::Value as Json;

use super::{Entries, ImportError};

/// Separator of libioc's nested keys.
const NESTING: char = '.';

/// Parses a JSON object of properties into flat key/text pairs.
pub fn parse(path: &Path, text: &str) -> Result<Entries, ImportError> {
    let invalid = |reason: String| ImportError::Json {
        path: path.to_path_buf(),
        reason,
    };
    let json: Json = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let Json::Object(object) = json else {
        return Err(invalid("expected an object of properties".to_string()));
    };
    let mut entries = Entries::new();
    flatten("", &Json::Object(object), &mut entries);
    Ok(entries)
}

/// Adds `value` under `key`, flattening nested objects into dotted keys.
fn flatten(key: &str, value: &Json, entries: &mut Entries) {
    match value {
        Json::Object(object) => {
            for (sub, value) in object {
                let key = if key.is_empty() {
                    sub.clone()
                } else {
                    format!("{key}{NESTING}{sub}")
                };
                flatten(&key, value, entries);
            }
        }
        other => {
            entries.insert(key.to_string(), text(other));
        }
    }
}

/// A scalar or list as the text a user would have written: `null` is `none`, a list its items
/// joined by commas, a boolean `true`/`false`, a number its digits.
fn text(value: &Json) -> String {
    match value {
        Json::Null => "none".to_string(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => s.clone(),
        Json::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        Json::Object(_) => serde_json::to_string(value).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Entries {
        parse(Path::new("config.json"), text).unwrap()
    }

    #[test]
    fn iocage_types_become_text() {
        let entries = parsed(
            r#"{"vnet": 1, "boot": "on", "priority": "10", "template": false,
                "ip4_addr": "vnet0|10.0.0.2/24", "hostid": null, "CONFIG_VERSION": "29"}"#,
        );
        assert_eq!(entries["vnet"], "1");
        assert_eq!(entries["boot"], "on");
        assert_eq!(entries["priority"], "10");
        assert_eq!(entries["template"], "false");
        assert_eq!(entries["ip4_addr"], "vnet0|10.0.0.2/24");
        assert_eq!(entries["hostid"], "none");
    }

    #[test]
    fn libioc_nesting_and_lists_flatten() {
        let entries = parsed(
            r#"{"user": {"note": "web", "team": {"lead": "ana"}},
                "depends": ["db", "cache"], "provision": {"method": "none"}}"#,
        );
        assert_eq!(entries["user.note"], "web");
        assert_eq!(entries["user.team.lead"], "ana");
        assert_eq!(entries["depends"], "db,cache");
        assert_eq!(entries["provision.method"], "none");
    }

    #[test]
    fn broken_files_name_the_file() {
        let err = parse(Path::new("/j/x/config.json"), "{\"vnet\": ")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("/j/x/config.json: not a JSON jail configuration"),
            "{err}"
        );
        let err = parse(Path::new("c.json"), "[1]").unwrap_err().to_string();
        assert!(err.contains("expected an object of properties"), "{err}");
    }
}
