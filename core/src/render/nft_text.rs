//! An [`NftBatch`] as `nft -f` text: what the dry run shows for `HostOp::NftCommit`, and what
//! names a failed command in errors.
//!
//! The text replays to the same ruleset. Packet fields print as raw payloads
//! (`@ll,48,48 0x02ff60cb4949`), except as the key of a set lookup or update, where nft wants a
//! typed field and gets its name (`ip saddr @allowed4`). Metadata values print in the form nft
//! parses for that key (`meta protocol 0x0800`, `meta l4proto 17`, `meta iifname "vnet0"`).

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use ioc_sdk::nft::{
    NftBatch, NftCommand, NftDynsetOp, NftElement, NftExpr, NftFibFlags, NftFibResult, NftHook,
    NftKeyType, NftMetaKey, NftPayloadBase, NftPolicy, NftPortRange, NftSetFlags, NftVerdict,
};
use ioc_sdk::NftFamily;

/// The whole batch, one command per line (a `DeleteTable` or `DeleteElements` is two: add,
/// then delete, which makes it idempotent for nft as for the kernel).
pub fn batch(batch: &NftBatch) -> String {
    let mut out = String::new();
    let mut keys = Keys::default();
    for command in batch.commands.iter() {
        keys.learn(command);
        out.push_str(&render(command, &keys));
    }
    out
}

/// One command, for messages: its last line (the delete itself, for a delete), without the
/// newline.
pub fn command(command: &NftCommand) -> String {
    let mut keys = Keys::default();
    keys.learn(command);
    let text = render(command, &keys);
    text.lines().last().unwrap_or_default().to_string()
}

/// The key types of the sets a batch creates, to print their elements.
#[derive(Default)]
struct Keys(Vec<(NftFamily, String, String, NftKeyType)>);

impl Keys {
    fn learn(&mut self, command: &NftCommand) {
        if let NftCommand::AddSet {
            family,
            table,
            name,
            key,
            ..
        } = command
        {
            self.0
                .push((*family, table.to_string(), name.to_string(), *key));
        }
    }

    fn get(&self, family: NftFamily, table: &str, set: &str) -> Option<NftKeyType> {
        self.0
            .iter()
            .find(|(f, t, s, _)| *f == family && t == table && s == set)
            .map(|k| k.3)
    }
}

fn render(command: &NftCommand, keys: &Keys) -> String {
    let mut s = String::new();
    match command {
        NftCommand::AddTable { family, name } => {
            let _ = writeln!(s, "add table {family} {}", id(name));
        }
        NftCommand::CreateTable { family, name } => {
            let _ = writeln!(s, "create table {family} {}", id(name));
        }
        NftCommand::DeleteTable { family, name } => {
            let _ = writeln!(s, "add table {family} {}", id(name));
            let _ = writeln!(s, "delete table {family} {}", id(name));
        }
        NftCommand::AddChain {
            family,
            table,
            name,
            hook,
        } => {
            let _ = write!(s, "add chain {family} {} {}", id(table), id(name));
            if let Some(hook) = hook.as_ref().into_option() {
                s.push_str(&hook_text(hook));
            }
            s.push('\n');
        }
        NftCommand::AddSet {
            family,
            table,
            name,
            key,
            flags,
            elements,
        } => {
            let _ = writeln!(
                s,
                "add set {family} {} {} {{ type {};{} }}",
                id(table),
                id(name),
                key.as_str(),
                flags_text(flags)
            );
            if !elements.is_empty() {
                s.push_str(&elements_line("add", *family, table, name, elements, keys));
            }
        }
        NftCommand::AddElements {
            family,
            table,
            set,
            elements,
        } => s.push_str(&elements_line("add", *family, table, set, elements, keys)),
        NftCommand::DeleteElements {
            family,
            table,
            set,
            elements,
        } => {
            for verb in ["add", "delete"] {
                s.push_str(&elements_line(
                    verb,
                    *family,
                    table,
                    set,
                    &bare(elements),
                    keys,
                ));
            }
        }
        NftCommand::AddRule {
            family,
            table,
            chain,
            exprs,
            comment,
        } => {
            let _ = write!(s, "add rule {family} {} {}", id(table), id(chain));
            let body = rule_text(*family, exprs);
            if !body.is_empty() {
                let _ = write!(s, " {body}");
            }
            if let Some(comment) = comment.as_ref().into_option() {
                let _ = write!(s, " comment {}", string(comment));
            }
            s.push('\n');
        }
        NftCommand::AddMap { .. }
        | NftCommand::AddMapElements { .. }
        | NftCommand::DeleteMapElements { .. } => s.push_str(&map::command(command)),
    }
    s
}

/// Elements without their timeouts: what a delete adds first.
fn bare(elements: &[NftElement]) -> Vec<NftElement> {
    elements.iter().map(|e| NftElement::raw(&e.key)).collect()
}

fn hook_text(hook: &NftHook) -> String {
    let device = match hook.device.as_ref().into_option() {
        Some(dev) => format!(" device {}", string(dev)),
        None => String::new(),
    };
    let policy = match hook.policy {
        NftPolicy::Accept => "accept",
        NftPolicy::Drop => "drop",
    };
    format!(
        " {{ type {} hook {}{device} priority {}; policy {policy}; }}",
        hook.chain_type.as_str(),
        hook.kind.as_str(),
        hook.priority
    )
}

fn flags_text(flags: &NftSetFlags) -> String {
    let names: Vec<&str> = [
        (flags.timeout, "timeout"),
        (flags.interval, "interval"),
        (flags.dynamic, "dynamic"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" flags {};", names.join(","))
    }
}

fn elements_line(
    verb: &str,
    family: NftFamily,
    table: &str,
    set: &str,
    elements: &[NftElement],
    keys: &Keys,
) -> String {
    let key = keys.get(family, table, set);
    let items: Vec<String> = elements
        .iter()
        .map(|e| {
            let mut item = element_text(&e.key, key);
            if let (true, Some(ms)) = (verb == "add", e.timeout_ms.into_option()) {
                let _ = write!(item, " timeout {ms}ms");
            }
            item
        })
        .collect();
    format!(
        "{verb} element {family} {} {} {{ {} }}\n",
        id(table),
        id(set),
        items.join(", ")
    )
}

/// An element's key in nft syntax; a set this batch did not create is typed by the key's
/// length (16 bytes of printable text then zeros is an interface name, else IPv6).
fn element_text(key: &[u8], known: Option<NftKeyType>) -> String {
    let kind = known.unwrap_or(match key.len() {
        4 => NftKeyType::Ipv4Addr,
        6 => NftKeyType::EtherAddr,
        2 => NftKeyType::InetService,
        8 => NftKeyType::Ipv4AddrInetService,
        20 if looks_like_ifname(&key[4..]) => NftKeyType::Ipv4AddrIfname,
        16 if looks_like_ifname(key) => NftKeyType::Ifname,
        _ => NftKeyType::Ipv6Addr,
    });
    match (kind, key.len()) {
        (NftKeyType::Ipv4Addr, 4) => Ipv4Addr::new(key[0], key[1], key[2], key[3]).to_string(),
        (NftKeyType::Ipv6Addr, 16) => {
            let octets: [u8; 16] = key.try_into().unwrap_or_default();
            Ipv6Addr::from(octets).to_string()
        }
        (NftKeyType::EtherAddr, 6) => key
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
        (NftKeyType::InetService, 2) => u16::from_be_bytes([key[0], key[1]]).to_string(),
        (NftKeyType::Ifname, _) => string(&c_string(key)),
        (NftKeyType::Ipv4AddrIfname, 20) => format!(
            "{} . {}",
            element_text(&key[..4], Some(NftKeyType::Ipv4Addr)),
            string(&c_string(&key[4..]))
        ),
        (NftKeyType::Ipv4AddrInetService, 8) => format!(
            "{} . {}",
            element_text(&key[..4], Some(NftKeyType::Ipv4Addr)),
            u16::from_be_bytes([key[4], key[5]])
        ),
        _ => hex(key),
    }
}

fn looks_like_ifname(key: &[u8]) -> bool {
    let name = c_string(key);
    !name.is_empty()
        && name.len() < key.len()
        && key[name.len()..].iter().all(|b| *b == 0)
        && name.bytes().all(|b| b.is_ascii_graphic())
}

fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// What the register holds while a rule is printed.
#[derive(Clone, Copy)]
enum Loaded {
    Nothing,
    Payload(NftPayloadBase, u32, u32),
    Meta(NftMetaKey),
    Fib(NftFibResult, NftFibFlags),
}

/// A rule's expressions as nft statements (see the module documentation).
fn rule_text(family: NftFamily, exprs: &[NftExpr]) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut loaded = Loaded::Nothing;
    let mut mask = String::new();
    let mut concat: Option<String> = None;
    for expr in exprs {
        match expr {
            NftExpr::Payload { base, offset, len } => {
                loaded = Loaded::Payload(*base, *offset, *len);
                mask.clear();
            }
            NftExpr::Meta { key } => {
                loaded = Loaded::Meta(*key);
                mask.clear();
            }
            NftExpr::Fib { result, flags } => {
                loaded = Loaded::Fib(*result, *flags);
                mask.clear();
            }
            NftExpr::Nat { kind, addr, ports } => {
                words.push(nat_text(family, kind.as_str(), addr, ports.into_option()));
            }
            NftExpr::Masq { ports } => {
                let mut m = String::from("masquerade");
                if let Some(p) = ports.into_option() {
                    let _ = write!(m, " to :{}", ports_text(p));
                }
                words.push(m);
            }
            NftExpr::Bitwise { mask: m, xor } => {
                let _ = write!(mask, " & {}", hex(m));
                if xor.iter().any(|b| *b != 0) {
                    let _ = write!(mask, " ^ {}", hex(xor));
                }
            }
            NftExpr::Cmp { op, data } => {
                let op = match op.as_str() {
                    "==" if mask.is_empty() => String::new(),
                    other => format!("{other} "),
                };
                words.push(format!(
                    "{}{mask} {op}{}",
                    raw_left(loaded),
                    value(loaded, data)
                ));
            }
            NftExpr::Range { invert, from, to } => {
                let op = if *invert { "!= " } else { "" };
                words.push(format!(
                    "{}{mask} {op}{}-{}",
                    raw_left(loaded),
                    value(loaded, from),
                    value(loaded, to)
                ));
            }
            NftExpr::Lookup { set, invert } => {
                let op = if *invert { "!= " } else { "" };
                let left = match concat.take() {
                    Some(c) => c,
                    None => typed_left(loaded),
                };
                words.push(format!("{left}{mask} {op}@{}", id(set)));
            }
            NftExpr::Dynset {
                op,
                set,
                timeout_ms,
            } => {
                let timeout = match (op, timeout_ms.into_option()) {
                    (NftDynsetOp::Delete, _) | (_, None) => String::new(),
                    (_, Some(ms)) => format!(" timeout {ms}ms"),
                };
                words.push(format!(
                    "{} @{} {{ {}{timeout} }}",
                    op.as_str(),
                    id(set),
                    typed_left(loaded)
                ));
            }
            NftExpr::Verdict { verdict } => words.push(match verdict {
                NftVerdict::Accept => "accept".into(),
                NftVerdict::Drop => "drop".into(),
                NftVerdict::Return => "return".into(),
                NftVerdict::Jump { chain } => format!("jump {}", id(chain)),
                NftVerdict::Goto { chain } => format!("goto {}", id(chain)),
            }),
            NftExpr::Queue {
                num,
                total,
                bypass,
                fanout,
            } => {
                let flags: Vec<&str> = [(*bypass, "bypass"), (*fanout, "fanout")]
                    .into_iter()
                    .filter_map(|(on, name)| on.then_some(name))
                    .collect();
                let mut q = String::from("queue");
                if !flags.is_empty() {
                    let _ = write!(q, " flags {}", flags.join(","));
                }
                let _ = write!(q, " num {num}");
                if *total > 1 {
                    let _ = write!(q, "-{}", u32::from(*num) + u32::from(*total) - 1);
                }
                words.push(q);
            }
            NftExpr::Counter => words.push("counter".into()),
            NftExpr::Concat { parts } => {
                concat = map::concat_text(parts);
                loaded = Loaded::Nothing;
                mask.clear();
            }
            NftExpr::NatMap { kind, map: m } => {
                words.push(map::nat_map_text(kind.as_str(), loaded, m));
            }
            NftExpr::Log { prefix, group } => {
                let mut log = "log".to_string();
                if let Some(p) = prefix.as_ref().into_option() {
                    let _ = write!(log, " prefix {}", string(p));
                }
                if let Some(g) = group.into_option() {
                    let _ = write!(log, " group {g}");
                }
                words.push(log);
            }
        }
    }
    words.join(" ")
}

fn raw_left(loaded: Loaded) -> String {
    match loaded {
        Loaded::Nothing => "@ll,0,0".into(),
        Loaded::Payload(base, offset, len) => {
            format!("@{},{},{}", base.as_str(), offset * 8, len * 8)
        }
        Loaded::Meta(key) => format!("meta {}", key.as_str()),
        Loaded::Fib(result, flags) => {
            let mut f = String::from(if flags.saddr { "saddr" } else { "daddr" });
            if flags.iif {
                f.push_str(" . iif");
            }
            if flags.oif {
                f.push_str(" . oif");
            }
            format!("fib {f} {}", result.as_str())
        }
    }
}

/// `dnat to 172.16.0.6:80`; in an `inet` table nft wants the address family (`dnat ip to`).
fn nat_text(family: NftFamily, kind: &str, addr: &[u8], ports: Option<NftPortRange>) -> String {
    let (name, addr) = match <[u8; 4]>::try_from(addr) {
        Ok(a) => ("ip", Ipv4Addr::from(a).to_string()),
        Err(_) => {
            let a: [u8; 16] = addr.try_into().unwrap_or_default();
            ("ip6", Ipv6Addr::from(a).to_string())
        }
    };
    let mut out = String::from(kind);
    if family == NftFamily::Inet {
        let _ = write!(out, " {name}");
    }
    match (ports, name) {
        (Some(p), "ip6") => {
            let _ = write!(out, " to [{addr}]:{}", ports_text(p));
        }
        (Some(p), _) => {
            let _ = write!(out, " to {addr}:{}", ports_text(p));
        }
        (None, _) => {
            let _ = write!(out, " to {addr}");
        }
    }
    out
}

fn ports_text(p: NftPortRange) -> String {
    if p.first == p.last {
        p.first.to_string()
    } else {
        format!("{}-{}", p.first, p.last)
    }
}

/// The name nft gives an address type (`RTN_*`), for `fib ... type`.
fn addrtype(data: &[u8]) -> Option<&'static str> {
    let n = u32::from_ne_bytes(data.try_into().ok()?);
    const NAMES: [&str; 9] = [
        "unspec",
        "unicast",
        "local",
        "broadcast",
        "anycast",
        "multicast",
        "blackhole",
        "unreachable",
        "prohibit",
    ];
    NAMES.get(n as usize).copied()
}

/// The named field nft types like a set's key, where there is one.
fn typed_left(loaded: Loaded) -> String {
    use NftPayloadBase::{Ll, Nh};
    let name = match loaded {
        Loaded::Payload(Ll, 0, 6) => "ether daddr",
        Loaded::Payload(Ll, 6, 6) => "ether saddr",
        Loaded::Payload(Nh, 12, 4) => "ip saddr",
        Loaded::Payload(Nh, 16, 4) => "ip daddr",
        Loaded::Payload(Nh, 8, 16) => "ip6 saddr",
        Loaded::Payload(Nh, 24, 16) => "ip6 daddr",
        Loaded::Payload(Nh, 14, 4) => "arp saddr ip",
        Loaded::Payload(Nh, 24, 4) => "arp daddr ip",
        Loaded::Payload(NftPayloadBase::Th, 2, 2) => "th dport",
        _ => return raw_left(loaded),
    };
    name.to_string()
}

/// A constant compared with what is loaded.
fn value(loaded: Loaded, data: &[u8]) -> String {
    match loaded {
        Loaded::Fib(NftFibResult::Type, _) if addrtype(data).is_some() => {
            addrtype(data).unwrap_or_default().to_string()
        }
        Loaded::Fib(NftFibResult::Oif, _) if data.len() == 4 => {
            u32::from_ne_bytes([data[0], data[1], data[2], data[3]]).to_string()
        }
        Loaded::Meta(NftMetaKey::Iifname | NftMetaKey::Oifname) => string(&c_string(data)),
        Loaded::Meta(NftMetaKey::Nfproto | NftMetaKey::L4proto | NftMetaKey::Pkttype)
            if data.len() == 1 =>
        {
            data[0].to_string()
        }
        _ => hex(data),
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::from("0x");
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A name as nft reads it: bare when it is a plain identifier, else quoted.
fn id(name: &str) -> String {
    let plain = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c));
    if plain {
        name.to_string()
    } else {
        string(name)
    }
}

/// A double-quoted nft string (nft has no escapes; ioc's names never hold quotes).
fn string(text: &str) -> String {
    format!("\"{}\"", text.replace('"', ""))
}

#[path = "nft_text_map.rs"]
mod map;

#[cfg(test)]
#[path = "nft_text_tests.rs"]
mod tests;
