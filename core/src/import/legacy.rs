//! The `config` file of older iocage versions (and libioc's UCL `config`): one property per
//! line, `key=value`, `key = "value";` or `key: value`, with `#` and `//` comments.
//!
//! iocage's own converter splits each line at the first `=` and drops `;` and `"`; this
//! parser does the same, but only at the ends of the value, so a command holding a `;` or
//! a quote keeps it.

use std::path::Path;

use super::{Entries, ImportError};

/// Parses the lines of a legacy `config` file.
pub fn parse(path: &Path, text: &str) -> Result<Entries, ImportError> {
    let mut entries = Entries::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
            continue;
        }
        let Some((key, value)) = split(line) else {
            return Err(ImportError::LegacyLine {
                path: path.to_path_buf(),
                line: index + 1,
                text: line.to_string(),
            });
        };
        entries.insert(key.to_string(), unquote(value).to_string());
    }
    Ok(entries)
}

/// `key=value` or `key: value`; the key must be a plain property name.
fn split(line: &str) -> Option<(&str, &str)> {
    let at = line.find(['=', ':'])?;
    let key = line[..at].trim();
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    plain.then(|| (key, &line[at + 1..]))
}

/// The value without the trailing `;` and one pair of surrounding quotes.
fn unquote(value: &str) -> &str {
    let value = value.trim();
    let value = value.strip_suffix(';').unwrap_or(value).trim_end();
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_a_line() {
        let text = "# iocage legacy\n\
                    tag=www\n\
                    host_hostuuid = \"f3b1c2d4-0000-4000-8000-000000000001\";\n\
                    vnet: on\n\
                    // libioc UCL\n\
                    ip4_addr = 'vnet0|10.0.0.5/24';\n\
                    exec_start=/bin/sh -c \"echo a; echo b\"\n\
                    defaultrouter=-\n\
                    \n\
                    notes=\n";
        let entries = parse(Path::new("config"), text).unwrap();
        assert_eq!(entries["tag"], "www");
        assert_eq!(
            entries["host_hostuuid"],
            "f3b1c2d4-0000-4000-8000-000000000001"
        );
        assert_eq!(entries["vnet"], "on");
        assert_eq!(entries["ip4_addr"], "vnet0|10.0.0.5/24");
        assert_eq!(entries["exec_start"], "/bin/sh -c \"echo a; echo b\"");
        assert_eq!(entries["defaultrouter"], "-");
        assert_eq!(entries["notes"], "");
        assert_eq!(entries.len(), 7);
    }

    #[test]
    fn a_line_without_a_key_names_file_and_line() {
        let err = parse(Path::new("/j/a/config"), "tag=a\njust words\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "/j/a/config, line 2: expected KEY=VALUE but got \"just words\""
        );
    }
}
