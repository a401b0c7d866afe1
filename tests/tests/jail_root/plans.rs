//! `path` and `mounts` in the FreeBSD dry run (golden): jail(8)'s `path=` with libioc's
//! `mount.devfs`, `devfs_ruleset=4` and `exec.clean`, the mounts as nullfs, unmounted after
//! `jail -r`. No root needed, and nothing on disk is looked at or changed.

use ioc_tests::plans::plan_commands;
use ioc_tests::Sandbox;

const START: &str = "/usr/sbin/jail -c name=ioc-web jid=1 host.hostname=web \
    path=/usr/jails/web mount.devfs=1 devfs_ruleset=4 exec.clean=1 \
    \"mount=/srv/data /usr/jails/web/data nullfs ro 0 0\" \
    \"mount=/srv/logs /usr/jails/web/var/log nullfs rw 0 0\" \
    vnet=1 allow.raw_sockets=0 persist";

const STOP: [&str; 5] = [
    "/usr/sbin/jail -r ioc-web",
    "/sbin/umount -f /usr/jails/web/var/log",
    "/sbin/umount -f /usr/jails/web/data",
    "/sbin/umount /usr/jails/web/dev",
    "/sbin/ifconfig vnet0:1 destroy",
];

fn web(sandbox: &Sandbox, extra: &[&str]) {
    let mut args = vec![
        "create",
        "web",
        "vnet=on",
        "interfaces=vnet0:bridge0",
        "ip4_addr=vnet0|10.23.42.2/24",
    ];
    args.extend_from_slice(extra);
    sandbox.ok(args);
}

#[test]
fn path_and_mounts_in_the_freebsd_plan() {
    let sandbox = Sandbox::new();
    web(
        &sandbox,
        &[
            "path=/usr/jails/web",
            "mounts=/srv/data:/data:ro,/srv/logs:/var/log",
        ],
    );
    let start = sandbox.ok(["start", "--dry-run", "--platform", "freebsd", "web"]);
    assert_eq!(plan_commands(&start)[0], START, "{start}");
    let stop = sandbox.ok(["stop", "--dry-run", "--platform", "freebsd", "web"]);
    assert_eq!(plan_commands(&stop), STOP, "{stop}");
}

#[test]
fn without_a_path_the_freebsd_plan_is_unchanged() {
    let sandbox = Sandbox::new();
    web(&sandbox, &[]);
    let start = sandbox.ok(["start", "--dry-run", "--platform", "freebsd", "web"]);
    assert_eq!(
        plan_commands(&start)[0],
        "/usr/sbin/jail -c name=ioc-web jid=1 host.hostname=web path=/ vnet=1 \
         allow.raw_sockets=0 persist"
    );
    let stop = sandbox.ok(["stop", "--dry-run", "--platform", "freebsd", "web"]);
    assert_eq!(
        plan_commands(&stop),
        [
            "/usr/sbin/jail -r ioc-web",
            "/sbin/ifconfig vnet0:1 destroy"
        ]
    );
}

#[test]
fn the_linux_plan_shows_the_pid_namespace_and_the_pivot() {
    let sandbox = Sandbox::new();
    // No network to look up on this host: a shared-IP jail without addresses.
    sandbox.ok([
        "create",
        "web",
        "vnet=off",
        "path=/srv/jails/web",
        "mounts=/srv/data:/data:ro",
    ]);
    let start = sandbox.ok(["start", "--dry-run", "--platform", "linux", "web"]);
    let create = plan_commands(&start)
        .into_iter()
        .find(|c| c.starts_with("unshare"))
        .unwrap_or_else(|| panic!("no unshare in {start}"));
    for part in [
        "--pid=",
        "--fork",
        "mount -t proc",
        "mount --rbind -o ro /srv/data /srv/jails/web/data",
        "pivot_root . .",
    ] {
        assert!(create.contains(part), "{part} missing: {create}");
    }
}

/// `mounts` without a `path` is refused when written, naming the jail and the property.
#[test]
fn mounts_need_a_path() {
    let sandbox = Sandbox::new();
    let out = sandbox.ioc(["create", "web", "mounts=/srv/data:/data"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("property 'mounts' of jail 'web' needs a path"),
        "{err}"
    );
    sandbox.ok([
        "create",
        "web",
        "path=/srv/jails/web",
        "mounts=/srv/data:/data",
    ]);
    let out = sandbox.ioc(["set", "path=none", "web"]);
    assert!(!out.status.success());
}

/// ioc's DHCP client is the host's dhclient, which a jail's own root does not hold: refused
/// when written, before any start, with both ways out named; nothing is written.
#[test]
fn dhcp_on_a_jail_with_a_root_is_refused_when_written() {
    let sandbox = Sandbox::new();
    let out = sandbox.ioc([
        "create",
        "web",
        "vnet=on",
        "interfaces=vnet0:bridge0",
        "ip4_addr=vnet0|dhcp",
        "path=/srv/jails/web",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("property 'ip4_addr' of jail 'web'")
            && err.contains("vnet0|dhcp is not supported on a jail with its own root")
            && err.contains("set path=none"),
        "{err}"
    );
    assert!(!sandbox.ioc(["get", "all", "web"]).status.success());
}
