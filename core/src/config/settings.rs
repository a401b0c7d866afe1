//! [`Settings`]: the values a user set on one jail or on the defaults, and how they change.
//!
//! Settings hold only user-set keys (what the state file holds); resolution against the defaults
//! and the built-ins happens in [`super::resolve`]. Every way in, a command-line assignment or a
//! state file, goes through the same checks: the key must be known and allowed for the owner, and
//! the value must parse.

use std::collections::BTreeMap;
use std::fmt;

use super::names::{JailName, DEFAULTS};
use super::registry::{classify, KeyKind, Scope, USER_PREFIX};
use super::value::Value;
use crate::error::{Error, Result};

/// Whose settings these are; names the jail (or `defaults`) in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner<'a> {
    Jail(&'a JailName),
    Defaults,
}

impl fmt::Display for Owner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Jail(name) => write!(f, "{name}"),
            Owner::Defaults => f.write_str(DEFAULTS),
        }
    }
}

/// One `KEY=VALUE` (set) or bare `KEY` (remove the owner's own value) from the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub key: String,
    pub value: Option<String>,
}

impl Assignment {
    /// Splits at the first `=`; a bare key means removal.
    pub fn parse(arg: &str) -> Result<Assignment> {
        let (key, value) = match arg.split_once('=') {
            Some((key, value)) => (key, Some(value.to_string())),
            None => (arg, None),
        };
        if key.is_empty() {
            return Err(Error::Usage(format!(
                "expected KEY=VALUE or KEY but got \"{arg}\" (no property name)"
            )));
        }
        Ok(Assignment {
            key: key.to_string(),
            value,
        })
    }

    /// Parses several assignments; each key at most once, and removals only where allowed.
    pub fn parse_all<S: AsRef<str>>(args: &[S], allow_removal: bool) -> Result<Vec<Assignment>> {
        let mut out: Vec<Assignment> = Vec::with_capacity(args.len());
        for arg in args {
            let assignment = Assignment::parse(arg.as_ref())?;
            if assignment.value.is_none() && !allow_removal {
                return Err(Error::Usage(format!(
                    "expected KEY=VALUE but got \"{}\"",
                    arg.as_ref()
                )));
            }
            if out.iter().any(|a| a.key == assignment.key) {
                return Err(Error::Usage(format!(
                    "the property '{}' is assigned more than once",
                    assignment.key
                )));
            }
            out.push(assignment);
        }
        Ok(out)
    }
}

impl fmt::Display for Assignment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "{}={value}", self.key),
            None => f.write_str(&self.key),
        }
    }
}

/// The user-set values of one owner.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    values: BTreeMap<String, Value>,
}

impl Settings {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Applies assignments in order. Every assignment is checked even after a failure, so the
    /// user sees all problems at once; on error, `self` may be partly changed (callers apply to
    /// a copy and write only on success).
    pub fn apply(&mut self, owner: Owner<'_>, assignments: &[Assignment]) -> Result<()> {
        let errors = assignments
            .iter()
            .filter_map(|a| match &a.value {
                Some(text) => self.set(owner, &a.key, text).err(),
                None => self.remove(owner, &a.key).err(),
            })
            .collect();
        Error::collect(errors)
    }

    /// Sets one key after checking it is allowed for `owner` and that the value parses.
    pub fn set(&mut self, owner: Owner<'_>, key: &str, text: &str) -> Result<()> {
        let kind = check_key(owner, key)?;
        let value = kind.parse(text).map_err(|reason| Error::InvalidValue {
            jail: owner.to_string(),
            property: key.to_string(),
            reason,
        })?;
        self.values.insert(key.to_string(), value);
        Ok(())
    }

    /// Removes the owner's own value, so the next layer applies again. Removing a key that is
    /// not set is fine; an unknown or misplaced key is still an error.
    pub fn remove(&mut self, owner: Owner<'_>, key: &str) -> Result<()> {
        if self.values.remove(key).is_none() {
            check_key(owner, key)?;
        }
        Ok(())
    }

    /// The canonical text of every value, as the state file stores it.
    pub fn to_texts(&self) -> BTreeMap<String, String> {
        self.values
            .iter()
            .map(|(k, v)| (k.clone(), v.print()))
            .collect()
    }

    /// Settings from stored texts, with the same checks as [`Settings::set`].
    pub fn from_texts(owner: Owner<'_>, texts: &BTreeMap<String, String>) -> Result<Settings> {
        let mut settings = Settings::default();
        let errors = texts
            .iter()
            .filter_map(|(key, text)| settings.set(owner, key, text).err())
            .collect();
        Error::collect(errors)?;
        Ok(settings)
    }
}

/// Checks that `key` exists and may be set on `owner`.
fn check_key<'k>(owner: Owner<'_>, key: &'k str) -> Result<KeyKind<'k>> {
    let not_allowed = |reason: String| Error::PropertyNotAllowed {
        jail: owner.to_string(),
        property: key.to_string(),
        reason,
    };
    let Some(kind) = classify(key) else {
        if key.starts_with(USER_PREFIX) {
            return Err(not_allowed(
                "is not a valid user property: expected user.<name> with up to 64 letters, \
                 digits, '_', '.' or '-'"
                    .to_string(),
            ));
        }
        return Err(Error::UnknownProperty {
            jail: owner.to_string(),
            property: key.to_string(),
        });
    };
    match (kind, owner) {
        (KeyKind::Static(p), Owner::Jail(_)) if p.scope == Scope::Host => {
            Err(not_allowed(format!(
                "is host-wide and can only be set on the defaults: ioc set {key}=VALUE defaults"
            )))
        }
        (KeyKind::NicMac(_), Owner::Defaults) => Err(not_allowed(
            "pins the MACs of one jail's NIC and can only be set on a jail".to_string(),
        )),
        _ => Ok(kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jail() -> JailName {
        JailName::new("jail-a").unwrap()
    }

    #[test]
    fn assignments() {
        assert_eq!(
            Assignment::parse("ip4_addr=vnet0|10.0.0.1=x").unwrap(),
            Assignment {
                key: "ip4_addr".into(),
                value: Some("vnet0|10.0.0.1=x".into())
            }
        );
        assert_eq!(Assignment::parse("vnet").unwrap().value, None);
        assert_eq!(
            Assignment::parse("vnet=").unwrap().value,
            Some(String::new())
        );
        assert!(matches!(Assignment::parse("=on"), Err(Error::Usage(_))));
        assert!(matches!(
            Assignment::parse_all(&["vnet=on", "vnet=off"], true),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            Assignment::parse_all(&["vnet"], false),
            Err(Error::Usage(_))
        ));
    }

    #[test]
    fn set_remove_and_errors() {
        let name = jail();
        let owner = Owner::Jail(&name);
        let mut s = Settings::default();
        s.set(owner, "vnet", "YES").unwrap();
        assert_eq!(s.get("vnet").unwrap().print(), "on");
        s.remove(owner, "vnet").unwrap();
        assert!(s.is_empty());
        s.remove(owner, "user.never-set").unwrap();

        let err = s.set(owner, "bogus", "1").unwrap_err().to_string();
        assert_eq!(
            err,
            "The config property 'bogus' of jail 'jail-a' is unknown"
        );
        let err = s.remove(owner, "bogus").unwrap_err().to_string();
        assert_eq!(
            err,
            "The config property 'bogus' of jail 'jail-a' is unknown"
        );
        let err = s
            .set(owner, "ip4_addr", "10.0.0.1")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "Invalid value for property 'ip4_addr' of jail jail-a: expected \"<nic>|<address>\" \
             but got \"10.0.0.1\""
        );
        let err = s.set(owner, "firewall", "pf").unwrap_err().to_string();
        assert!(
            err.contains("'firewall' of jail 'jail-a' is host-wide"),
            "{err}"
        );
        let err = s.set(owner, "user.a b", "x").unwrap_err().to_string();
        assert!(err.contains("is not a valid user property"), "{err}");
        assert!(s.is_empty());
    }

    #[test]
    fn defaults_scope() {
        let mut s = Settings::default();
        s.set(Owner::Defaults, "firewall", "pf").unwrap();
        s.set(Owner::Defaults, "vnet", "on").unwrap();
        let err = s
            .set(Owner::Defaults, "vnet0_mac", "02ff60000001,02ff60000002")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("The config property 'vnet0_mac' of jail 'defaults' pins"),
            "{err}"
        );
    }

    #[test]
    fn apply_reports_every_problem() {
        let name = jail();
        let mut s = Settings::default();
        let assignments =
            Assignment::parse_all(&["vnet=maybe", "bogus=1", "ip4=new", "mac_prefix=zz"], true)
                .unwrap();
        let err = s.apply(Owner::Jail(&name), &assignments).unwrap_err();
        let Error::Several(all) = err else {
            panic!("expected several errors")
        };
        assert_eq!(all.len(), 3);
    }

    #[test]
    fn texts_round_trip() {
        let name = jail();
        let owner = Owner::Jail(&name);
        let mut s = Settings::default();
        for (k, v) in [
            ("vnet", "yes"),
            ("interfaces", "vnet0:bridge0  vnet1::bridge1"),
            ("ip4_addr", "vnet0|10.23.42.2/24"),
            ("user.note", " spaced, text "),
            ("vnet0_mac", "02FF60E7939D,02FF60E7939E"),
        ] {
            s.set(owner, k, v).unwrap();
        }
        let texts = s.to_texts();
        assert_eq!(texts["vnet"], "on");
        assert_eq!(texts["interfaces"], "vnet0:bridge0,vnet1::bridge1");
        assert_eq!(Settings::from_texts(owner, &texts).unwrap(), s);
    }
}
