//! The value syntaxes of the property language.
//!
//! Each property has one [`Syntax`]: a typed value that parses what users write and prints a
//! canonical form. The canonical form is what `ioc get` prints, what the state files store and
//! what filters compare, and `parse(print(v)) == v` holds for every value (a property test checks
//! it), which is why `get` output can always be fed back to `set`.
//!
//! Parsers return the *reason* only ("expected ... but got ..."); the caller knows the jail and
//! the property and wraps the reason into [`crate::Error::InvalidValue`].

mod address;
mod choice;
mod cni;
mod interfaces;
mod mac;
mod nat;
mod priority;
mod resolver;
mod root;
mod switch;
mod text;

use std::fmt;

pub use address::{AddressList, Family, Ip4Addrs, Ip6Addrs, Router, Router4, Router6, V4, V6};
pub use choice::{JailIpMode, NetworkPlugin, PluginName};
pub use cni::{CniBandwidth, CniConfDir, CniIfname, CniNetwork, CniPath, Rate};
pub use interfaces::{InterfacePair, Interfaces};
pub use mac::{MacPair, MacPrefix};
pub use nat::{Forward, NatBackend, NatForwards, NatInterface, NatPrefix, PortRange, Proto};
pub use priority::Priority;
pub use resolver::{ResolvConf, ResolvLine};
pub use root::{BindMount, JailPath, Mounts};
pub use switch::{Bit, OnOff};
pub use text::{ShellCommand, Text};

/// Why a value was refused: the text after "Invalid value for property 'P' of jail J: ".
pub type Reason = String;

/// One syntax of the property language. See the module documentation.
pub trait Syntax: Sized + Clone + PartialEq + fmt::Debug + Default {
    /// Parses user input (or a state file's stored text).
    fn parse(text: &str) -> Result<Self, Reason>;

    /// The canonical text, accepted by [`Syntax::parse`] and giving back the same value.
    fn print(&self) -> String;

    /// What a filter term `KEY=VALUE` is compared with: every entry of a list value (a jail
    /// matches when any entry does), the printed value otherwise.
    fn items(&self) -> Vec<String> {
        vec![self.print()]
    }
}

/// How an absent value prints.
pub const NONE: &str = "none";

/// `none`, `-` and the empty string all mean "no value", as in libioc.
pub fn is_none_word(text: &str) -> bool {
    matches!(text.trim(), "" | "-" | "none")
}

/// Prints a list value: entries joined by `,`, or `none` when empty.
fn print_list<T>(entries: &[T], print: impl Fn(&T) -> String) -> String {
    if entries.is_empty() {
        return NONE.to_string();
    }
    entries.iter().map(print).collect::<Vec<_>>().join(",")
}

/// The filter items of a list value: one per entry, or `none` when empty (so `KEY=none`
/// selects jails without entries).
fn list_items<T>(entries: &[T], print: impl Fn(&T) -> String) -> Vec<String> {
    if entries.is_empty() {
        return vec![NONE.to_string()];
    }
    entries.iter().map(print).collect()
}

/// Refuses text that cannot be passed to a process (argv and environment are C strings).
fn check_no_nul(text: &str) -> Result<(), Reason> {
    if text.contains('\0') {
        Err("the value cannot contain a NUL character".to_string())
    } else {
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::Syntax;

    /// Asserts that `text` parses and prints as `canonical`, and that the canonical form is a
    /// fixed point.
    pub fn round_trip<T: Syntax>(text: &str, canonical: &str) {
        let value = T::parse(text).unwrap_or_else(|e| panic!("{text:?} refused: {e}"));
        assert_eq!(value.print(), canonical, "printing {text:?}");
        let again = T::parse(canonical).unwrap_or_else(|e| panic!("{canonical:?} refused: {e}"));
        assert_eq!(again, value, "re-parsing {canonical:?}");
        assert_eq!(again.print(), canonical);
    }

    /// Asserts that `text` is refused with exactly `reason`.
    pub fn refused<T: Syntax>(text: &str, reason: &str) {
        match T::parse(text) {
            Ok(v) => panic!("{text:?} accepted as {v:?}"),
            Err(e) => assert_eq!(e, reason, "refusing {text:?}"),
        }
    }

    /// Asserts that `text` is refused with a reason containing `part`.
    pub fn refused_with<T: Syntax>(text: &str, part: &str) {
        match T::parse(text) {
            Ok(v) => panic!("{text:?} accepted as {v:?}"),
            Err(e) => assert!(e.contains(part), "refusing {text:?}: {e:?} lacks {part:?}"),
        }
    }
}
