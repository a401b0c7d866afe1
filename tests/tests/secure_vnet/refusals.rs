//! Starts that Secure VNET refuses before anything changes on the host.

use ioc_tests::require_root;

use crate::{host_state, secure_host};

/// Secure VNET no longer refuses `dhcp` and `accept_rtadv` (the host learns those addresses,
/// see the `secure_learn` tests); whether such a start succeeds (and is stopped here) or fails
/// (a kernel without nftables' queue expression), the host is left as it was.
#[test]
fn secure_vnet_learning_starts_leave_the_host_as_it_was() {
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
    for jail in ["dhcpjail", "rtadvjail"] {
        let (state, file) = (host_state(&host), config(jail));
        let out = host.ioc(["start", jail]);
        if out.status.success() {
            host.ok(["stop", jail]);
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(jail), "the error names the jail: {err}");
        }
        assert_eq!(host_state(&host), state, "the start changed the host");
        assert_eq!(config(jail), file);
        assert!(!host.running(jail));
    }
    host.assert_clean(&["lo", "bridge0"]);
}
