//! What each key of an iocage or libioc configuration becomes in ioc.
//!
//! Values that mean the same in ioc are taken as written and checked by ioc's own parsers in
//! [`super::apply`]; the quirks of those tools are normalised here first:
//!
//! - switches written `1`/`0`, `"on"`/`"off"`, `"yes"`/`"no"`, `true`/`false`, or a none word
//!   (off, as iocage reads it) become `on`/`off` (or `1`/`0` for the kernel flags);
//! - `none`, `-` and the empty value mean no value, as in ioc;
//! - `defaultrouter` `auto` (iocage: the host's gateway, looked up at start) has no ioc
//!   equivalent and is reported, not guessed;
//! - an address without `NIC|` goes on `vnet0` in a VNET jail (what iocage does);
//! - `dhcp=1` becomes `ip4_addr=NIC|dhcp`; `<nic>_mac` pairs separated by a space get a comma;
//!   `depends` separated by spaces get commas; `ip4=none` is `disable`;
//! - a NAT jail's `ip4_addr` and `defaultrouter` are what iocage generated at its last start,
//!   so they are left to ioc's NAT mode;
//! - iocage's no-op hooks (`/usr/bin/true`) and its rc hooks (`/bin/sh /etc/rc`) are left out.
//!
//! Every key not imported is reported with its reason ([`Skipped`]).

use std::path::PathBuf;

use super::source::{Format, SourceJail};
use super::{unknown, ImportError};
use crate::config::registry::{classify, KeyKind, Scope, MAC_SUFFIX, USER_PREFIX};
use crate::config::syntax::{is_none_word, Interfaces, Syntax};
use crate::config::JailName;

/// One ioc property to set, and the key and value of the file it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapped {
    pub key: String,
    pub value: String,
    pub source_key: String,
    pub source_value: String,
    /// The value comes from the root's `defaults.json`, not the jail's own file.
    pub inherited: bool,
}

/// A key of the file that is not imported, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub key: String,
    pub value: String,
    pub reason: String,
    /// The key comes from the root's `defaults.json`, not the jail's own file.
    pub inherited: bool,
}

/// What importing one file would create.
#[derive(Clone, Debug)]
pub struct Plan {
    pub name: JailName,
    pub file: PathBuf,
    pub format: Format,
    /// The root's `defaults.json` the file inherits from, if any.
    pub defaults: Option<PathBuf>,
    pub properties: Vec<Mapped>,
    pub skipped: Vec<Skipped>,
}

impl Plan {
    /// The file a property's value came from, for error messages.
    pub fn origin(&self, mapped: &Mapped) -> &std::path::Path {
        match (&self.defaults, mapped.inherited) {
            (Some(defaults), true) => defaults,
            _ => &self.file,
        }
    }
}

/// The keys that name a jail, in the order they are tried: iocage's `host_hostuuid`, libioc's
/// identifiers, then the legacy `tag` (older iocage's `host_hostuuid` is a UUID, too long for
/// an ioc name, and `tag` the name people knew the jail by).
const NAME_KEYS: &[&str] = &["host_hostuuid", "id", "name", "uuid", "tag"];

/// The bookkeeping keys of the formats themselves.
const FORMAT_KEYS: &[&str] = &["CONFIG_VERSION", "CONFIG_TYPE", "legacy", "jail_version"];

/// The host hooks whose iocage default is a no-op.
const HOST_HOOKS: &[&str] = &[
    "exec_prestart",
    "exec_created",
    "exec_poststart",
    "exec_prestop",
    "exec_poststop",
];

/// iocage's no-op hook.
const NO_OP: &str = "/usr/bin/true";

/// iocage's and libioc's in-jail hooks, which run the jail's own rc.
const RC_HOOKS: &[(&str, &str)] = &[
    ("exec_start", "/bin/sh /etc/rc"),
    ("exec_stop", "/bin/sh /etc/rc.shutdown"),
];

/// The NIC iocage puts addresses and DHCP on when none is written.
const FIRST_NIC: &str = "vnet0";

/// iocage's default `interfaces`, which a VNET jail without the key inherits.
const IOCAGE_INTERFACES: &str = "vnet0:bridge0";

/// A switch as iocage and libioc read it; a none word is off. `None` for anything else.
pub fn truthy(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "on" | "yes" | "true" => Some(true),
        "0" | "off" | "no" | "false" | "" | "-" | "none" => Some(false),
        _ => None,
    }
}

/// What one key becomes.
enum Decision {
    Import(String, String),
    Skip(String),
}

use Decision::{Import, Skip};

fn skip(reason: &str) -> Decision {
    Skip(reason.to_string())
}

/// The jail-wide facts some keys depend on.
struct Facts {
    vnet: bool,
    nat: bool,
    dhcp: bool,
    /// The file sets `ip4_addr` (which then carries `dhcp`).
    has_ip4: bool,
    /// The NICs of the interfaces that will be imported.
    nics: Vec<String>,
}

impl Facts {
    fn of(source: &SourceJail) -> Facts {
        let switch = |key: &str| {
            source
                .entries
                .get(key)
                .and_then(|v| truthy(v))
                .unwrap_or(false)
        };
        let (vnet, nat) = (switch("vnet"), switch("nat"));
        let nics = match source.entries.get("interfaces") {
            _ if !vnet || nat => Vec::new(),
            Some(text) => Interfaces::parse(text)
                .map(|i| i.0.into_iter().map(|pair| pair.nic).collect())
                .unwrap_or_default(),
            None => vec![FIRST_NIC.to_string()],
        };
        Facts {
            vnet,
            nat,
            dhcp: switch("dhcp"),
            has_ip4: source.entries.contains_key("ip4_addr"),
            nics,
        }
    }

    /// The NIC DHCP runs on: the first of the interfaces.
    fn dhcp_nic(&self) -> &str {
        self.nics.first().map_or(FIRST_NIC, String::as_str)
    }
}

/// Maps one file's configuration onto ioc's properties.
pub fn plan(source: &SourceJail) -> Result<Plan, ImportError> {
    let facts = Facts::of(source);
    let (name, mut skipped) = choose_name(source)?;
    let mut properties = Vec::new();
    if facts.vnet && !facts.nat && !source.entries.contains_key("interfaces") {
        properties.push(Mapped {
            key: "interfaces".to_string(),
            value: IOCAGE_INTERFACES.to_string(),
            source_key: "interfaces".to_string(),
            source_value: format!("(not set: iocage's default {IOCAGE_INTERFACES})"),
            inherited: false,
        });
    }
    for (key, value) in &source.entries {
        if NAME_KEYS.contains(&key.as_str()) {
            continue;
        }
        match decide(key, value, &facts) {
            Import(ioc_key, ioc_value) => properties.push(Mapped {
                key: ioc_key,
                value: ioc_value,
                source_key: key.clone(),
                source_value: value.clone(),
                inherited: source.is_inherited(key),
            }),
            Skip(reason) => skipped.push(Skipped {
                key: key.clone(),
                value: value.clone(),
                reason,
                inherited: source.is_inherited(key),
            }),
        }
    }
    properties.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(Plan {
        name,
        file: source.file.clone(),
        format: source.format,
        defaults: source.inherited.as_ref().map(|i| i.file.clone()),
        properties,
        skipped,
    })
}

/// The jail's name (see [`NAME_KEYS`], then the directory's name), and a line for every name
/// key saying what became of it.
fn choose_name(source: &SourceJail) -> Result<(JailName, Vec<Skipped>), ImportError> {
    let present: Vec<(&str, &str)> = NAME_KEYS
        .iter()
        .filter_map(|key| Some((*key, source.entries.get(*key)?.trim())))
        .filter(|(_, value)| !is_none_word(value))
        .collect();
    let candidates = present
        .iter()
        .map(|(key, value)| (format!("{key}=\"{value}\""), *value))
        .chain(
            source
                .dir_name()
                .map(|dir| (format!("the directory name \"{dir}\""), dir)),
        );
    let mut tried = Vec::new();
    let mut chosen = None;
    for (origin, value) in candidates {
        match JailName::new(value) {
            Ok(name) => {
                chosen = Some((name, origin));
                break;
            }
            Err(e) => tried.push(format!("{origin}: {e}")),
        }
    }
    let Some((name, origin)) = chosen else {
        return Err(ImportError::NoName {
            path: source.file.clone(),
            tried: if tried.is_empty() {
                format!("none of {} is set", NAME_KEYS.join(", "))
            } else {
                tried.join("; ")
            },
        });
    };
    let skipped = present
        .iter()
        .map(|(key, value)| Skipped {
            key: key.to_string(),
            value: value.to_string(),
            reason: if *value == name.as_str() {
                "the jail's name".to_string()
            } else {
                match JailName::new(value) {
                    Err(e) => format!("{e}; the jail is named after {origin}"),
                    Ok(_) => format!("another name of the jail; it is named after {origin}"),
                }
            },
            inherited: false,
        })
        .collect();
    Ok((name, skipped))
}

/// What `key=value` becomes, given the jail's facts.
fn decide(key: &str, value: &str, facts: &Facts) -> Decision {
    let value = value.trim();
    if FORMAT_KEYS.contains(&key) {
        return skip("the file format's version, not a property");
    }
    if let Some((_, rc)) = RC_HOOKS.iter().find(|(hook, _)| *hook == key) {
        if value == *rc {
            return skip(
                "iocage's default, which runs the jail's own rc; ioc runs no init in a jail \
                 (give it a root with path and set this hook if it needs one)",
            );
        }
        return Import(key.to_string(), value.to_string());
    }
    if HOST_HOOKS.contains(&key) && value == NO_OP {
        return skip("iocage's no-op default; ioc's default none does the same");
    }
    match key {
        "vnet" | "boot" | "nat" => switch(key, value, "on", "off"),
        "ip4_saddrsel" | "ip6_saddrsel" | "allow_raw_sockets" => switch(key, value, "1", "0"),
        "interfaces" if facts.nat => {
            skip("not used by a NAT jail: ioc's nat mode builds a routed pair, no bridge")
        }
        "interfaces" if !facts.vnet => skip("iocage uses it only with vnet, which is off"),
        "ip4_addr" if facts.nat && !is_none_word(value) => skip(
            "iocage's NAT writes the address it generated from nat_prefix here at every start; \
             ioc's nat mode allocates one from nat_prefix itself",
        ),
        "ip4_addr" if facts.dhcp => Import(key.to_string(), format!("{}|dhcp", facts.dhcp_nic())),
        "ip4_addr" | "ip6_addr" => Import(key.to_string(), addresses(value, facts.vnet)),
        "defaultrouter" | "defaultrouter6" => router(key, value, facts),
        "ip4" | "ip6" if value.eq_ignore_ascii_case("none") => {
            Import(key.to_string(), "disable".to_string())
        }
        "depends" => Import(key.to_string(), comma_list(value)),
        "dhcp" if facts.dhcp && facts.nat => {
            skip("ignored with nat on: ioc's nat mode gives the address")
        }
        "dhcp" if facts.dhcp && !facts.has_ip4 => {
            Import("ip4_addr".to_string(), format!("{}|dhcp", facts.dhcp_nic()))
        }
        "dhcp" if facts.dhcp => Skip(format!("imported as ip4_addr={}|dhcp", facts.dhcp_nic())),
        "dhcp" => skip("off; ioc's DHCP is asked for with ip4_addr=NIC|dhcp"),
        "bpf" => skip("unknown to ioc: ioc's DHCP needs no BPF device rule"),
        "nat_backend" => skip(
            "iocage's NAT firewall (ipfw or pf); ioc's nat_backend=firewall uses the host's \
             firewall backend (ioc set firewall=NAME defaults)",
        ),
        "notes" | "comment" if is_none_word(value) => skip("empty"),
        "notes" | "comment" => Import(format!("user.{key}"), value.to_string()),
        _ => generic(key, value, facts),
    }
}

/// A key with no special rule: a `<nic>_mac`, a property ioc knows by the same name, or
/// an unknown key.
fn generic(key: &str, value: &str, facts: &Facts) -> Decision {
    match classify(key) {
        Some(KeyKind::NicMac(nic)) => mac_pair(nic, value, facts),
        Some(KeyKind::Static(property)) if property.scope == Scope::Host => Skip(format!(
            "host-wide in ioc, not per jail: ioc set {key}=VALUE defaults"
        )),
        Some(_) => Import(key.to_string(), value.to_string()),
        // A malformed user key goes to ioc's checks, which say what a user key may hold.
        None if key.starts_with(USER_PREFIX) => Import(key.to_string(), value.to_string()),
        None if key.ends_with(MAC_SUFFIX) => skip("unknown to ioc: not a NIC's MAC pair"),
        None => skip(unknown::reason(key)),
    }
}

/// A switch in ioc's spelling; a value that is no switch is passed on for ioc to refuse.
fn switch(key: &str, value: &str, on: &str, off: &str) -> Decision {
    let text = match truthy(value) {
        Some(true) => on,
        Some(false) => off,
        None => value,
    };
    Import(key.to_string(), text.to_string())
}

/// An address list with iocage's NIC-less entries put on `vnet0` in a VNET jail.
fn addresses(value: &str, vnet: bool) -> String {
    if is_none_word(value) {
        return "none".to_string();
    }
    value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| match entry.contains('|') || !vnet {
            true => entry.to_string(),
            false => format!("{FIRST_NIC}|{entry}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `defaultrouter(6)`: `auto` and NAT-generated gateways are reported, the rest imported.
fn router(key: &str, value: &str, facts: &Facts) -> Decision {
    if is_none_word(value) {
        return Import(key.to_string(), "none".to_string());
    }
    if facts.nat && key == "defaultrouter" {
        return skip(
            "a NAT jail's gateway, which iocage's NAT writes here at every start; ioc's nat mode \
             routes through the host end of its pair",
        );
    }
    if value.eq_ignore_ascii_case("auto") {
        return Skip(if facts.vnet {
            format!(
                "auto (iocage looks up the host's default gateway at every start) has no ioc \
                 equivalent: set {key}=ADDRESS"
            )
        } else {
            "auto, which iocage uses only with vnet (off); ioc's default none is the same"
                .to_string()
        });
    }
    Import(key.to_string(), value.to_string())
}

/// A pinned `<nic>_mac`: iocage separates the pair with a space, ioc with a comma.
fn mac_pair(nic: &str, value: &str, facts: &Facts) -> Decision {
    if is_none_word(value) {
        return skip("none: ioc generates the MACs from mac_prefix and the jail's name");
    }
    if !facts.nics.iter().any(|n| n == nic) {
        return Skip(format!(
            "the MACs of {nic}, which is not one of the imported interfaces"
        ));
    }
    let pair = value.replace(',', " ");
    Import(
        format!("{nic}{MAC_SUFFIX}"),
        pair.split_whitespace().collect::<Vec<_>>().join(","),
    )
}

/// A list separated by spaces (iocage) or commas (libioc), with commas.
fn comma_list(value: &str) -> String {
    if is_none_word(value) {
        return "none".to_string();
    }
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|item| !item.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
