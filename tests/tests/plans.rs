//! Dry runs (issue 5): `ioc start|stop --dry-run` against the reference's command sequences for
//! FreeBSD, and against what the Linux host really did, as root and as an unprivileged user.
// The sandbox harness is Linux-only (namespaces); the FreeBSD build skips these tests.
#![cfg(target_os = "linux")]

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::process::Command;

use ioc_core::runtime::RunDir;
use ioc_sdk::Platform;
use ioc_tests::netns::{seed_host, HostNs};
use ioc_tests::plans::{
    give_to_nobody, plan_commands, plan_headers, render_journal, seed_shared_ip_commands,
    seed_vnet_commands, Part, Unprivileged,
};
use ioc_tests::plugins::set_mode;
use ioc_tests::state::Tree;
use ioc_tests::{require_root, Sandbox};
use serde_json::Value;

/// shared/reference/freebsd-behaviour.md, "Host commands on start, VNET mode (seed scenario,
/// JID 5)", after the jail is created: the epair, its MACs, MTU and names, the bridge, the
/// move, the rename inside the jail, the address, lo0 and the default route.
const REFERENCE_VNET_START: [&str; 9] = [
    "/sbin/ifconfig epair create up",
    "/sbin/ifconfig epair0a link 02:ff:60:e7:93:9d mtu 1500 description \"associated with jail: jail-a\" name vnet0:5 up",
    "/sbin/ifconfig epair0b link 02:ff:60:e7:93:9e mtu 1500 name vnet0:5:j up",
    "/sbin/ifconfig bridge0 addm vnet0:5 up",
    "/sbin/ifconfig vnet0:5:j vnet ioc-jail-a",
    "/usr/sbin/jexec ioc-jail-a /sbin/ifconfig vnet0:5:j name vnet0",
    "/usr/sbin/jexec ioc-jail-a /sbin/ifconfig vnet0 inet 10.23.42.2/24",
    "/usr/sbin/jexec ioc-jail-a /sbin/ifconfig lo0 localhost",
    "/usr/sbin/jexec ioc-jail-a /sbin/route -q add default 10.23.42.1",
];

/// The reference's stop: the jail is removed, then the host end of the epair destroyed
/// (which takes the jail end with it).
const REFERENCE_VNET_STOP: [&str; 2] = [
    "/usr/sbin/jail -r ioc-jail-a",
    "/sbin/ifconfig vnet0:5 destroy",
];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `command ARGS...`, asserts success and returns stdout.
fn ok(mut command: Command, args: &[&str]) -> String {
    let out = command
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run ioc: {e}"));
    assert!(
        out.status.success(),
        "ioc {args:?} failed ({:?}): {}",
        out.status.code(),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The arguments of a `jail -c` line (none of them is quoted in a plan).
fn jail_create_args(line: &str) -> Vec<&str> {
    let args: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        args[..2],
        ["/usr/sbin/jail", "-c"],
        "not a jail creation: {line}"
    );
    args
}

/// Prepares the seed's VNET jails in a state root and four other jails holding JIDs 1 to 4 in
/// the run dir, so jail-a's plan gets JID 5 as in the reference. The JIDs are claimed with
/// ioc's own runtime code, so the test follows however the run dir records them.
fn seed_with_four_running(sandbox: &Sandbox) {
    for args in seed_vnet_commands() {
        sandbox.ok(args);
    }
    let run = RunDir::new(sandbox.run_dir());
    for n in 1..=4 {
        let jid = run
            .allocate(&format!("other-{n}"), &[])
            .expect("claim a JID in the run dir");
        assert_eq!(jid, n);
    }
}

/// The FreeBSD plans of the seed's jail-a against the reference, with `ioc` run by `ioc`
/// (as root or not), and proof that nothing on disk changed.
fn check_seed_freebsd_plans(ioc: &dyn Fn() -> Command, sandbox: &Sandbox) {
    let config = Tree::of(&sandbox.root());
    let runtime = Tree::of(&sandbox.run_dir());

    let start = ok(
        ioc(),
        &["start", "--dry-run", "--platform", "freebsd", "jail-a"],
    );
    assert_eq!(
        plan_headers(&start),
        ["# jail-a (JID 5, freebsd)"],
        "{start}"
    );
    let commands = plan_commands(&start);
    let args = jail_create_args(&commands[0]);
    for wanted in [
        "name=ioc-jail-a",
        "jid=5",
        "host.hostname=jail-a",
        "vnet=1",
        "persist",
    ] {
        assert!(args.contains(&wanted), "{wanted} missing: {}", commands[0]);
    }
    assert!(
        !args
            .iter()
            .any(|a| a.starts_with("ip4.addr") || a.starts_with("ip6.addr")),
        "a VNET jail gets no ip4.addr/ip6.addr: {}",
        commands[0]
    );
    assert_eq!(commands[1..], REFERENCE_VNET_START, "{start}");

    let stop = ok(
        ioc(),
        &["stop", "--dry-run", "--platform", "freebsd", "jail-a"],
    );
    assert_eq!(plan_headers(&stop), ["# jail-a (JID 5, freebsd)"], "{stop}");
    assert_eq!(plan_commands(&stop), REFERENCE_VNET_STOP, "{stop}");

    config.assert_unchanged(&sandbox.root(), "the config root");
    runtime.assert_unchanged(&sandbox.run_dir(), "the runtime dir");
}

/// The seed's VNET scenario rendered for FreeBSD is the reference's command sequence, for
/// start and stop, and the dry run changes nothing on disk.
#[test]
fn seed_vnet_plan_for_freebsd_equals_the_reference() {
    let sandbox = Sandbox::new();
    seed_with_four_running(&sandbox);
    check_seed_freebsd_plans(&|| sandbox.command(), &sandbox);
}

/// `--output-format json` gives the same plan as data: one object per jail with its JID and
/// platform, each command an argv array (arguments with spaces kept whole).
#[test]
fn seed_vnet_plan_as_json_has_argv_arrays() {
    let sandbox = Sandbox::new();
    seed_with_four_running(&sandbox);
    let plan_json = |kind: &str| -> Value {
        let out = sandbox.ok([
            kind,
            "--dry-run",
            "--platform",
            "freebsd",
            "--output-format",
            "json",
            "jail-a",
        ]);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{kind} plan JSON ({e}): {out}"))
    };
    let argvs = |plan: &Value| -> Vec<Vec<String>> {
        let plans = plan.as_array().expect("an array of plans");
        assert_eq!(plans.len(), 1, "{plan}");
        assert_eq!(plans[0]["jail"], "jail-a");
        assert_eq!(plans[0]["jid"], 5);
        assert_eq!(plans[0]["platform"], "freebsd");
        plans[0]["commands"]
            .as_array()
            .expect("commands")
            .iter()
            .map(|c| {
                assert_eq!(c.get("stdin"), None, "no input: {c}");
                c["argv"]
                    .as_array()
                    .expect("argv is an array")
                    .iter()
                    .map(|a| a.as_str().expect("string arguments").to_string())
                    .collect()
            })
            .collect()
    };

    let start = argvs(&plan_json("start"));
    assert_eq!(start.len(), 1 + REFERENCE_VNET_START.len());
    assert_eq!(start[0][..2], ["/usr/sbin/jail", "-c"]);
    assert!(start[0].contains(&"vnet=1".to_string()), "{:?}", start[0]);
    assert_eq!(start[1], ["/sbin/ifconfig", "epair", "create", "up"]);
    assert_eq!(
        start[2],
        [
            "/sbin/ifconfig",
            "epair0a",
            "link",
            "02:ff:60:e7:93:9d",
            "mtu",
            "1500",
            "description",
            "associated with jail: jail-a",
            "name",
            "vnet0:5",
            "up"
        ]
    );
    assert_eq!(
        start[9],
        [
            "/usr/sbin/jexec",
            "ioc-jail-a",
            "/sbin/route",
            "-q",
            "add",
            "default",
            "10.23.42.1"
        ]
    );
    let stop = argvs(&plan_json("stop"));
    assert_eq!(
        stop,
        [
            vec!["/usr/sbin/jail", "-r", "ioc-jail-a"],
            vec!["/sbin/ifconfig", "vnet0:5", "destroy"]
        ]
    );
}

/// The seed's shared-IP jail for FreeBSD: `ip4.addr` without prefix and kernel values in
/// `jail -c`, the host alias after creation; on stop the jail goes, then the alias.
#[test]
fn seed_shared_ip_plan_for_freebsd_equals_the_reference() {
    let sandbox = Sandbox::new();
    for args in seed_shared_ip_commands() {
        sandbox.ok(args);
    }
    let plan =
        |kind: &str| sandbox.ok([kind, "--dry-run", "--platform", "freebsd", "non-vnet-jail"]);
    let start = plan("start");
    assert_eq!(plan_headers(&start), ["# non-vnet-jail (JID 1, freebsd)"]);
    let commands = plan_commands(&start);
    assert_eq!(commands.len(), 2, "{start}");
    let args = jail_create_args(&commands[0]);
    let params = args.join(" ");
    assert!(
        params.contains(" ip4=1 ip4.addr=10.1.1.10 ip4.saddrsel=1 "),
        "kernel values, the address without prefix: {params}"
    );
    for wanted in [
        "name=ioc-non-vnet-jail",
        "host.hostname=non-vnet-jail",
        "persist",
    ] {
        assert!(args.contains(&wanted), "{wanted} missing: {params}");
    }
    assert!(!args.contains(&"vnet=1"), "not a VNET jail: {params}");
    assert_eq!(commands[1], "/sbin/ifconfig em0 inet 10.1.1.10/24 alias");

    assert_eq!(
        plan_commands(&plan("stop")),
        [
            "/usr/sbin/jail -r ioc-non-vnet-jail",
            "/sbin/ifconfig em0 inet 10.1.1.10/24 remove"
        ]
    );
}

/// A shared-IP jail with two IPv4 addresses and one IPv6 address for FreeBSD: every address
/// without prefix in its family's `ip4.addr` / `ip6.addr` list, an alias per address (`inet6`
/// for IPv6) in written order, removed in reverse on stop; and no route, since a default
/// router applies to VNET jails only.
#[test]
fn shared_ip_plan_with_both_families_for_freebsd() {
    let sandbox = Sandbox::new();
    sandbox.ok([
        "create",
        "non-vnet-jail",
        "vnet=off",
        "ip4_addr=em0|10.1.1.10/24,em0|10.1.1.11/24",
        "ip6_addr=em0|fd00:10::10/64",
        "defaultrouter=10.1.1.1",
        "defaultrouter6=fd00:10::1",
    ]);
    let plan =
        |kind: &str| sandbox.ok([kind, "--dry-run", "--platform", "freebsd", "non-vnet-jail"]);
    let start = plan("start");
    let commands = plan_commands(&start);
    let params = jail_create_args(&commands[0]).join(" ");
    assert!(
        params.contains(
            " ip4=1 ip4.addr=10.1.1.10,10.1.1.11 ip4.saddrsel=1 \
             ip6=1 ip6.addr=fd00:10::10 ip6.saddrsel=1 "
        ),
        "{params}"
    );
    assert_eq!(
        commands[1..],
        [
            "/sbin/ifconfig em0 inet 10.1.1.10/24 alias",
            "/sbin/ifconfig em0 inet 10.1.1.11/24 alias",
            "/sbin/ifconfig em0 inet6 fd00:10::10/64 alias",
        ],
        "{start}"
    );
    assert_eq!(
        plan_commands(&plan("stop")),
        [
            "/usr/sbin/jail -r ioc-non-vnet-jail",
            "/sbin/ifconfig em0 inet6 fd00:10::10/64 remove",
            "/sbin/ifconfig em0 inet 10.1.1.11/24 remove",
            "/sbin/ifconfig em0 inet 10.1.1.10/24 remove",
        ]
    );
}

/// Plans for several jails agree with each other: the start plan hands out JIDs (and epair
/// units) in start order, and the stop plan of the same jails, which goes in reverse, shows
/// each jail with the JID its start plan gave it.
#[test]
fn start_and_stop_plans_of_several_jails_agree_on_their_jids() {
    let sandbox = Sandbox::new();
    for args in seed_vnet_commands() {
        sandbox.ok(args);
    }
    let plan =
        |kind: &str| sandbox.ok([kind, "--dry-run", "--platform", "freebsd", "jail-a,jail-b"]);
    let start = plan("start");
    assert_eq!(
        plan_headers(&start),
        ["# jail-a (JID 1, freebsd)", "# jail-b (JID 2, freebsd)"]
    );
    assert!(
        start.contains("/sbin/ifconfig epair1a link 02:ff:60:24:c4:b0 mtu 1500 description \"associated with jail: jail-b\" name vnet0:2 up"),
        "jail-b gets the second epair and its reference MAC: {start}"
    );
    let stop = plan("stop");
    assert_eq!(
        plan_headers(&stop),
        ["# jail-b (JID 2, freebsd)", "# jail-a (JID 1, freebsd)"]
    );
    assert_eq!(
        plan_commands(&stop),
        [
            "/usr/sbin/jail -r ioc-jail-b",
            "/sbin/ifconfig vnet0:2 destroy",
            "/usr/sbin/jail -r ioc-jail-a",
            "/sbin/ifconfig vnet0:1 destroy"
        ]
    );
}

/// Makes a sandbox's state the property of `nobody`, as if that user had made it.
fn hand_to_nobody(sandbox: &Sandbox) {
    let dir = sandbox.root();
    let dir = dir.parent().expect("the sandbox directory");
    set_mode(dir, 0o755);
    std::fs::create_dir_all(sandbox.run_dir()).expect("create the runtime dir");
    give_to_nobody(&sandbox.root());
    give_to_nobody(&sandbox.run_dir());
}

/// A dry run needs no root: user `nobody`, with a state root of its own, gets the same
/// FreeBSD plans (and changes nothing), while a real start is refused for want of root.
#[test]
fn a_freebsd_dry_run_needs_no_root() {
    require_root!();
    let sandbox = Sandbox::new();
    seed_with_four_running(&sandbox);
    hand_to_nobody(&sandbox);
    let nobody = Unprivileged::new();
    let as_nobody = || {
        let mut command = nobody.command();
        command
            .env("IOC_ROOT", sandbox.root())
            .env("IOC_RUN_DIR", sandbox.run_dir());
        command
    };
    check_seed_freebsd_plans(&as_nobody, &sandbox);

    let out = as_nobody()
        .args(["start", "jail-a"])
        .output()
        .expect("run ioc");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("needs root"),
        "{}",
        text(&out.stderr)
    );
}

/// The Linux plan of the seed's jail-a, made as `nobody` inside the sandbox namespace (where
/// the live bridge is read for its MTU), equals root's, and neither changes anything on disk.
#[test]
fn a_linux_dry_run_needs_no_root() {
    require_root!();
    let host = seed_host();
    for args in seed_vnet_commands() {
        host.ok(args);
    }
    let sandbox = host.sandbox();
    hand_to_nobody(sandbox);
    let config = Tree::of(&sandbox.root());
    let runtime = Tree::of(&sandbox.run_dir());

    let as_root = host.ok(["start", "--dry-run", "jail-a"]);
    let nobody = Unprivileged::new();
    let mut command = nobody.command_in_netns(host.name());
    command
        .env("IOC_ROOT", sandbox.root())
        .env("IOC_RUN_DIR", sandbox.run_dir());
    let as_nobody = ok(command, &["start", "--dry-run", "jail-a"]);
    assert_eq!(as_nobody, as_root);
    assert_eq!(plan_headers(&as_root), ["# jail-a (JID 1, linux)"]);
    assert!(
        as_root.contains("ip link set vnet0.1 master bridge0"),
        "the pair goes onto the live bridge: {as_root}"
    );

    config.assert_unchanged(&sandbox.root(), "the config root");
    runtime.assert_unchanged(&sandbox.run_dir(), "the runtime dir");
    host.assert_clean(&["lo", "bridge0"]);
}

/// Reads the whole of a file through a handle opened earlier, even after the file was
/// deleted: the inode lives as long as the handle.
fn read_through(handle: &mut File) -> String {
    let mut text = String::new();
    handle.seek(SeekFrom::Start(0)).expect("seek the journal");
    handle.read_to_string(&mut text).expect("read the journal");
    text
}

fn journal_path(host: &HostNs, jail: &str) -> PathBuf {
    host.sandbox()
        .run_dir()
        .join("jails")
        .join(jail)
        .join("journal")
}

/// Plans, starts and stops `jail` (JID 1) for real, and asserts that its journal (every
/// change, recorded before it was made) rendered the way a plan is rendered equals the plan
/// line for line, for the start and for the stop. Returns both plans' commands.
///
/// A complete stop deletes the journal, so the journal is opened before the stop and the
/// stop's records read through that handle afterwards (ioc appends to the same file and only
/// unlinks it at the end).
fn assert_plans_match_the_run(host: &HostNs, jail: &str) -> (Vec<String>, Vec<String>) {
    let run_dir = host.sandbox().run_dir();
    let header = format!("# {jail} (JID 1, linux)");

    let planned = host.ok(["start", "--dry-run", jail]);
    assert_eq!(plan_headers(&planned), std::slice::from_ref(&header));
    host.ok(["start", jail]);
    let journal = journal_path(host, jail);
    let mut handle = File::open(&journal).expect("a running jail has a journal");
    let started = render_journal(
        &read_through(&mut handle),
        &run_dir,
        Platform::Linux,
        Part::Start,
    );
    assert_eq!(started, plan_commands(&planned), "start: journal vs plan");

    // Starting it again would do nothing, and the plan says so.
    let again = host.ok(["start", "--dry-run", jail]);
    assert_eq!(again, format!("{header}\n"), "a running jail's start plan");

    let planned_stop = host.ok(["stop", "--dry-run", jail]);
    assert_eq!(plan_headers(&planned_stop), [header]);
    host.ok(["stop", jail]);
    assert!(!journal.exists(), "a complete stop deletes the journal");
    let stopped = render_journal(
        &read_through(&mut handle),
        &run_dir,
        Platform::Linux,
        Part::Stop,
    );
    assert!(!stopped.is_empty(), "the stop journaled its steps");
    assert_eq!(
        stopped,
        plan_commands(&planned_stop),
        "stop: journal vs plan"
    );
    (plan_commands(&planned), stopped)
}

/// The Linux plan is what the Linux host really does, for the seed's jail-a.
#[test]
fn a_linux_plan_equals_what_the_real_run_journaled() {
    require_root!();
    let host = seed_host();
    for args in seed_vnet_commands() {
        host.ok(args);
    }
    assert_plans_match_the_run(&host, "jail-a");
    host.assert_clean(&["lo", "bridge0"]);
}

/// The same for a shared-IP jail on a host whose `em0` already holds one of the jail's
/// addresses: the plan, like the run, adds and removes only the others.
#[test]
fn a_linux_shared_ip_plan_equals_what_the_real_run_journaled() {
    require_root!();
    let mut host = HostNs::new();
    host.add_uplink("em0", &["10.1.1.1/24", "10.1.1.12/24"], &["10.1.1.2/24"]);
    host.ok([
        "create",
        "non-vnet-jail",
        "vnet=off",
        "ip4_addr=em0|10.1.1.10/24,em0|10.1.1.12/24",
        "ip6_addr=em0|fd00:10::10/64",
    ]);
    let (start, stop) = assert_plans_match_the_run(&host, "non-vnet-jail");
    let aliases: Vec<&String> = start.iter().filter(|c| c.starts_with("ip addr")).collect();
    assert_eq!(
        aliases,
        [
            "ip addr add 10.1.1.10/24 broadcast + dev em0",
            "ip addr add fd00:10::10/64 dev em0",
        ],
        "{start:#?}"
    );
    let removed: Vec<&String> = stop.iter().filter(|c| c.starts_with("ip addr")).collect();
    assert_eq!(
        removed,
        [
            "ip addr del fd00:10::10/64 dev em0",
            "ip addr del 10.1.1.10/24 dev em0",
        ],
        "{stop:#?}"
    );
    host.assert_clean(&["lo", "em0"]);
}
