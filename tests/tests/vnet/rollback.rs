//! Starts that cannot go through: refused before any change, or failed at any step and
//! rolled back completely.

use ioc_tests::netns::{seed, seed_host, HostNs};
use ioc_tests::require_root;

use crate::IDLE;

#[test]
fn missing_bridge_fails_before_any_change() {
    require_root!();
    let host = HostNs::new();
    seed(&host);
    let err = host.fails(["start", "jail-a,jail-b"]);
    assert!(
        err.contains("VNET bridge bridge0 does not exist"),
        "stderr: {err}"
    );
    host.assert_clean(&["lo"]);
    assert!(!host.running("jail-a") && !host.running("jail-b"));
}

#[test]
fn address_of_a_running_jail_is_refused_before_any_change() {
    require_root!();
    let host = seed_host();
    seed(&host);
    host.ok([
        "create",
        "jail-c",
        "interfaces=vnet0:bridge0",
        "ip4_addr=vnet0|10.23.42.2/24",
    ]);
    host.ok(["start", "jail-a"]);

    let err = host.fails(["start", "jail-c"]);
    assert!(
        err.contains("address 10.23.42.2 is already used by running jail 'jail-a'"),
        "stderr: {err}"
    );
    assert_eq!(host.runtime_jails(), ["jail-a"]);
    host.assert_links(&["lo", "bridge0", "vnet0.1"]);
    assert!(!host.running("jail-c"));

    // Two jails starting together with one address: neither starts.
    host.stop_and_check_clean("jail-a", IDLE);
    let err = host.fails(["start", "jail-a,jail-c"]);
    assert!(err.contains("which is starting too"), "stderr: {err}");
    host.assert_clean(IDLE);
}

#[test]
fn a_nic_named_twice_is_refused_before_any_change() {
    require_root!();
    let host = seed_host();
    seed(&host);
    let twice = "interfaces=vnet0:bridge0,vnet0:bridge0";
    let err = host.fails(["set", twice, "jail-a"]);
    assert!(err.contains("appears twice"), "stderr: {err}");

    // A config edited by hand gets the same answer from start, before anything is made.
    let config = host.sandbox().config_file("jail-a");
    let text = std::fs::read_to_string(&config).expect("config.ron");
    let doubled = text.replace("\"vnet0:bridge0\"", "\"vnet0:bridge0,vnet0:bridge0\"");
    assert_ne!(
        text, doubled,
        "config.ron holds no interfaces entry: {text}"
    );
    std::fs::write(&config, doubled).expect("write config.ron");
    let err = host.fails(["start", "jail-a"]);
    assert!(err.contains("appears twice"), "stderr: {err}");
    host.assert_clean(IDLE);
}

#[test]
fn failure_at_every_start_step_rolls_back_completely() {
    require_root!();
    let host = seed_host();
    seed(&host);
    let failed = host.fail_at_every_step("jail-a,jail-b", IDLE, |_| {});
    // jail, pair, bridge, move, rename, address, loopback, route: at least eight changes.
    assert!(failed >= 8, "only {failed} steps failed");
    host.assert_pings("jail-a", &["10.23.42.3"]);
    host.stop_and_check_clean("jail-a,jail-b", IDLE);
}

#[test]
fn failure_at_every_step_of_a_rich_start_rolls_back_completely() {
    require_root!();
    let host = seed_host();
    host.add_bridge("bridge1", Some("10.23.43.1/24"));
    host.add_address("bridge1", "fd00:43::1/64");
    let idle = ["lo", "bridge0", "bridge1"];
    // Every hook, two NICs, both families, a gateway with @nic: the most steps a VNET start
    // takes, each of which must be undone when a later one fails.
    let daemon = host.sandbox().run_dir().join("daemon");
    host.ok([
        "create".to_string(),
        "jail-a".to_string(),
        "vnet=on".to_string(),
        "interfaces=vnet0:bridge0 vnet1:bridge1".to_string(),
        "ip4_addr=vnet0|10.23.42.2/24,vnet1|10.23.43.2/24,vnet1|10.23.43.3/24".to_string(),
        "ip6_addr=vnet1|fd00:43::2/64".to_string(),
        "defaultrouter=10.23.42.1@vnet0".to_string(),
        "defaultrouter6=fd00:43::1".to_string(),
        "exec_prestart=true".to_string(),
        "exec_created=true".to_string(),
        format!(
            "exec_start=sh -c 'while :; do sleep 1; done' {} </dev/null >/dev/null 2>&1 &",
            daemon.display()
        ),
        "exec_poststart=true".to_string(),
    ]);
    let failed = host.fail_at_every_step("jail-a", &idle, |_| {});
    assert!(failed >= 16, "only {failed} steps failed");
    host.assert_pings("jail-a", &["10.23.42.1", "10.23.43.1", "fd00:43::1"]);
    host.stop_and_check_clean("jail-a", &idle);
}
