//! `cni_secure=on`: the firewall backend filters the result's host-side port, so a jail
//! that takes another address cannot use it; a jail without it can (the control). Needs root.

use crate::net::{cannot_run, CniHost};

/// The sandbox host's nftables tables, one `table FAMILY NAME` per line.
fn tables(cni: &CniHost) -> String {
    let out = cni
        .host
        .command("nft")
        .args(["list", "tables"])
        .output()
        .expect("run nft");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Whether `jail` reaches the gateway 10.22.0.1 from `source`, an address it added itself.
fn spoofed_ping(cni: &CniHost, jail: &str, source: &str) -> bool {
    cni.host.exec_ok(
        jail,
        &["ip", "addr", "add", &format!("{source}/24"), "dev", "eth0"],
    );
    ioc_tests::netns::eventually(std::time::Duration::from_secs(3), || {
        cni.host
            .exec(
                jail,
                &["ping", "-c", "1", "-W", "1", "-I", source, "10.22.0.1"],
            )
            .status
            .success()
    })
}

#[test]
fn a_secure_jail_cannot_spoof_its_source_and_an_open_one_can() {
    if cannot_run() {
        return;
    }
    let cni = CniHost::new();
    cni.write_list("snet", vec![cni.bridge("cnit3", "10.22.0.0/24", None)]);
    cni.create("locked", "snet", &["cni_secure=on"]);
    cni.create("open", "snet", &[]);
    cni.host.ok(["start", "locked,open"]);
    // Its own address passes the filter.
    cni.host.assert_pings("locked", &["10.22.0.1"]);
    cni.host.assert_pings("open", &["10.22.0.1"]);
    assert!(
        spoofed_ping(&cni, "open", "10.22.0.98"),
        "the control jail cannot use an added address: the test proves nothing"
    );
    assert!(
        !spoofed_ping(&cni, "locked", "10.22.0.99"),
        "a cni_secure=on jail sent from an address its result does not name"
    );
    assert!(
        tables(&cni).contains("ioc"),
        "no filter table: {}",
        tables(&cni)
    );
    cni.host
        .stop_and_check_clean("locked,open", &["lo", "cnit3"]);
    assert_eq!(tables(&cni), "", "the filter stays after the stop");
    assert_eq!(cni.leases("snet"), Vec::<String>::new());
}
