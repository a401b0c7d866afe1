//! A jail's `resolv.conf` from the DNS settings of [`ioc_sdk::HostOp::SetJailDns`].

use ioc_sdk::HostOp;

/// The file's text, in resolv.conf(5) order: `domain`, `search`, `nameserver`s, `options`.
/// `None` for an op that is not `SetJailDns`.
pub fn resolv_conf(op: &HostOp) -> Option<String> {
    let HostOp::SetJailDns {
        nameservers,
        domain,
        search,
        options,
    } = op
    else {
        return None;
    };
    let mut text = String::new();
    if !domain.is_empty() {
        text.push_str(&format!("domain {domain}\n"));
    }
    if !search.is_empty() {
        let list: Vec<&str> = search.iter().map(|s| s.as_str()).collect();
        text.push_str(&format!("search {}\n", list.join(" ")));
    }
    for server in nameservers.iter() {
        text.push_str(&format!("nameserver {server}\n"));
    }
    if !options.is_empty() {
        let list: Vec<&str> = options.iter().map(|s| s.as_str()).collect();
        text.push_str(&format!("options {}\n", list.join(" ")));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ioc_sdk::Ip;
    use std::net::Ipv4Addr;

    #[test]
    fn resolv_conf_lists_every_setting_in_order() {
        let op = HostOp::SetJailDns {
            nameservers: vec![Ip::from(Ipv4Addr::new(10, 22, 0, 1))].into(),
            domain: "jails.example".into(),
            search: vec!["jails.example".into(), "example".into()].into(),
            options: vec!["ndots:2".into()].into(),
        };
        assert_eq!(
            resolv_conf(&op).unwrap(),
            "domain jails.example\nsearch jails.example example\nnameserver 10.22.0.1\noptions ndots:2\n"
        );
    }
}
