//! CNI jails on other plugins of Debian's package: ptp, macvlan on a sandbox uplink, tuning
//! (runtimeConfig mac and an MTU), and bandwidth with a measured rate limit. Needs root.

use serde_json::json;

use crate::net::{cannot_run, timed, CniHost};

#[test]
fn a_ptp_jail_reaches_its_host_end() {
    if cannot_run() {
        return;
    }
    let cni = CniHost::new();
    cni.write_list(
        "pnet",
        vec![json!({
            "type": "ptp",
            "ipMasq": false,
            "ipam": cni.host_local("10.33.0.0/24", None),
        })],
    );
    cni.create("web", "pnet", &[]);
    cni.host.ok(["start", "web"]);
    assert_eq!(cni.ip4("web"), "eth0|10.33.0.2/24");
    // ptp gives the host end the subnet's first address.
    cni.host.assert_pings("web", &["10.33.0.1"]);
    cni.host.ok(["check", "web"]);
    cni.host.stop_and_check_clean("web", &["lo"]);
    assert_eq!(cni.leases("pnet"), Vec::<String>::new());
}

#[test]
fn a_macvlan_jail_sits_on_the_uplinks_segment() {
    if cannot_run() {
        return;
    }
    let mut cni = CniHost::new();
    let peer = cni
        .host
        .add_uplink("em0", &["10.1.1.1/24"], &["10.1.1.2/24"]);
    cni.write_list(
        "mvnet",
        vec![json!({
            "type": "macvlan",
            "master": "em0",
            "mode": "bridge",
            "ipam": cni.host_local("10.1.1.0/24", Some(("10.1.1.100", "10.1.1.150"))),
        })],
    );
    cni.create("web", "mvnet", &[]);
    cni.host.ok(["start", "web"]);
    assert_eq!(cni.ip4("web"), "eth0|10.1.1.100/24");
    // The peer on the uplink's segment (a macvlan cannot talk to its own master's address).
    cni.host.assert_pings("web", &["10.1.1.2"]);
    assert!(ioc_tests::netns::pings_from(&peer, "10.1.1.100"));
    // No host-side interface to filter: cni_secure=on is refused, nothing left behind.
    cni.host.ok(["stop", "web"]);
    cni.host.ok(["set", "cni_secure=on", "web"]);
    let err = cni.host.fails(["start", "web"]);
    assert!(err.contains("property 'cni_secure'"), "{err}");
    assert!(err.contains("no host-side interface"), "{err}");
    cni.host.assert_clean(&["lo", "em0"]);
    assert_eq!(cni.leases("mvnet"), Vec::<String>::new());
}

#[test]
fn tuning_sets_the_jails_mac_and_mtu() {
    if cannot_run() {
        return;
    }
    let cni = CniHost::new();
    cni.write_list(
        "tunet",
        vec![
            cni.bridge("cnit1", "10.44.0.0/24", None),
            // tuning keeps the interface's old settings in its dataDir (default /run/cni/tuning).
            json!({
                "type": "tuning",
                "mtu": 1400,
                "capabilities": { "mac": true },
                "dataDir": cni.host.dir().join("cni").join("tuning"),
            }),
        ],
    );
    cni.create("web", "tunet", &["eth0_mac=02aabbcc0010,02aabbcc0011"]);
    cni.host.ok(["start", "web"]);
    let link = cni.host.jail_link("web", "eth0");
    assert_eq!(link.mac, "02:aa:bb:cc:00:11", "{link:?}");
    assert_eq!(link.mtu, 1400, "{link:?}");
    cni.host.assert_pings("web", &["10.44.0.1"]);
    cni.host.stop_and_check_clean("web", &["lo", "cnit1"]);
}

/// Times the download of the file the sandbox host serves on 10.55.0.1:8080 from inside
/// `jail`, trying for a few seconds while the server comes up.
fn download(cni: &CniHost, jail: &str) -> std::time::Duration {
    let url = "http://10.55.0.1:8080/blob";
    for _ in 0..20 {
        let mut ok = false;
        let took = timed(|| {
            ok = cni
                .host
                .exec(jail, &["busybox", "wget", "-q", "-O", "/dev/null", url])
                .status
                .success();
        });
        if ok {
            return took;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    panic!("{jail} never downloaded {url}");
}

#[test]
fn bandwidth_limits_a_jails_download_to_its_rate() {
    if cannot_run() {
        return;
    }
    let cni = CniHost::new();
    cni.write_list(
        "bwnet",
        vec![
            cni.bridge("cnit2", "10.55.0.0/24", None),
            json!({ "type": "bandwidth", "capabilities": { "bandwidth": true } }),
        ],
    );
    // 8 Mbit/s into the limited jail; the control jail has no limit.
    cni.create("slow", "bwnet", &["cni_bandwidth=in=8M"]);
    cni.create("fast", "bwnet", &[]);
    cni.host.ok(["start", "slow,fast"]);
    let bytes = 3_000_000;
    let dir = cni.host.dir().join("www");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("blob"), vec![0u8; bytes]).unwrap();
    let mut server = cni.host.command("busybox");
    server
        .args(["httpd", "-f", "-p", "10.55.0.1:8080", "-h"])
        .arg(&dir);
    let mut server = ioc_tests::netns::Background::spawn(server);
    let fast = download(&cni, "fast");
    let slow = download(&cni, "slow");
    let rate = (bytes as f64 * 8.0) / slow.as_secs_f64();
    eprintln!(
        "bandwidth: limited {slow:?} ({:.1} Mbit/s), unlimited {fast:?}",
        rate / 1e6
    );
    // 3 MB at 8 Mbit/s is 3 s; the first burst (0.8 Mbit) makes it a little shorter.
    assert!(rate < 9.5e6, "the limit is not applied: {rate} bit/s");
    assert!(rate > 5e6, "far below the limit: {rate} bit/s");
    assert!(
        fast * 4 < slow,
        "the control is not much faster: {fast:?} vs {slow:?}"
    );
    server.kill9();
    cni.host.stop_and_check_clean("slow,fast", &["lo", "cnit2"]);
}
