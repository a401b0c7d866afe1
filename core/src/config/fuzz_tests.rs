//! Property tests: arbitrary text into every parser. Nothing may panic, and whatever parses
//! must print a canonical form that parses back to the same value and prints identically
//! (the promise that `ioc get` output is always valid `ioc set` input).

use proptest::prelude::*;

use super::names::{check_nic_name, check_plugin_name, JailName};
use super::registry::{self, classify};
use super::settings::Assignment;
use crate::filter::Filter;

/// Keys covering every parser: each declared property, a `<nic>_mac` and a `user.*` key.
fn keys() -> Vec<String> {
    let mut keys: Vec<String> = registry::all().iter().map(|p| p.name.to_string()).collect();
    keys.push("vnet0_mac".to_string());
    keys.push("user.note".to_string());
    keys
}

/// Text built from fragments of the property language, to reach deep into the parsers more
/// often than uniformly random text would.
fn near_valid() -> impl Strategy<Value = String> {
    let fragments = vec![
        "vnet0",
        "em0",
        ":",
        "::",
        "bridge0",
        "|",
        "10.23.42.2",
        "/24",
        "/",
        "33",
        ",",
        " ",
        "dhcp",
        "DHCP",
        "accept_rtadv",
        "2001:db8::1",
        "fe80::1",
        "@",
        "none",
        "-",
        "",
        "nameserver",
        "search",
        "example.org",
        ";",
        "02ff60",
        "02:ff:60:e7:93:9d",
        "02-FF-60-E7-93-9E",
        "on",
        "yes",
        "0",
        "1",
        "new",
        "inherit",
        "*",
        "+",
        "=",
        "vnet",
        "ip4_addr",
        "\\",
        "jail-a",
        "name",
        "user.x",
        "/etc/resolv.conf",
        "auto",
        "nftables",
        "\n",
        "\0",
        "é",
        "0x",
    ];
    prop::collection::vec(prop::sample::select(fragments), 0..10).prop_map(|parts| parts.concat())
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), near_valid(), "[ -~]{0,40}"]
}

fn check_round_trip(key: &str, text: &str) -> Result<(), TestCaseError> {
    let Some(kind) = classify(key) else {
        return Err(TestCaseError::fail(format!("{key} is not a key")));
    };
    if let Ok(value) = kind.parse(text) {
        let printed = value.print();
        let again = kind.parse(&printed).map_err(|e| {
            TestCaseError::fail(format!(
                "{key}: {text:?} printed as {printed:?}, refused: {e}"
            ))
        })?;
        prop_assert_eq!(
            &again,
            &value,
            "{}: {:?} printed as {:?}",
            key,
            text,
            printed
        );
        prop_assert_eq!(again.print(), printed);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_parser_round_trips_whatever_it_accepts(text in any_text()) {
        for key in keys() {
            check_round_trip(&key, &text)?;
        }
    }

    #[test]
    fn names_filters_and_assignments_never_panic(text in any_text()) {
        let _ = JailName::new(&text);
        let _ = check_nic_name(&text);
        let _ = check_plugin_name(&text);
        let _ = Assignment::parse(&text);
        let _ = classify(&text);
        if let Ok(filter) = Filter::from_args(&[text.as_str()]) {
            // A parsed filter prints a form that parses to the same filter.
            let printed = filter.to_string();
            if !filter.is_empty() && printed != "none" {
                let again = Filter::from_args(&[printed.as_str()]);
                prop_assert_eq!(again.ok(), Some(filter), "{:?} printed as {:?}", text, printed);
            }
        }
    }
}
