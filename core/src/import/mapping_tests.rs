use std::path::Path;

use super::*;

fn source(file: &str, text: &str) -> SourceJail {
    SourceJail::parse(Path::new(file), text).unwrap()
}

fn planned(file: &str, text: &str) -> Plan {
    plan(&source(file, text)).unwrap()
}

/// The imported properties as `key=value` texts.
fn set(plan: &Plan) -> Vec<String> {
    plan.properties
        .iter()
        .map(|m| format!("{}={}", m.key, m.value))
        .collect()
}

fn reason<'p>(plan: &'p Plan, key: &str) -> &'p str {
    &plan
        .skipped
        .iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("{key} not skipped: {plan:?}"))
        .reason
}

#[test]
fn iocage_json_vnet_jail() {
    let plan = planned(
        "/iocage/jails/www/config.json",
        r#"{"host_hostuuid": "www", "vnet": 1, "interfaces": "vnet0:bridge0",
            "ip4_addr": "vnet0|10.0.0.2/24", "defaultrouter": "10.0.0.1",
            "defaultrouter6": "auto", "vnet0_mac": "02ff60aaaaaa 02ff60aaaaab",
            "vnet1_mac": "none", "boot": 1, "priority": "10", "depends": "db cache",
            "release": "13.2-RELEASE", "exec_start": "/bin/sh /etc/rc",
            "exec_prestart": "/usr/bin/true", "exec_poststart": "logger started",
            "ip4": "none", "allow_raw_sockets": "1", "CONFIG_VERSION": "29"}"#,
    );
    assert_eq!(plan.name.as_str(), "www");
    assert_eq!(
        set(&plan),
        [
            "allow_raw_sockets=1",
            "boot=on",
            "defaultrouter=10.0.0.1",
            "depends=db,cache",
            "exec_poststart=logger started",
            "interfaces=vnet0:bridge0",
            "ip4=disable",
            "ip4_addr=vnet0|10.0.0.2/24",
            "priority=10",
            "vnet=on",
            "vnet0_mac=02ff60aaaaaa,02ff60aaaaab",
        ]
    );
    assert_eq!(reason(&plan, "host_hostuuid"), "the jail's name");
    assert!(reason(&plan, "defaultrouter6").contains("set defaultrouter6=ADDRESS"));
    assert!(reason(&plan, "vnet1_mac").starts_with("none"));
    assert!(reason(&plan, "release").starts_with("unknown to ioc"));
    assert!(reason(&plan, "exec_start").contains("own rc"));
    assert!(reason(&plan, "exec_prestart").contains("no-op"));
    assert!(reason(&plan, "CONFIG_VERSION").contains("format"));
    // Every key of the file is either imported or reported.
    assert_eq!(plan.properties.len() + plan.skipped.len(), 18);
}

#[test]
fn switch_spellings() {
    for (text, expected) in [
        ("1", "on"),
        ("\"on\"", "on"),
        ("\"yes\"", "on"),
        ("true", "on"),
        ("0", "off"),
        ("\"off\"", "off"),
        ("\"no\"", "off"),
        ("false", "off"),
        ("\"none\"", "off"),
        ("\"-\"", "off"),
    ] {
        let plan = planned("/j/a/config.json", &format!(r#"{{"vnet": {text}}}"#));
        assert!(
            set(&plan).contains(&format!("vnet={expected}")),
            "{text}: {plan:?}"
        );
    }
    // Not a switch: passed on for ioc's checks to refuse, with the file's text.
    let plan = planned("/j/a/config.json", r#"{"boot": "sometimes"}"#);
    assert_eq!(set(&plan), ["boot=sometimes"]);
}

#[test]
fn a_thin_vnet_jail_inherits_iocage_interfaces() {
    let plan = planned(
        "/j/a/config.json",
        r#"{"vnet": "on", "ip4_addr": "10.0.0.9/24"}"#,
    );
    assert_eq!(
        set(&plan),
        [
            "interfaces=vnet0:bridge0",
            "ip4_addr=vnet0|10.0.0.9/24",
            "vnet=on"
        ]
    );
    assert_eq!(plan.name.as_str(), "a");
}

#[test]
fn shared_ip_jail_keeps_nic_less_addresses_for_the_checks() {
    let plan = planned(
        "/j/a/config.json",
        r#"{"vnet": 0, "interfaces": "vnet0:bridge0", "ip4_addr": "em0|10.0.0.3/24,10.0.0.4",
            "defaultrouter": "auto", "vnet0_mac": "02ff60000001 02ff60000002"}"#,
    );
    assert_eq!(
        set(&plan),
        ["ip4_addr=em0|10.0.0.3/24,10.0.0.4", "vnet=off"]
    );
    assert!(reason(&plan, "interfaces").contains("only with vnet"));
    assert!(reason(&plan, "defaultrouter").contains("only with vnet"));
    assert!(reason(&plan, "vnet0_mac").contains("not one of the imported interfaces"));
}

#[test]
fn dhcp_becomes_an_address() {
    let plan = planned(
        "/j/a/config.json",
        r#"{"vnet": 1, "dhcp": 1, "bpf": 1, "interfaces": "vnet1:bridge1"}"#,
    );
    assert_eq!(
        set(&plan),
        ["interfaces=vnet1:bridge1", "ip4_addr=vnet1|dhcp", "vnet=on"]
    );
    let from_dhcp = plan
        .properties
        .iter()
        .find(|m| m.key == "ip4_addr")
        .unwrap();
    assert_eq!(
        (
            from_dhcp.source_key.as_str(),
            from_dhcp.source_value.as_str()
        ),
        ("dhcp", "1")
    );
    // With an ip4_addr in the file, that key carries the DHCP (iocage ignores the statics).
    let both = planned(
        "/j/a/config.json",
        r#"{"vnet": 1, "dhcp": "on", "ip4_addr": "vnet0|10.0.0.2/24"}"#,
    );
    assert!(set(&both).contains(&"ip4_addr=vnet0|dhcp".to_string()));
    assert_eq!(reason(&both, "dhcp"), "imported as ip4_addr=vnet0|dhcp");
    assert!(reason(&plan, "bpf").contains("BPF"));
    let upper = planned(
        "/j/a/config.json",
        r#"{"vnet": 1, "ip4_addr": "vnet0|DHCP"}"#,
    );
    assert!(set(&upper).contains(&"ip4_addr=vnet0|DHCP".to_string()));
}

#[test]
fn nat_jail_leaves_generated_values_to_ioc() {
    let plan = planned(
        "/j/n/config.json",
        r#"{"vnet": 1, "nat": 1, "interfaces": "vnet0:bridge0", "ip4_addr": "vnet0|172.16.0.2/30",
            "defaultrouter": "172.16.0.1", "nat_prefix": "172.16", "nat_backend": "ipfw",
            "nat_forwards": "tcp(80:8080)", "nat_interface": "none"}"#,
    );
    assert_eq!(
        set(&plan),
        [
            "nat=on",
            "nat_forwards=tcp(80:8080)",
            "nat_interface=none",
            "nat_prefix=172.16",
            "vnet=on"
        ]
    );
    assert!(reason(&plan, "interfaces").contains("routed pair"));
    assert!(reason(&plan, "ip4_addr").contains("nat_prefix"));
    assert!(reason(&plan, "defaultrouter").contains("NAT"));
    assert!(reason(&plan, "nat_backend").contains("firewall"));
}

#[test]
fn legacy_config_named_after_its_tag() {
    let plan = planned(
        "/iocage/jails/f3b1c2d4-0000-4000-8000-000000000001/config",
        "host_hostuuid=f3b1c2d4-0000-4000-8000-000000000001\n\
         tag=db\n\
         vnet=on\n\
         ip4_addr=vnet0|10.1.0.5/24\n\
         defaultrouter=-\n\
         resolver=nameserver 10.1.0.1;search example.org\n\
         notes=primary database\n",
    );
    assert_eq!(plan.name.as_str(), "db");
    assert_eq!(plan.format, Format::Legacy);
    assert_eq!(
        set(&plan),
        [
            "defaultrouter=none",
            "interfaces=vnet0:bridge0",
            "ip4_addr=vnet0|10.1.0.5/24",
            "resolver=nameserver 10.1.0.1;search example.org",
            "user.notes=primary database",
            "vnet=on",
        ]
    );
    assert!(reason(&plan, "host_hostuuid").contains("the jail is named after tag=\"db\""));
    assert_eq!(reason(&plan, "tag"), "the jail's name");
}

#[test]
fn libioc_json_with_nested_user_properties() {
    let plan = planned(
        "/ioc/jails/x/config.json",
        r#"{"id": "web-1", "vnet": "yes", "interfaces": "vnet0:bridge0",
            "ip6_addr": "vnet0|accept_rtadv", "defaultrouter": "10.0.0.1@vnet0",
            "depends": "db,cache", "user": {"team": "ops"}, "legacy": "no",
            "provision": {"method": "none"}}"#,
    );
    assert_eq!(plan.name.as_str(), "web-1");
    assert_eq!(
        set(&plan),
        [
            "defaultrouter=10.0.0.1@vnet0",
            "depends=db,cache",
            "interfaces=vnet0:bridge0",
            "ip6_addr=vnet0|accept_rtadv",
            "user.team=ops",
            "vnet=on",
        ]
    );
    assert!(reason(&plan, "provision.method").contains("releases"));
}

#[test]
fn no_usable_name_is_an_error() {
    let source = source(
        "config",
        "host_hostuuid=f3b1c2d4-0000-4000-8000-000000000001\n",
    );
    let err = plan(&source).unwrap_err().to_string();
    assert!(
        err.starts_with("config: no usable jail name: host_hostuuid="),
        "{err}"
    );
}
