//! `interfaces`: the jail's NICs and the host bridges they join.

use super::{is_none_word, list_items, print_list, Reason, Syntax};
use crate::config::names::check_nic_name;

/// The reference's error text for a pair without `:`.
const NO_COLON: &str = "Invalid NIC pair (should be <nic>:<bridge>)";

/// One `NIC:BRIDGE` (or `NIC::BRIDGE`, Secure VNET) pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfacePair {
    /// The interface name inside the jail.
    pub nic: String,
    /// The host bridge; `None` for an empty bridge, `-` or `none` (the start fails later).
    pub bridge: Option<String>,
    /// `NIC::BRIDGE`: Secure VNET.
    pub secure: bool,
}

impl InterfacePair {
    fn parse(pair: &str) -> Result<InterfacePair, Reason> {
        let Some((nic, rest)) = pair.split_once(':') else {
            return Err(format!("{NO_COLON}, got \"{pair}\""));
        };
        let (secure, bridge) = match rest.strip_prefix(':') {
            Some(bridge) => (true, bridge),
            None => (false, rest),
        };
        check_nic_name(nic).map_err(|e| format!("{e} in NIC pair \"{pair}\""))?;
        let bridge = if is_none_word(bridge) {
            None
        } else {
            check_nic_name(bridge).map_err(|e| format!("{e} in NIC pair \"{pair}\""))?;
            Some(bridge.to_string())
        };
        Ok(InterfacePair {
            nic: nic.to_string(),
            bridge,
            secure,
        })
    }

    fn print(&self) -> String {
        let separator = if self.secure { "::" } else { ":" };
        let bridge = self.bridge.as_deref().unwrap_or(super::NONE);
        format!("{}{separator}{bridge}", self.nic)
    }
}

/// The whole `interfaces` value: pairs in written order, each NIC at most once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Interfaces(pub Vec<InterfacePair>);

impl Interfaces {
    /// The pair of one NIC.
    pub fn get(&self, nic: &str) -> Option<&InterfacePair> {
        self.0.iter().find(|p| p.nic == nic)
    }
}

impl Syntax for Interfaces {
    /// Pairs are separated by commas and/or whitespace.
    fn parse(text: &str) -> Result<Self, Reason> {
        if is_none_word(text) {
            return Ok(Interfaces::default());
        }
        let mut pairs: Vec<InterfacePair> = Vec::new();
        for token in text.split(|c: char| c == ',' || c.is_whitespace()) {
            if token.is_empty() {
                continue;
            }
            let pair = InterfacePair::parse(token)?;
            if pairs.iter().any(|p| p.nic == pair.nic) {
                return Err(format!(
                    "the NIC \"{}\" appears twice in \"{text}\"; each NIC can be paired with one \
                     bridge only",
                    pair.nic
                ));
            }
            pairs.push(pair);
        }
        Ok(Interfaces(pairs))
    }

    fn print(&self) -> String {
        print_list(&self.0, InterfacePair::print)
    }

    fn items(&self) -> Vec<String> {
        list_items(&self.0, InterfacePair::print)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{refused, refused_with, round_trip};
    use super::*;

    #[test]
    fn pairs_and_separators() {
        round_trip::<Interfaces>("vnet0:bridge0", "vnet0:bridge0");
        round_trip::<Interfaces>(
            "vnet0:bridge0, vnet1:bridge1 vnet2::bridge2",
            "vnet0:bridge0,vnet1:bridge1,vnet2::bridge2",
        );
        round_trip::<Interfaces>(
            "  vnet0:bridge0,,vnet1:br-lan  ",
            "vnet0:bridge0,vnet1:br-lan",
        );
        let v = Interfaces::parse("vnet0::bridge0").unwrap();
        assert_eq!(
            v.0,
            vec![InterfacePair {
                nic: "vnet0".into(),
                bridge: Some("bridge0".into()),
                secure: true
            }]
        );
    }

    #[test]
    fn empty_bridge_means_no_bridge() {
        for text in ["vnet0:", "vnet0:-", "vnet0:none"] {
            round_trip::<Interfaces>(text, "vnet0:none");
            assert_eq!(Interfaces::parse(text).unwrap().0[0].bridge, None);
        }
        round_trip::<Interfaces>("vnet0::", "vnet0::none");
        round_trip::<Interfaces>("vnet0::-", "vnet0::none");
    }

    #[test]
    fn empty_values() {
        for text in ["", "none", "-", "   "] {
            round_trip::<Interfaces>(text, "none");
        }
        assert_eq!(Interfaces::default().items(), vec!["none"]);
    }

    #[test]
    fn reference_error_for_a_pair_without_colon() {
        refused::<Interfaces>(
            "vnet0",
            "Invalid NIC pair (should be <nic>:<bridge>), got \"vnet0\"",
        );
        refused_with::<Interfaces>("vnet0:bridge0,vnet1", NO_COLON);
    }

    #[test]
    fn bad_names_and_duplicates() {
        refused_with::<Interfaces>(":bridge0", "invalid interface name \"\"");
        refused_with::<Interfaces>("vnet0:::bridge0", "invalid interface name \":bridge0\"");
        refused_with::<Interfaces>("averyveryverylongnic:b", "at most 15 characters");
        refused_with::<Interfaces>("vnet0:bridge0/x", "invalid interface name \"bridge0/x\"");
        refused_with::<Interfaces>(
            "vnet0:bridge0,vnet0:bridge1",
            "the NIC \"vnet0\" appears twice",
        );
        refused_with::<Interfaces>("vnet0:bridge0 vnet0::bridge0", "appears twice");
    }
}
