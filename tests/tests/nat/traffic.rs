//! NAT jails end to end: a sandbox host whose `em0` (10.1.1.1/24, default route via the peer)
//! leads to a peer namespace (10.1.1.2/24) that has no route to the NAT range, so every
//! answer it gives a jail proves the jail's traffic left as the host's address. Needs root.

use std::fs;
use std::process::Stdio;

use ioc_tests::netns::{answers_now, fetch_from, Background, HostNs};
use ioc_tests::require_root;

pub const IDLE: &[&str] = &["lo", "em0"];

/// A host with `em0` and a peer behind it; the IPv4 default route goes out of `em0`.
pub fn host_with_uplink() -> (HostNs, String) {
    let mut host = HostNs::new();
    let peer = host.add_uplink("em0", &["10.1.1.1/24"], &["10.1.1.2/24"]);
    host.ip(["route", "add", "default", "via", "10.1.1.2"]);
    (host, peer)
}

/// What `nft ARGS` prints in the sandbox host.
pub fn nft(host: &HostNs, args: &[&str]) -> String {
    let out = host.command("nft").args(args).output().expect("run nft");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The sandbox host's nftables tables, one `table FAMILY NAME` per line.
pub fn tables(host: &HostNs) -> String {
    nft(host, &["list", "tables"])
}

/// The NAT entries in the sandbox host: the lines of the shared table `ip ioc-nat` that
/// name a jail address (its map and set elements), empty when no jail holds any. The table
/// itself stays after the last stop, empty; per-jail tables of earlier versions never come
/// back.
pub fn nat_entries(host: &HostNs) -> String {
    let listed = nft(host, &["list", "table", "ip", "ioc-nat"]);
    let mut entries: Vec<&str> = listed.lines().filter(|l| l.contains("172.16.")).collect();
    let left = tables(host);
    entries.extend(left.lines().filter(|l| l.contains("ioc-nat-")));
    entries.join("\n")
}

/// A VNET jail with NAT that forwards `forwards` (`nat_forwards`'s syntax).
pub fn create_nat(host: &HostNs, name: &str, forwards: &str) {
    host.ok([
        "create",
        name,
        "vnet=on",
        "nat=on",
        &format!("nat_forwards={forwards}"),
    ]);
}

pub fn forwarding(host: &HostNs, link: &str) -> String {
    let out = host
        .command("sysctl")
        .args(["-n", &format!("net/ipv4/conf/{link}/forwarding")])
        .output()
        .expect("run sysctl");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// busybox httpd inside the jail on port 80, serving `marker`.
pub fn serve(host: &HostNs, jail: &str, marker: &str) -> Background {
    let dir = host.dir().join(format!("www-{jail}"));
    fs::create_dir_all(&dir).expect("create the served directory");
    fs::write(dir.join("marker"), marker).expect("write the served file");
    let mut command = host.ioc_command();
    command
        .args([
            "exec", jail, "--", "busybox", "httpd", "-f", "-p", "80", "-h",
        ])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Background::spawn(command)
}

#[test]
fn the_worked_example_reaches_out_and_is_reached_through_its_forward() {
    require_root!();
    let (host, peer) = host_with_uplink();
    create_nat(&host, "web", "tcp(80:8080)");
    assert_eq!(forwarding(&host, "em0"), "0");
    let out = host.ioc(["start", "web"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "start failed: {err}");
    assert!(err.contains("em0"), "no warning naming the uplink: {err}");
    assert_eq!(
        host.ok(["get", "ip4_addr", "web"]).trim(),
        "vnet0|172.16.0.2/30"
    );
    assert_eq!(
        host.jail_row("web")["ip4_addr"],
        serde_json::json!(["vnet0|172.16.0.2/30"])
    );
    // The peer has no route to 172.16.0.0/16: an answer means the jail left as 10.1.1.1.
    assert!(
        host.pings("web", "10.1.1.2"),
        "the jail cannot reach the peer"
    );
    assert!(
        nat_entries(&host).contains("172.16.0.2"),
        "{}",
        nat_entries(&host)
    );
    assert_eq!(forwarding(&host, "em0"), "1");
    let mut server = serve(&host, "web", "nat works");
    assert_eq!(fetch_from(&peer, "10.1.1.1").as_deref(), Some("nat works"));
    host.ok(["stop", "web"]);
    server.wait();
    host.assert_clean(IDLE);
    assert_eq!(nat_entries(&host), "");
    assert_eq!(
        forwarding(&host, "em0"),
        "0",
        "ioc switched forwarding on and must switch it off"
    );
    assert!(!answers_now(&peer, "172.16.0.2"));
    // The address is kept across restarts, and released on destroy.
    host.ok(["start", "web"]);
    assert_eq!(
        host.ok(["get", "ip4_addr", "web"]).trim(),
        "vnet0|172.16.0.2/30"
    );
    host.ok(["stop", "web"]);
    host.ok(["destroy", "-f", "web"]);
    host.ok(["create", "next", "vnet=on", "nat=on"]);
    host.ok(["start", "next"]);
    assert_eq!(
        host.ok(["get", "ip4_addr", "next"]).trim(),
        "vnet0|172.16.0.2/30"
    );
    host.stop_and_check_clean("next", IDLE);
}

#[test]
fn forwarding_the_admin_set_stays_on_after_the_stop() {
    require_root!();
    let (host, _peer) = host_with_uplink();
    host.command("sysctl")
        .args(["-qw", "net/ipv4/conf/em0/forwarding=1"])
        .status()
        .expect("run sysctl");
    host.ok(["create", "a", "vnet=on", "nat=on"]);
    host.ok(["create", "b", "vnet=on", "nat=on"]);
    host.ok(["start", "a,b"]);
    assert_eq!(
        host.ok(["get", "ip4_addr", "b"]).trim(),
        "vnet0|172.16.0.6/30"
    );
    assert!(host.pings("b", "10.1.1.2"));
    host.stop_and_check_clean("a,b", IDLE);
    assert_eq!(forwarding(&host, "em0"), "1");
}

#[test]
fn a_full_pool_fails_before_anything_changes() {
    require_root!();
    let (host, _peer) = host_with_uplink();
    // A /29 holds two /30 blocks.
    for jail in ["a", "b", "c"] {
        host.ok([
            "create",
            jail,
            "vnet=on",
            "nat=on",
            "nat_prefix=10.9.0.0/29",
        ]);
    }
    host.ok(["start", "a,b"]);
    let err = host.fails(["start", "c"]);
    assert!(
        err.contains("jail 'c': no free /30 left in 10.9.0.0/29"),
        "{err}"
    );
    assert!(!host.running("c"));
    assert_eq!(host.ok(["get", "ip4_addr", "c"]).trim(), "none");
    host.stop_and_check_clean("a,b", IDLE);
}

#[test]
fn a_failure_at_every_start_step_leaves_nothing() {
    require_root!();
    let (host, _peer) = host_with_uplink();
    create_nat(&host, "web", "tcp(80:8080)");
    let steps = host.fail_at_every_step("web", IDLE, |_| {
        assert_eq!(nat_entries(&host), "");
        assert_eq!(forwarding(&host, "em0"), "0");
    });
    assert!(steps >= 8, "only {steps} steps");
    host.stop_and_check_clean("web", IDLE);
    assert_eq!(nat_entries(&host), "");
}

#[test]
fn a_shared_ip_nat_jail_is_reached_through_its_forward_and_leaves_as_the_host() {
    require_root!();
    let (host, peer) = host_with_uplink();
    host.ok([
        "create",
        "svc",
        "vnet=off",
        "nat=on",
        "nat_forwards=tcp(80:8080)",
    ]);
    host.ok(["start", "svc"]);
    assert_eq!(
        host.ok(["get", "ip4_addr", "svc"]).trim(),
        "lo|172.16.0.2/32"
    );
    assert!(host.addresses("lo").contains(&"172.16.0.2/32".to_string()));
    // From its own address the jail reaches the peer, which has no route back to it.
    let ping = host.exec(
        "svc",
        &["ping", "-c", "1", "-W", "2", "-I", "172.16.0.2", "10.1.1.2"],
    );
    assert!(
        ping.status.success(),
        "{}",
        String::from_utf8_lossy(&ping.stderr)
    );
    let mut server = serve(&host, "svc", "shared nat");
    assert_eq!(fetch_from(&peer, "10.1.1.1").as_deref(), Some("shared nat"));
    host.ok(["stop", "svc"]);
    server.wait();
    host.assert_clean(IDLE);
    assert!(!host.addresses("lo").contains(&"172.16.0.2/32".to_string()));
    assert_eq!(nat_entries(&host), "");
}

/// One try of `http://10.1.1.1:8080/` from the peer, three seconds at most.
fn reaches_forward_now(peer: &str) -> bool {
    ioc_tests::netns::in_netns(peer, "timeout")
        .args([
            "3",
            "busybox",
            "wget",
            "-q",
            "-O",
            "-",
            "http://10.1.1.1:8080/marker",
        ])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn a_host_port_in_use_is_a_warning_and_a_stop_closes_the_forward() {
    require_root!();
    let (host, peer) = host_with_uplink();
    // A host process on port 8080 of the sandbox host.
    let dir = host.dir().join("www-host");
    fs::create_dir_all(&dir).expect("create the host's directory");
    let mut listener = Background::spawn({
        let mut command = host.command("busybox");
        command
            .args(["httpd", "-f", "-p", "127.0.0.1:8080", "-h"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    create_nat(&host, "web", "tcp(80:8080)");
    let out = host.ioc(["start", "web"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("host port tcp 8080 is already bound"), "{err}");
    let mut server = serve(&host, "web", "forwarded");
    assert_eq!(fetch_from(&peer, "10.1.1.1").as_deref(), Some("forwarded"));
    host.ok(["stop", "web"]);
    server.wait();
    assert!(!reaches_forward_now(&peer), "the forward outlived the stop");
    listener.kill9();
    host.assert_clean(IDLE);
}

/// A python3 one-liner (busybox's nc here has no UDP): receive one datagram on `port` and
/// print it, or send `text` to `address:port`.
fn udp_script(receive: bool, address: &str, port: u16, text: &str) -> String {
    let open = "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)";
    if receive {
        format!("{open};s.bind(('0.0.0.0',{port}));print(s.recv(100).decode(),flush=True)")
    } else {
        format!("{open};s.sendto(b'{text}',('{address}',{port}))")
    }
}

#[test]
fn a_udp_forward_reaches_the_jail() {
    require_root!();
    if std::process::Command::new("python3")
        .arg("-c")
        .arg("pass")
        .output()
        .is_err()
    {
        eprintln!("skipped a_udp_forward_reaches_the_jail: needs python3 for UDP");
        return;
    }
    let (host, peer) = host_with_uplink();
    create_nat(&host, "dns", "udp(5353:53)");
    host.ok(["start", "dns"]);
    let out_file = host.dir().join("udp-received");
    let mut command = host.ioc_command();
    command
        .args(["exec", "dns", "--", "python3", "-c"])
        .arg(udp_script(true, "", 5353, ""))
        .stdout(fs::File::create(&out_file).expect("create the output file"))
        .stderr(Stdio::null());
    let mut listener = Background::spawn(command);
    let arrived = ioc_tests::netns::eventually(std::time::Duration::from_secs(10), || {
        let _ = ioc_tests::netns::in_netns(&peer, "python3")
            .arg("-c")
            .arg(udp_script(false, "10.1.1.1", 53, "over-udp"))
            .output();
        fs::read_to_string(&out_file).is_ok_and(|t| t.contains("over-udp"))
    });
    assert!(arrived, "the datagram never reached the jail");
    listener.wait();
    host.stop_and_check_clean("dns", IDLE);
}

/// A wide forwarded range (57,456 ports each way, shifted by 8,000) is one map element per
/// port: the start must fit them in its transaction (many messages, one datagram larger than
/// the default send buffer), the forward must answer, and the stop must take every one back.
#[test]
fn a_wide_forwarded_range_answers_and_leaves_nothing() {
    require_root!();
    let (host, peer) = host_with_uplink();
    create_nat(
        &host,
        "wide",
        "tcp(1-57456:8001-65456),udp(1-57456:8001-65456)",
    );
    host.ok(["start", "wide"]);
    let listed = nft(&host, &["list", "map", "ip", "ioc-nat", "forward_udp"]);
    assert_eq!(
        listed.matches("172.16.0.2 . ").count(),
        57456,
        "{}",
        &listed[..listed.len().min(400)]
    );
    let mut server = serve(&host, "wide", "wide range");
    // Host port 8080 is jail port 80 in the shifted range.
    assert_eq!(fetch_from(&peer, "10.1.1.1").as_deref(), Some("wide range"));
    host.ok(["stop", "wide"]);
    server.wait();
    host.assert_clean(IDLE);
    assert_eq!(nat_entries(&host), "");
}
