//! `ioc import`: iocage's and libioc's configuration files (tests/fixtures/import, in the
//! formats those tools write), their quirks, a failing jail that writes nothing, existing
//! jails and `--replace`, and `--dry-run`.

use std::path::{Path, PathBuf};

use ioc_tests::Sandbox;

use crate::{assert_fails, get_all, stderr};

/// A fixture under tests/fixtures/import.
fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/import")
        .join(path)
}

/// Writes `text` as `<sandbox tmp>/src/<jail>/<file>` and returns the jail directory.
fn jail_dir(s: &Sandbox, jail: &str, file: &str, text: &str) -> PathBuf {
    let dir = s.root().parent().unwrap().join("src").join(jail);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(file), text).unwrap();
    dir
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn an_iocage_jails_directory_imports_all_but_the_failing_jail() {
    let s = Sandbox::new();
    let output = s.ioc(["import".as_ref(), fixture("iocage/jails").as_os_str()]);
    // broken/ fails: nothing of it is written, the others are, and the exit code says so.
    assert_fails(
        &output,
        1,
        "broken/config.json: ip4_addr=\"vnet0|10.23.42.300/24\": Invalid value for property \
         'ip4_addr' of jail broken: Invalid IPv4 address: 10.23.42.300",
    );
    let err = stderr(&output);
    assert!(
        err.contains("broken/config.json: priority=\"150\":"),
        "{err}"
    );
    assert!(
        err.contains("1 jail configuration(s) not imported"),
        "{err}"
    );
    assert!(!s.root().join("jails/broken").exists());
    let out = stdout(&output);
    for jail in ["db", "legacy", "thin", "www"] {
        assert!(out.contains(&format!("created jail {jail} from ")), "{out}");
    }

    let www = get_all(&s, "www");
    assert_eq!(www["vnet"], "on");
    assert_eq!(www["interfaces"], "vnet0:bridge0");
    assert_eq!(www["ip4_addr"], "vnet0|10.23.42.2/24");
    assert_eq!(www["defaultrouter"], "10.23.42.1");
    assert_eq!(www["defaultrouter6"], "none");
    assert_eq!(www["vnet0_mac"], "02:ff:60:e7:93:9d,02:ff:60:e7:93:9e");
    assert_eq!(www["boot"], "on");
    assert_eq!(www["priority"], "10");
    assert_eq!(www["depends"], "db");
    assert_eq!(www["allow_raw_sockets"], "1");
    assert_eq!(www["exec_poststart"], "logger -t iocage www started");
    assert_eq!(www["exec_start"], "none");
    // Only what differs from ioc's defaults is stored.
    let stored = std::fs::read_to_string(s.config_file("www")).unwrap();
    assert!(!stored.contains("ip4_saddrsel"), "{stored}");

    let db = get_all(&s, "db");
    assert_eq!(db["ip4_addr"], "vnet0|10.23.42.3/24");
    assert_eq!(db["defaultrouter"], "none");
    assert_eq!(db["resolver"], "nameserver 10.23.42.1;search example.org");
    assert!(out.contains(
        "not imported: defaultrouter=auto: auto (iocage looks up the host's default gateway"
    ));

    // The legacy file: named after its tag, `-` and `none` are no value.
    let legacy = get_all(&s, "legacy");
    assert_eq!(legacy["vnet"], "on");
    assert_eq!(legacy["ip4_addr"], "vnet0|10.23.42.9/24");
    assert_eq!(legacy["ip6_addr"], "none");
    assert_eq!(legacy["resolver"], "none");
    assert_eq!(legacy["user.notes"], "migrated from the old box");
}

#[test]
fn thin_configs_inherit_the_iocage_roots_defaults() {
    let s = Sandbox::new();
    // The fixture root's defaults.json has vnet=1 (`iocage set vnet=on default`); thin/ has
    // only its name, address and release, as iocage writes a thin jail.
    let out = s.ok(["import".as_ref(), fixture("iocage/jails/thin").as_os_str()]);
    assert!(
        out.contains("  set vnet=on  (from defaults.json: vnet=1)"),
        "{out}"
    );
    assert!(
        out.contains("  set interfaces=vnet0:bridge0  (from defaults.json: "),
        "{out}"
    );
    assert!(
        out.contains("  not imported: defaults.json: defaultrouter=auto: "),
        "{out}"
    );
    let thin = get_all(&s, "thin");
    assert_eq!(thin["vnet"], "on");
    assert_eq!(thin["ip4_addr"], "vnet0|10.23.42.7/24");

    // A bad inherited value is reported against defaults.json, and nothing is written.
    let root = s.root().parent().unwrap().join("iocroot");
    std::fs::create_dir_all(root.join("jails/t2")).unwrap();
    std::fs::write(root.join("defaults.json"), r#"{"priority": "100"}"#).unwrap();
    std::fs::write(
        root.join("jails/t2/config.json"),
        r#"{"host_hostuuid": "t2"}"#,
    )
    .unwrap();
    let output = s.ioc(["import".as_ref(), root.as_os_str()]);
    assert_fails(&output, 1, "iocroot/defaults.json: priority=\"100\": ");
    assert!(!s.root().join("jails/t2").exists());
}

#[test]
fn every_key_not_imported_gets_a_line_with_its_reason() {
    let s = Sandbox::new();
    let out = s.ok(["import".as_ref(), fixture("iocage/jails/www").as_os_str()]);
    for line in [
        "  set vnet=on  (from vnet=1)",
        "  set vnet0_mac=02:ff:60:e7:93:9d,02:ff:60:e7:93:9e  (from vnet0_mac=02ff60e7939d 02ff60e7939e)",
        "  not imported: host_hostuuid=www: the jail's name",
        "  not imported: release=13.2-RELEASE-p4: unknown to ioc",
        "  not imported: securelevel=2: unknown to ioc: a FreeBSD jail parameter",
        "  not imported: exec_prestart=/usr/bin/true: iocage's no-op default",
        "  not imported: exec_start=/bin/sh /etc/rc: iocage's default",
        "  not imported: ip4=new: ip4=new is what the jail gets anyway (ioc's default)",
        "  not imported: vnet1_mac=none: none: ioc generates the MACs",
    ] {
        assert!(out.contains(line), "{line:?} missing in:\n{out}");
    }
    // 69 keys in the file: one line each, set or not imported.
    let lines = out.lines().filter(|l| l.starts_with("  ")).count();
    assert_eq!(lines, 69, "{out}");
}

#[test]
fn dry_run_shows_the_jails_and_writes_nothing() {
    let s = Sandbox::new();
    let output = s.ioc([
        "import".as_ref(),
        "--dry-run".as_ref(),
        fixture("iocage/jails").as_os_str(),
        fixture("libioc/jails").as_os_str(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("would create jail www from "), "{out}");
    assert!(out.contains("would create jail web from "), "{out}");
    assert!(out.contains("  set user.team=ops"), "{out}");
    assert!(out.contains("  set vnet=on  (from vnet=yes)"), "{out}");
    assert!(stderr(&output).contains("broken/config.json: ip4_addr="));
    assert!(!s.root().exists(), "a dry run wrote the store");
    s.ok(["create", "www"]);
    let out = s.ok([
        "import".as_ref(),
        "-n".as_ref(),
        "--replace".as_ref(),
        fixture("iocage/jails/www").as_os_str(),
    ]);
    assert!(out.starts_with("would replace jail www from "), "{out}");
    assert!(get_all(&s, "www")["vnet"] == "off");
}

#[test]
fn existing_jails_are_refused_unless_replace() {
    let s = Sandbox::new();
    s.ok(["create", "www", "user.keep=1"]);
    let before = std::fs::read(s.config_file("www")).unwrap();
    let www = fixture("iocage/jails/www");
    let output = s.ioc(["import".as_ref(), www.as_os_str()]);
    assert_fails(
        &output,
        1,
        "www/config.json: jail 'www' already exists; `ioc import --replace` replaces",
    );
    assert_eq!(std::fs::read(s.config_file("www")).unwrap(), before);

    s.mark_running("www", 7);
    let output = s.ioc(["import".as_ref(), "--replace".as_ref(), www.as_os_str()]);
    assert_fails(&output, 1, "jail 'www' is running (JID 7)");
    assert_eq!(std::fs::read(s.config_file("www")).unwrap(), before);
    std::fs::remove_file(s.run_dir().join("jails/www/jid")).unwrap();

    let out = s.ok(["import".as_ref(), "--replace".as_ref(), www.as_os_str()]);
    assert!(out.starts_with("replaced jail www from "), "{out}");
    let all = get_all(&s, "www");
    assert_eq!(all["vnet"], "on");
    assert!(
        !all.contains_key("user.keep"),
        "the old configuration was kept: {all:?}"
    );
}

#[test]
fn quirks_of_the_written_formats() {
    let s = Sandbox::new();
    let numeric = jail_dir(
        &s,
        "a",
        "config.json",
        r#"{"host_hostuuid": "a", "vnet": 1}"#,
    );
    let word = jail_dir(
        &s,
        "b",
        "config.json",
        r#"{"host_hostuuid": "b", "vnet": "on", "ip4_addr": "10.0.0.2/24",
            "defaultrouter": "auto", "ip6_addr": "-", "ip4": "none", "dhcp": "0"}"#,
    );
    let dhcp = jail_dir(
        &s,
        "c",
        "config.json",
        r#"{"vnet": "yes", "dhcp": 1, "bpf": 1, "interfaces": "vnet0:bridge0"}"#,
    );
    let legacy = jail_dir(
        &s,
        "d",
        "config",
        "tag=\"d\";\nvnet = off;\nip4_addr = \"lo|10.9.9.9/32\";\ndefaultrouter = -;\n",
    );
    let out = s.ok([
        "import".as_ref(),
        numeric.as_os_str(),
        word.as_os_str(),
        dhcp.as_os_str(),
        legacy.as_os_str(),
    ]);
    assert_eq!(get_all(&s, "a")["vnet"], "on");
    assert_eq!(get_all(&s, "a")["interfaces"], "vnet0:bridge0");
    let b = get_all(&s, "b");
    assert_eq!(b["vnet"], "on");
    assert_eq!(b["ip4_addr"], "vnet0|10.0.0.2/24");
    assert_eq!(b["defaultrouter"], "none");
    assert_eq!(b["ip4"], "disable");
    assert!(out.contains("not imported: defaultrouter=auto:"), "{out}");
    // Named after its directory; DHCP as ioc writes it.
    assert_eq!(get_all(&s, "c")["ip4_addr"], "vnet0|dhcp");
    let d = get_all(&s, "d");
    assert_eq!(d["vnet"], "off");
    assert_eq!(d["ip4_addr"], "lo|10.9.9.9/32");
}

#[test]
fn unreadable_and_empty_paths_are_errors_and_the_rest_still_imports() {
    let s = Sandbox::new();
    let empty = s.root().parent().unwrap().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let garbage = jail_dir(&s, "g", "config.json", "{\"vnet\": ");
    let output = s.ioc([
        "import".as_ref(),
        empty.as_os_str(),
        garbage.as_os_str(),
        fixture("libioc/jails/web").as_os_str(),
    ]);
    assert_fails(&output, 1, "empty: no jail configuration here");
    let err = stderr(&output);
    assert!(
        err.contains("g/config.json: not a JSON jail configuration"),
        "{err}"
    );
    assert!(
        err.contains("2 jail configuration(s) not imported"),
        "{err}"
    );
    assert_eq!(get_all(&s, "web")["user.tier"], "front");
    let help = s.ok(["import", "--help"]);
    assert!(
        help.contains("Examples:") && help.contains("--dry-run"),
        "{help}"
    );
}
