//! Checks a rule's expressions against the register model before the kernel sees them: every
//! test follows a load, and compares as many bytes as were loaded. The kernel would accept a
//! shorter constant (and compare a prefix) or a test of a stale register; the nft text of such
//! a rule would mean something else, so both are refused here with a message naming the rule.

use ioc_sdk::nft::{NftExpr, NftKeyType, NftPortRange};

/// Why a rule does not fit the register model, for the error message.
pub(super) fn check_rule(
    exprs: &[NftExpr],
    set_key: &dyn Fn(&str) -> Option<NftKeyType>,
) -> Result<(), String> {
    let mut loaded: Option<usize> = None;
    for (n, expr) in exprs.iter().enumerate() {
        let at = n + 1;
        let need = |what: &str| {
            loaded.ok_or_else(|| format!("expression {at} ({what}) has no load before it"))
        };
        let same = |what: &str, len: usize, want: usize| {
            if len == want {
                Ok(())
            } else {
                Err(format!(
                    "expression {at} ({what}) has {len} bytes for a load of {want}"
                ))
            }
        };
        match expr {
            NftExpr::Payload { len, .. } => {
                if !(1..=16).contains(len) {
                    return Err(format!("expression {at} loads {len} bytes (1 to 16)"));
                }
                loaded = Some(*len as usize);
            }
            NftExpr::Meta { key } => loaded = Some(key.key_len()),
            NftExpr::Fib { .. } => loaded = Some(4),
            NftExpr::Nat { addr, ports, .. } => {
                if addr.len() != 4 && addr.len() != 16 {
                    return Err(format!(
                        "expression {at} (nat) has an address of {} bytes (4 or 16)",
                        addr.len()
                    ));
                }
                check_ports(at, ports.into_option())?;
            }
            NftExpr::Masq { ports } => check_ports(at, ports.into_option())?,
            NftExpr::Cmp { data, .. } => same("cmp", data.len(), need("cmp")?)?,
            NftExpr::Range { from, to, .. } => {
                let want = need("range")?;
                same("range", from.len(), want)?;
                same("range", to.len(), want)?;
            }
            NftExpr::Bitwise { mask, xor } => {
                let want = need("bitwise")?;
                same("bitwise", mask.len(), want)?;
                same("bitwise", xor.len(), want)?;
            }
            NftExpr::Lookup { set, .. } | NftExpr::Dynset { set, .. } => {
                let want = need("set key")?;
                if let Some(key) = set_key(set) {
                    same(&format!("key of set {set}"), want, key.key_len())?;
                }
            }
            NftExpr::Concat { parts } => {
                if let Some(bad) = parts.iter().find(|p| !(1..=16).contains(&p.len())) {
                    return Err(format!(
                        "expression {at} (concat) loads a part of {} bytes (1 to 16)",
                        bad.len()
                    ));
                }
                let total: usize = parts.iter().map(|p| p.padded_len()).sum();
                if parts.is_empty() || total > 64 {
                    return Err(format!(
                        "expression {at} (concat) loads {total} bytes (1 to 64)"
                    ));
                }
                loaded = Some(total);
            }
            NftExpr::NatMap { map, .. } => {
                let want = need("map key")?;
                if let Some(key) = set_key(map) {
                    same(&format!("key of map {map}"), want, key.key_len())?;
                }
            }
            NftExpr::Verdict { .. }
            | NftExpr::Queue { .. }
            | NftExpr::Counter
            | NftExpr::Log { .. } => {}
        }
    }
    Ok(())
}

fn check_ports(at: usize, ports: Option<NftPortRange>) -> Result<(), String> {
    match ports {
        Some(p) if p.first > p.last => Err(format!(
            "expression {at} has the port range {}-{} (first above last)",
            p.first, p.last
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use ioc_sdk::nft::{NftCmpOp, NftField, NftMetaKey, NftRule};

    use super::*;

    fn check(rule: NftRule) -> Result<(), String> {
        check_rule(rule.exprs(), &|set| {
            (set == "allowed6").then_some(NftKeyType::Ipv6Addr)
        })
    }

    #[test]
    fn tests_need_a_load_of_their_length() {
        assert!(check(
            NftRule::new()
                .ipv6()
                .lookup(NftField::IP6_SADDR, "allowed6")
                .accept()
        )
        .is_ok());
        let e = check(NftRule::new().cmp(NftCmpOp::Eq, &[1])).unwrap_err();
        assert_eq!(e, "expression 1 (cmp) has no load before it");
        let e = check(NftRule::new().meta_eq(NftMetaKey::Iifname, b"eth0")).unwrap_err();
        assert_eq!(e, "expression 2 (cmp) has 4 bytes for a load of 16");
        let e = check(NftRule::new().lookup(NftField::IP_SADDR, "allowed6")).unwrap_err();
        assert_eq!(
            e,
            "expression 2 (key of set allowed6) has 4 bytes for a load of 16"
        );
    }

    #[test]
    fn nat_statements_need_an_address_and_ordered_ports() {
        use ioc_sdk::nft::NftNatKind;
        let nat = |addr: Vec<u8>, first, last| {
            NftRule::new().expr(NftExpr::Nat {
                kind: NftNatKind::Dnat,
                addr: addr.into(),
                ports: Some(NftPortRange { first, last }).into(),
            })
        };
        assert!(check(NftRule::new().to_local_address().masquerade()).is_ok());
        assert!(check(nat(vec![10, 0, 0, 2], 80, 80)).is_ok());
        assert_eq!(
            check(nat(vec![10, 0, 0], 80, 80)).unwrap_err(),
            "expression 1 (nat) has an address of 3 bytes (4 or 16)"
        );
        assert_eq!(
            check(nat(vec![10, 0, 0, 2], 90, 80)).unwrap_err(),
            "expression 1 has the port range 90-80 (first above last)"
        );
    }
}
