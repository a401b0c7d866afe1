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

#[test]
fn a_backend_without_nat_is_refused_naming_one_that_has_it() {
    let s = Sandbox::new();
    s.ok([
        "create",
        "web",
        "vnet=on",
        "nat=on",
        "nat_interface=em0",
        "nat_backend=ipfw",
    ]);
    let out = s.ioc(["start", "--dry-run", "--platform", "freebsd", "web"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("NAT is not supported by the firewall backend ipfw")
            && err.contains("pf on FreeBSD"),
        "{err}"
    );
}
