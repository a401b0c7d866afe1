//! FreeBSD dry runs of the worked example with pf as the NAT backend: rendered exactly, no
//! root needed.

use ioc_tests::Sandbox;

const START: &str = r#"# web (JID 1, freebsd)
/usr/sbin/jail -c name=ioc-web jid=1 host.hostname=web path=/ vnet=1 allow.raw_sockets=0 persist
/sbin/ifconfig epair create up
/sbin/ifconfig epair0a description "NAT pair of jail: web" name vnet0:1 up
/sbin/ifconfig epair0b name vnet0:1:j up
/sbin/ifconfig vnet0:1 inet 172.16.0.1/30 alias
/sbin/ifconfig vnet0:1:j vnet ioc-web
/usr/sbin/jexec ioc-web /sbin/ifconfig vnet0:1:j name vnet0
/usr/sbin/jexec ioc-web /sbin/ifconfig vnet0 inet 172.16.0.2/30
/usr/sbin/jexec ioc-web /sbin/ifconfig lo0 localhost
/usr/sbin/jexec ioc-web /sbin/route -q add default 172.16.0.1
/sbin/sysctl net.inet.ip.forwarding=1
printf '%s\n' 'nat on "em0" inet from 172.16.0.0/30 to any -> ("em0")' 'rdr pass on "em0" inet proto tcp from any to ("em0") port 8080 -> 172.16.0.2 port 80' | /sbin/pfctl -a ioc-nat/web -f -
"#;

const STOP: &str = r#"# web (JID 1, freebsd)
/usr/sbin/jail -r ioc-web
/sbin/pfctl -a ioc-nat/web -F all
/sbin/sysctl net.inet.ip.forwarding=0
/sbin/ifconfig vnet0:1 inet 172.16.0.1/30 remove
/sbin/ifconfig vnet0:1 destroy
"#;

#[test]
fn the_worked_example_with_pf_renders_nat_and_rdr_in_its_anchor() {
    let s = Sandbox::new();
    s.ok([
        "create",
        "web",
        "vnet=on",
        "nat=on",
        "nat_interface=em0",
        "nat_backend=pf",
        "nat_forwards=tcp(80:8080)",
    ]);
    assert_eq!(
        s.ok(["start", "--dry-run", "--platform", "freebsd", "web"]),
        START
    );
    assert_eq!(
        s.ok(["stop", "--dry-run", "--platform", "freebsd", "web"]),
        STOP
    );
}

const IPFW_NAT: &str = r#"/sbin/sysctl net.inet.ip.forwarding=1
/sbin/ipfw -q nat 1 config if em0 same_ports reset port_range 40000-40249 redirect_port tcp 172.16.0.2:80 8080
/sbin/ipfw -q add 20001 nat 1 ip4 from 172.16.0.0/30 to any out via em0
/sbin/ipfw -q add 20001 nat 1 tcp from any to me 8080 in via em0
/sbin/ipfw -q add 20001 nat 1 tcp from any to me 40000-40249 in via em0
/sbin/ipfw -q add 20001 nat 1 udp from any to me 40000-40249 in via em0
"#;

const IPFW_STOP: &str = r#"# web (JID 1, freebsd)
/usr/sbin/jail -r ioc-web
/sbin/ipfw -q delete 20001
/sbin/ipfw -q nat 1 delete
/sbin/sysctl net.inet.ip.forwarding=0
/sbin/ifconfig vnet0:1 inet 172.16.0.1/30 remove
/sbin/ifconfig vnet0:1 destroy
"#;

#[test]
fn the_worked_example_with_ipfw_renders_an_in_kernel_nat_instance_numbered_by_the_jid() {
    let s = Sandbox::new();
    s.ok([
        "create",
        "web",
        "vnet=on",
        "nat=on",
        "nat_interface=em0",
        "nat_backend=ipfw",
        "nat_forwards=tcp(80:8080)",
    ]);
    let start = s.ok(["start", "--dry-run", "--platform", "freebsd", "web"]);
    // The pair and routes are as with pf; the NAT part differs.
    let pf_pair_end = START.find("/sbin/sysctl").unwrap();
    assert_eq!(&start[..pf_pair_end], &START[..pf_pair_end]);
    assert_eq!(&start[pf_pair_end..], IPFW_NAT);
    assert_eq!(
        s.ok(["stop", "--dry-run", "--platform", "freebsd", "web"]),
        IPFW_STOP
    );
}

#[test]
fn a_shared_ip_nat_jail_for_freebsd_has_its_address_in_ip4_addr_and_on_lo0() {
    let s = Sandbox::new();
    s.ok([
        "create",
        "svc",
        "vnet=off",
        "nat=on",
        "nat_interface=em0",
        "nat_backend=pf",
        "ip4_addr=lo0|172.16.0.6",
    ]);
    let start = s.ok(["start", "--dry-run", "--platform", "freebsd", "svc"]);
    assert!(start.contains(" ip4=1 ip4.addr=172.16.0.6 "), "{start}");
    assert!(
        start.contains("/sbin/ifconfig lo0 inet 172.16.0.6/32 alias\n"),
        "{start}"
    );
    assert!(
        start.contains("'nat on \"em0\" inet from 172.16.0.4/30 to any -> (\"em0\")'"),
        "{start}"
    );
}

#[test]
fn a_nat_backend_that_is_missing_or_foreign_fails_before_anything_changes() {
    let s = Sandbox::new();
    s.ok([
        "create",
        "web",
        "vnet=on",
        "nat=on",
        "nat_interface=em0",
        "nat_backend=nftables",
    ]);
    let out = s.ioc(["start", "--dry-run", "--platform", "freebsd", "web"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("property 'nat_backend': firewall plugin 'nftables' does not support freebsd"),
        "{err}"
    );
    s.ok(["set", "nat_backend=nosuch", "web"]);
    let out = s.ioc(["start", "--dry-run", "--platform", "freebsd", "web"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("nosuch"), "{err}");
    assert!(out.stdout.is_empty(), "a plan was printed: {err}");
}
