//! Starts that Secure VNET refuses before anything changes on the host.

use ioc_tests::require_root;

use crate::{host_state, secure_host};

#[test]
fn secure_vnet_refuses_dhcp_and_accept_rtadv_before_any_change() {
    require_root!();
    let host = secure_host(&[]);
    for (jail, property) in [
        ("dhcpjail", "ip4_addr=vnet0|10.23.42.7/24,vnet0|dhcp"),
        ("rtadvjail", "ip6_addr=vnet0|accept_rtadv"),
    ] {
        host.ok([
            "create",
            jail,
            "vnet=on",
            "interfaces=vnet0::bridge0",
            property,
        ]);
    }
    let config = |jail| std::fs::read(host.sandbox().config_file(jail)).expect("config");
    for (jail, wanted) in [
        (
            "dhcpjail",
            "property 'ip4_addr': Secure VNET only whitelists static addresses; vnet0|dhcp is learned at run time",
        ),
        (
            "rtadvjail",
            "property 'ip6_addr': Secure VNET only whitelists static addresses; vnet0|accept_rtadv is learned at run time",
        ),
    ] {
        let (state, file) = (host_state(&host), config(jail));
        let err = host.fails(["start", jail]);
        assert!(err.contains(wanted), "{err}");
        assert!(err.contains(jail), "the error names the jail: {err}");
        assert_eq!(host_state(&host), state, "the refused start changed the host");
        assert_eq!(config(jail), file);
        assert!(!host.running(jail));
    }
    host.assert_clean(&["lo", "bridge0"]);
}
