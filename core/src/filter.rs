//! Selecting jails on the command line (and in `depends`).
//!
//! The language of the reference ("Selecting jails"), as libioc implements it:
//!
//! - A filter is a list of *terms*; a jail is selected when **all** terms match. Each command-line
//!   argument holds one or more terms separated by unescaped whitespace, so
//!   `ioc list vnet=on 'jail-*'` and `ioc list 'vnet=on jail-*'` are the same filter.
//! - A bare term matches jail names (`name=PATTERN` is the same); `KEY=VALUE` matches a property.
//!   A list property (`ip4_addr`, `interfaces`) matches when any of its entries does, and an empty
//!   list is `none`.
//! - Inside a term, unescaped commas separate alternatives: `jail-a,jail-b`.
//! - `*` matches any text, `+` at least one character. A backslash escapes the next character
//!   (`\,`, `\ `, `\*`).
//! - A value without globs is compared in its canonical form, so `vnet=yes` selects `vnet=on`
//!   jails and `ip4=NEW` selects `ip4=new`.

use std::fmt;

use crate::config::names::is_name_char;
use crate::config::registry;
use crate::config::syntax::{is_none_word, Reason, Syntax};
use crate::error::{Error, Result};

/// Something a filter is matched against; implemented by [`crate::config::ResolvedJail`].
pub trait Subject {
    /// The jail's name.
    fn name(&self) -> &str;
    /// The filter items of a property ([`Syntax::items`]), `None` if the jail has no such key.
    fn items(&self, key: &str) -> Option<Vec<String>>;
}

/// A parsed filter. The empty filter selects every jail.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    terms: Vec<Term>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Term {
    /// `None` for a name term.
    key: Option<String>,
    alternatives: Vec<Pattern>,
}

/// One alternative of a term. For a property term without globs that parses as the property's
/// value, the canonical form is kept (so it compares with canonical values, and prints as one).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pattern(Vec<Tok>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Lit(char),
    /// `*`: any text.
    Star,
    /// `+`: at least one character.
    Plus,
}

impl Filter {
    /// The filter that selects every jail.
    pub fn all() -> Filter {
        Filter::default()
    }

    /// Parses the command-line arguments of a filter; the error names the offending argument.
    pub fn from_args<S: AsRef<str>>(args: &[S]) -> Result<Filter> {
        let mut terms = Vec::new();
        for arg in args {
            let arg = arg.as_ref();
            let invalid = |reason: String| Error::InvalidFilter {
                filter: arg.to_string(),
                reason,
            };
            let parsed = Filter::parse_terms(arg).map_err(invalid)?;
            if parsed.is_empty() {
                // An empty argument must not silently widen `ioc destroy ""` to every jail.
                return Err(invalid(
                    "an empty filter selects nothing; use '*' to select every jail".to_string(),
                ));
            }
            terms.extend(parsed);
        }
        Ok(Filter { terms })
    }

    /// True for the filter that selects every jail.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// True when every term matches the subject.
    pub fn matches(&self, subject: &impl Subject) -> bool {
        self.terms.iter().all(|term| term.matches(subject))
    }

    /// The subjects the filter selects, in their order.
    pub fn select<'a, T: Subject>(&self, subjects: &'a [T]) -> Vec<&'a T> {
        subjects.iter().filter(|s| self.matches(*s)).collect()
    }

    /// Like [`Filter::select`], but selecting nothing is the reference's error.
    pub fn select_some<'a, T: Subject>(&self, subjects: &'a [T]) -> Result<Vec<&'a T>> {
        let selected = self.select(subjects);
        if selected.is_empty() {
            return Err(Error::NoMatch);
        }
        Ok(selected)
    }

    /// The exact jail names this filter names, when it is nothing but plain names
    /// (`jail-a,jail-b`): lets callers tell "no such jail" from "nothing matched".
    pub fn plain_names(&self) -> Option<Vec<String>> {
        match self.terms.as_slice() {
            [Term {
                key: None,
                alternatives,
            }] => alternatives.iter().map(|p| literal(&p.0)).collect(),
            _ => None,
        }
    }

    fn parse_terms(text: &str) -> std::result::Result<Vec<Term>, Reason> {
        let chars = unescape(text)?;
        chars
            .split(|(c, escaped)| !escaped && c.is_whitespace())
            .filter(|term| !term.is_empty())
            .map(Term::parse)
            .collect()
    }
}

impl Term {
    fn parse(chars: &[(char, bool)]) -> std::result::Result<Term, Reason> {
        let split = chars.iter().position(|&(c, escaped)| c == '=' && !escaped);
        let (key, value) = match split {
            Some(at) => {
                let key: String = chars[..at].iter().map(|(c, _)| c).collect();
                (Some(key), &chars[at + 1..])
            }
            None => (None, chars),
        };
        let key = match key.as_deref() {
            None | Some("name") => None,
            Some(key) if registry::classify(key).is_some() => Some(key.to_string()),
            Some(key) => {
                return Err(format!(
                    "unknown property \"{key}\": a term is a jail name pattern or KEY=VALUE \
                     with a property that `ioc help properties` lists{}",
                    crate::config::suggest::property_hint(key)
                ))
            }
        };
        if value.is_empty() {
            return Err(match &key {
                Some(key) => format!("expected a value after \"{key}=\""),
                None => "expected a jail name pattern".to_string(),
            });
        }
        let alternatives = value
            .split(|&(c, escaped)| c == ',' && !escaped)
            .map(|alt| Pattern::parse(key.as_deref(), alt))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Term { key, alternatives })
    }

    fn matches(&self, subject: &impl Subject) -> bool {
        match &self.key {
            None => self.alternatives.iter().any(|p| p.matches(subject.name())),
            Some(key) => subject.items(key).is_some_and(|items| {
                items
                    .iter()
                    .any(|item| self.alternatives.iter().any(|p| p.matches(item)))
            }),
        }
    }
}

impl Pattern {
    fn parse(key: Option<&str>, chars: &[(char, bool)]) -> std::result::Result<Pattern, Reason> {
        let written: Vec<Tok> = chars
            .iter()
            .map(|&(c, escaped)| match (c, escaped) {
                ('*', false) => Tok::Star,
                ('+', false) => Tok::Plus,
                (c, _) => Tok::Lit(c),
            })
            .collect();
        if written.is_empty() {
            return Err("empty alternative (two commas in a row, or a trailing comma)".into());
        }
        let Some(key) = key else {
            let name_like = written.iter().all(|t| match t {
                Tok::Lit(c) => is_name_char(*c),
                Tok::Star | Tok::Plus => true,
            });
            if !name_like {
                let shown: String = chars.iter().map(|(c, _)| c).collect();
                return Err(format!(
                    "\"{shown}\" cannot match a jail name: expected letters, digits, '-', '_', '.' \
                     and the globs '*' and '+'"
                ));
            }
            return Ok(Pattern(written));
        };
        match literal(&written).and_then(|text| registry::canonical_item(key, &text)) {
            Some(canonical) => Ok(Pattern(canonical.chars().map(Tok::Lit).collect())),
            None => Ok(Pattern(written)),
        }
    }

    fn matches(&self, text: &str) -> bool {
        glob_match(&self.0, text)
    }
}

/// The text of a pattern without globs.
fn literal(toks: &[Tok]) -> Option<String> {
    toks.iter()
        .map(|t| match t {
            Tok::Lit(c) => Some(*c),
            _ => None,
        })
        .collect()
}

/// Resolves backslash escapes into (character, was escaped) pairs.
fn unescape(text: &str) -> std::result::Result<Vec<(char, bool)>, Reason> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(next) => out.push((next, true)),
                None => return Err("a trailing backslash escapes nothing".to_string()),
            }
        } else {
            out.push((c, false));
        }
    }
    Ok(out)
}

/// Matches `*` (any text) and `+` (at least one character) in linear space and
/// O(pattern x text) time, so no input can make it blow up.
fn glob_match(pattern: &[Tok], text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    // reachable[i]: the pattern consumed so far can end right before text[i].
    let mut reachable = vec![false; text.len() + 1];
    reachable[0] = true;
    for tok in pattern {
        let mut next = vec![false; text.len() + 1];
        match tok {
            Tok::Lit(c) => {
                for i in 0..text.len() {
                    next[i + 1] = reachable[i] && text[i] == *c;
                }
            }
            Tok::Star | Tok::Plus => {
                let mut seen = false;
                for i in 0..=text.len() {
                    // `*` may end where it starts; `+` must consume at least one character.
                    if *tok == Tok::Star {
                        seen |= reachable[i];
                        next[i] = seen;
                    } else {
                        next[i] = seen;
                        seen |= reachable[i];
                    }
                }
            }
        }
        reachable = next;
    }
    reachable[text.len()]
}

impl fmt::Display for Filter {
    /// The canonical text: terms separated by spaces, special characters escaped; `none` when
    /// empty (the form `depends` prints).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.terms.is_empty() {
            return f.write_str(crate::config::syntax::NONE);
        }
        let text = self
            .terms
            .iter()
            .map(Term::render)
            .collect::<Vec<_>>()
            .join(" ");
        if is_none_word(&text) {
            // A lone name term `none` or `-` must not read back as "no filter".
            write!(f, "name={text}")
        } else {
            f.write_str(&text)
        }
    }
}

impl Term {
    fn render(&self) -> String {
        let mut out = String::new();
        if let Some(key) = &self.key {
            out.push_str(key);
            out.push('=');
        }
        for (i, alt) in self.alternatives.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            for tok in &alt.0 {
                match tok {
                    Tok::Star => out.push('*'),
                    Tok::Plus => out.push('+'),
                    Tok::Lit(c) => {
                        if c.is_whitespace() || matches!(c, '\\' | ',' | '*' | '+' | '=') {
                            out.push('\\');
                        }
                        out.push(*c);
                    }
                }
            }
        }
        out
    }
}

/// `depends`: a filter stored as a property; `none`, `-` or empty for no dependencies.
impl Syntax for Filter {
    fn parse(text: &str) -> std::result::Result<Self, Reason> {
        if is_none_word(text) {
            return Ok(Filter::all());
        }
        Filter::parse_terms(text)
            .map(|terms| Filter { terms })
            .map_err(|reason| format!("expected a jail filter such as \"jail-a,jail-b\": {reason}"))
    }

    fn print(&self) -> String {
        self.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct Fake {
        name: &'static str,
        props: BTreeMap<&'static str, Vec<&'static str>>,
    }

    impl Subject for Fake {
        fn name(&self) -> &str {
            self.name
        }
        fn items(&self, key: &str) -> Option<Vec<String>> {
            self.props
                .get(key)
                .map(|v| v.iter().map(|s| s.to_string()).collect())
        }
    }

    fn jail(name: &'static str, vnet: &'static str, ip4: &[&'static str]) -> Fake {
        let mut props = BTreeMap::new();
        props.insert("vnet", vec![vnet]);
        props.insert(
            "ip4_addr",
            if ip4.is_empty() {
                vec!["none"]
            } else {
                ip4.to_vec()
            },
        );
        Fake { name, props }
    }

    fn jails() -> Vec<Fake> {
        vec![
            jail("jail-a", "on", &["vnet0|10.23.42.2/24"]),
            jail(
                "jail-b",
                "on",
                &["vnet0|10.23.42.3/24", "vnet0|10.23.42.30/24"],
            ),
            jail("web", "off", &[]),
            jail("jail-ab", "off", &["em0|10.1.1.10/24"]),
        ]
    }

    fn names(args: &[&str]) -> Vec<&'static str> {
        let filter = Filter::from_args(args).unwrap();
        filter.select(&jails()).iter().map(|j| j.name).collect()
    }

    #[test]
    fn names_alternatives_and_globs() {
        assert_eq!(names(&[]), ["jail-a", "jail-b", "web", "jail-ab"]);
        assert_eq!(names(&["jail-a"]), ["jail-a"]);
        assert_eq!(names(&["jail-a,jail-b"]), ["jail-a", "jail-b"]);
        assert_eq!(names(&["name=web,jail-b"]), ["jail-b", "web"]);
        assert_eq!(names(&["jail-*"]), ["jail-a", "jail-b", "jail-ab"]);
        assert_eq!(names(&["jail-+"]), ["jail-a", "jail-b", "jail-ab"]);
        assert_eq!(names(&["jail-a+"]), ["jail-ab"]);
        assert_eq!(names(&["jail-a*"]), ["jail-a", "jail-ab"]);
        assert_eq!(names(&["*"]), ["jail-a", "jail-b", "web", "jail-ab"]);
        assert!(names(&["jail"]).is_empty());
    }

    #[test]
    fn all_terms_must_match() {
        assert_eq!(names(&["vnet=on", "jail-*"]), ["jail-a", "jail-b"]);
        assert_eq!(names(&["vnet=off jail-*"]), ["jail-ab"]);
        assert!(names(&["jail-a", "jail-b"]).is_empty());
    }

    #[test]
    fn property_values_are_canonical_and_lists_match_any_entry() {
        assert_eq!(names(&["vnet=yes"]), ["jail-a", "jail-b"]);
        assert_eq!(names(&["vnet=FALSE"]), ["web", "jail-ab"]);
        assert_eq!(names(&["ip4_addr=vnet0|10.23.42.30/24"]), ["jail-b"]);
        assert_eq!(names(&["ip4_addr=vnet0|10.23.42.3*"]), ["jail-b"]);
        assert_eq!(names(&["ip4_addr=none"]), ["web"]);
        assert_eq!(names(&["ip4_addr=em0|*,none"]), ["web", "jail-ab"]);
    }

    #[test]
    fn invalid_filters_name_the_argument() {
        let err = Filter::from_args(&["bogus=1"]).unwrap_err().to_string();
        assert!(
            err.starts_with("Invalid filter \"bogus=1\": unknown property \"bogus\""),
            "{err}"
        );
        for bad in [
            "jail-a,", ",x", "a,,b", "vnet=", "=x", "bad/name", "x\\", "", "  ",
        ] {
            let err = Filter::from_args(&[bad]).unwrap_err();
            assert!(matches!(err, Error::InvalidFilter { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn escapes() {
        let f = Filter::from_args(&["user.note=a\\,b\\ c"]).unwrap();
        let mut props = BTreeMap::new();
        props.insert("user.note", vec!["a,b c"]);
        assert!(f.matches(&Fake { name: "x", props }));
        assert_eq!(f.to_string(), "user.note=a\\,b\\ c");
        let star = Filter::from_args(&["user.note=\\*"]).unwrap();
        let mut props = BTreeMap::new();
        props.insert("user.note", vec!["x"]);
        assert!(!star.matches(&Fake { name: "x", props }));
    }

    #[test]
    fn depends_syntax_round_trips() {
        for (text, canonical) in [
            ("jail-b", "jail-b"),
            ("jail-b,jail-c  vnet=yes", "jail-b,jail-c vnet=on"),
            ("none", "none"),
            ("", "none"),
            ("name=db-*", "db-*"),
            ("name=none", "name=none"),
            ("name=-", "name=-"),
        ] {
            let f = <Filter as Syntax>::parse(text).unwrap();
            assert_eq!(f.print(), canonical);
            assert_eq!(
                <Filter as Syntax>::parse(canonical).unwrap().print(),
                canonical
            );
        }
        let err = <Filter as Syntax>::parse("x=1").unwrap_err();
        assert!(err.starts_with("expected a jail filter"), "{err}");
    }

    #[test]
    fn plain_names() {
        let f = Filter::from_args(&["a,b"]).unwrap();
        assert_eq!(
            f.plain_names(),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(Filter::from_args(&["a*"]).unwrap().plain_names(), None);
        assert_eq!(Filter::from_args(&["vnet=on"]).unwrap().plain_names(), None);
    }

    #[test]
    fn glob_matching() {
        let p = |s: &str| -> Vec<Tok> {
            s.chars()
                .map(|c| match c {
                    '*' => Tok::Star,
                    '+' => Tok::Plus,
                    c => Tok::Lit(c),
                })
                .collect()
        };
        assert!(glob_match(&p("a*b"), "ab"));
        assert!(!glob_match(&p("a+b"), "ab"));
        assert!(glob_match(&p("a+b"), "axxb"));
        assert!(glob_match(&p("*"), ""));
        assert!(!glob_match(&p("+"), ""));
        assert!(glob_match(&p("**+*"), "x"));
        assert!(!glob_match(&p("abc"), "ab"));
        let long = "a".repeat(2000);
        assert!(!glob_match(&p(&"*a".repeat(200)), &format!("{long}b")));
    }
}
