//! The CNI engine with script plugins (no root needed): the environment and stdin a plugin
//! gets, `prevResult` through the chain, version negotiation and its cache, errors with their
//! CNI code, rollback of a failed chain, the timeout that kills a hanging plugin's process
//! group, tolerant `DEL`, and `GC` (the script plugins stand in for a 1.1.0 plugin with `GC`:
//! Debian's plugins speak CNI up to 1.0.0 only).

mod cni_support;

use std::time::{Duration, Instant};

use cni_support::Sandbox;
use ioc_core::cni::versions::VersionCache;
use ioc_core::cni::{load, Engine, ProcessRunner};
use ioc_sdk::CniValid;
use serde_json::json;

fn engine(timeout: Duration) -> Engine {
    Engine::new(Box::new(ProcessRunner), VersionCache::in_memory(), timeout)
}

const V: &[&str] = &["0.4.0", "1.0.0"];

fn two_plugin_list(sb: &Sandbox) {
    sb.list(
        "jails",
        r#"{"cniVersion": "1.0.0", "name": "jails", "plugins": [
            {"type": "first", "bridge": "cni0"},
            {"type": "second", "capabilities": {"portMappings": true}}]}"#,
    );
}

/// List `one`: the plugin `first` alone.
fn one_plugin_list(sb: &Sandbox) {
    sb.list(
        "one",
        r#"{"cniVersion": "1.0.0", "name": "one", "plugins": [{"type": "first"}]}"#,
    );
}

#[test]
fn add_runs_the_chain_with_prev_result_and_only_cni_variables() {
    let sb = Sandbox::new();
    sb.passing_plugin("first", V, "10.9.0.5/24");
    sb.passing_plugin("second", V, "10.9.0.6/24");
    two_plugin_list(&sb);
    let mut att = sb.attachment("jails", &[]);
    att.runtime_config =
        r#"{"portMappings": [{"hostPort": 80}], "mac": "02:00:00:00:00:01"}"#.into();
    let list = load(&att).unwrap();
    let result = engine(Duration::from_secs(10))
        .add(&list, &att, "/run/ns/x")
        .unwrap();
    assert_eq!(result["ips"][0]["address"], "10.9.0.6/24");
    assert_eq!(
        sb.calls(),
        ["first VERSION", "second VERSION", "first ADD", "second ADD"]
    );
    let second = sb.stdin_of("second", "ADD");
    assert_eq!(second["prevResult"]["ips"][0]["address"], "10.9.0.5/24");
    assert_eq!(second["name"], "jails");
    assert_eq!(second["cniVersion"], "1.0.0");
    // Only the capabilities a plugin declares reach it.
    assert_eq!(
        second["runtimeConfig"],
        json!({"portMappings": [{"hostPort": 80}]})
    );
    assert!(sb.stdin_of("first", "ADD").get("runtimeConfig").is_none());
    assert!(sb.stdin_of("first", "ADD").get("prevResult").is_none());
    let bin = sb.bin().display().to_string();
    assert_eq!(
        sb.env_of("first", "ADD"),
        [
            "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=x".to_string(),
            "CNI_COMMAND=ADD".into(),
            "CNI_CONTAINERID=ioc-test1".into(),
            "CNI_IFNAME=eth0".into(),
            "CNI_NETNS=/run/ns/x".into(),
            format!("CNI_PATH={bin}"),
            format!("PATH={}", ioc_core::cni::call::PLUGIN_PATH),
        ]
    );
}

#[test]
fn versions_are_negotiated_once_per_binary() {
    let sb = Sandbox::new();
    sb.passing_plugin("first", V, "10.9.0.5/24");
    sb.passing_plugin("second", V, "10.9.0.6/24");
    two_plugin_list(&sb);
    let att = sb.attachment("jails", &[]);
    let list = load(&att).unwrap();
    let mut engine = engine(Duration::from_secs(10));
    engine.add(&list, &att, "/x").unwrap();
    engine.add(&list, &att, "/x").unwrap();
    let versions = sb.calls().iter().filter(|c| c.ends_with("VERSION")).count();
    assert_eq!(versions, 2, "{:?}", sb.calls());
    // The cache file of the runtime dir serves the next command too.
    let cache = sb.path().join("versions.json");
    let mut a = Engine::new(
        Box::new(ProcessRunner),
        VersionCache::persistent(cache.clone()),
        Duration::from_secs(10),
    );
    a.negotiate(&list, &[sb.bin().display().to_string()])
        .unwrap();
    let mut b = Engine::new(
        Box::new(ProcessRunner),
        VersionCache::persistent(cache),
        Duration::from_secs(10),
    );
    b.negotiate(&list, &[sb.bin().display().to_string()])
        .unwrap();
    let versions = sb.calls().iter().filter(|c| c.ends_with("VERSION")).count();
    assert_eq!(versions, 4, "{:?}", sb.calls());
}

#[test]
fn a_plugin_without_the_lists_version_is_refused_before_anything_runs() {
    let sb = Sandbox::new();
    sb.passing_plugin("first", V, "10.9.0.5/24");
    sb.passing_plugin("second", &["0.3.0", "0.3.1"], "10.9.0.6/24");
    two_plugin_list(&sb);
    let att = sb.attachment("jails", &[]);
    let err = engine(Duration::from_secs(10))
        .add(&load(&att).unwrap(), &att, "/x")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "CNI plugin second (network jails) does not support the list's version 1.0.0: it \
         supports 0.3.0, 0.3.1; ioc supports 0.4.0, 1.0.0, 1.1.0"
    );
    assert!(!sb.calls().iter().any(|c| c.ends_with("ADD")));
    assert!(err.rolled_back(), "nothing ran, so nothing is left");
}

#[test]
fn a_failing_second_plugin_is_reported_with_its_code_and_the_chain_deleted() {
    let sb = Sandbox::new();
    sb.passing_plugin("first", V, "10.9.0.5/24");
    sb.plugin(
        "second",
        V,
        r#"if [ "$CNI_COMMAND" = ADD ]; then
  echo '{"cniVersion":"1.0.0","code":7,"msg":"bad subnet"}'
  exit 1
fi
exit 0"#,
    );
    two_plugin_list(&sb);
    let att = sb.attachment("jails", &[]);
    let err = engine(Duration::from_secs(10))
        .add(&load(&att).unwrap(), &att, "/x")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "CNI plugin second (network jails): CNI error 7 (invalid network configuration): bad subnet"
    );
    assert!(err.rolled_back());
    assert_eq!(
        sb.calls()[2..],
        ["first ADD", "second ADD", "second DEL", "first DEL"]
    );
    // The DEL gets the last result known.
    assert_eq!(
        sb.stdin_of("first", "DEL")["prevResult"]["ips"][0]["address"],
        "10.9.0.5/24"
    );
}

#[test]
fn a_hanging_plugin_is_killed_with_its_process_group_and_the_chain_rolled_back() {
    let sb = Sandbox::new();
    sb.passing_plugin("first", V, "10.9.0.5/24");
    let pidfile = sb.path().join("helper.pid");
    sb.plugin(
        "second",
        V,
        &format!(
            r#"if [ "$CNI_COMMAND" = ADD ]; then
  sleep 60 &
  echo $! > {}
  wait
fi
exit 0"#,
            pidfile.display()
        ),
    );
    two_plugin_list(&sb);
    let att = sb.attachment("jails", &[]);
    let started = Instant::now();
    let err = engine(Duration::from_millis(500))
        .add(&load(&att).unwrap(), &att, "/x")
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        err.to_string()
            .contains("second (network jails): ADD: did not finish within 0.5 s"),
        "{err}"
    );
    assert!(err.rolled_back(), "{err}");
    let helper: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Killed with the group (a zombie until reaped by its dead parent's reaper at worst).
    std::thread::sleep(Duration::from_millis(100));
    let state = std::fs::read_to_string(format!("/proc/{helper}/stat")).unwrap_or_default();
    assert!(
        state.is_empty() || state.split_whitespace().nth(2) == Some("Z"),
        "the plugin's helper still runs: {state}"
    );
    assert_eq!(sb.calls()[4..], ["second DEL", "first DEL"]);
}

#[test]
fn del_goes_on_past_a_failing_plugin_and_reports_it() {
    let sb = Sandbox::new();
    sb.passing_plugin("first", V, "10.9.0.5/24");
    sb.plugin(
        "second",
        V,
        r#"if [ "$CNI_COMMAND" = DEL ]; then echo 'oops' >&2; exit 3; fi
exit 0"#,
    );
    two_plugin_list(&sb);
    let att = sb.attachment("jails", &[]);
    let err = engine(Duration::from_secs(10))
        .del(&load(&att).unwrap(), &att, "", None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "CNI plugin second (network jails): DEL: exited with status 3: oops"
    );
    assert_eq!(sb.calls(), ["second DEL", "first DEL"]);
    assert_eq!(
        sb.env_of("first", "DEL")
            .iter()
            .find(|v| v.starts_with("CNI_NETNS="))
            .map(String::as_str),
        Some("CNI_NETNS=")
    );
}

#[test]
fn gc_names_the_valid_attachments_on_1_1_0_lists_only() {
    let sb = Sandbox::new();
    let v11 = &["1.0.0", "1.1.0"];
    sb.passing_plugin("first", v11, "10.9.0.5/24");
    sb.list(
        "new",
        r#"{"cniVersion": "1.1.0", "name": "new", "plugins": [{"type": "first"}]}"#,
    );
    sb.list(
        "old",
        r#"{"cniVersion": "1.0.0", "name": "old", "plugins": [{"type": "first"}]}"#,
    );
    let valid = [CniValid {
        container_id: "ioc-a".into(),
        ifname: "eth0".into(),
    }];
    let mut engine = engine(Duration::from_secs(10));
    let old = sb.attachment("old", &[]);
    engine.gc(&load(&old).unwrap(), &old, &valid).unwrap();
    assert!(sb.calls().is_empty(), "{:?}", sb.calls());
    let new = sb.attachment("new", &[]);
    engine.gc(&load(&new).unwrap(), &new, &valid).unwrap();
    assert_eq!(sb.calls(), ["first VERSION", "first GC"]);
    assert_eq!(
        sb.stdin_of("first", "GC")["cni.dev/valid-attachments"],
        json!([{"containerID": "ioc-a", "ifname": "eth0"}])
    );
    assert!(!sb
        .env_of("first", "GC")
        .iter()
        .any(|v| v.starts_with("CNI_CONTAINERID")));
}

#[test]
fn a_missing_plugin_and_a_missing_list_are_named() {
    let sb = Sandbox::new();
    two_plugin_list(&sb);
    let att = sb.attachment("jails", &[]);
    let err = engine(Duration::from_secs(10))
        .add(&load(&att).unwrap(), &att, "/x")
        .unwrap_err();
    assert!(err.rolled_back(), "nothing ran, so nothing is left");
    assert!(err
        .to_string()
        .starts_with("CNI plugin first (network jails): not found in"));
    let err = load(&sb.attachment("nope", &[])).unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn a_replaced_binary_is_asked_its_versions_again() {
    let sb = Sandbox::new();
    sb.passing_plugin("first", V, "10.9.0.5/24");
    one_plugin_list(&sb);
    let att = sb.attachment("one", &[]);
    let list = load(&att).unwrap();
    let mut engine = engine(Duration::from_secs(10));
    let path = [sb.bin().display().to_string()];
    engine.negotiate(&list, &path).unwrap();
    engine.negotiate(&list, &path).unwrap();
    // A new version of the plugin (another size): asked again, and now it refuses 1.0.0.
    sb.passing_plugin("first", &["0.4.0"], "10.9.0.55/24");
    let err = engine.negotiate(&list, &path).unwrap_err();
    assert!(err.to_string().contains("it supports 0.4.0;"), "{err}");
    let versions = sb.calls().iter().filter(|c| c.ends_with("VERSION")).count();
    assert_eq!(versions, 2, "{:?}", sb.calls());
}

/// A binary replaced by one of the same size with its old mtime put back (`cp -p`,
/// `install -p`) is still asked again: the cache also keys on the inode and change time.
#[test]
fn a_replaced_binary_with_the_same_size_and_mtime_is_asked_again() {
    let sb = Sandbox::new();
    sb.passing_plugin("first", V, "10.9.0.5/24");
    one_plugin_list(&sb);
    let att = sb.attachment("one", &[]);
    let list = load(&att).unwrap();
    let path = [sb.bin().display().to_string()];
    let cache = sb.path().join("versions.json");
    let persistent = || {
        Engine::new(
            Box::new(ProcessRunner),
            VersionCache::persistent(cache.clone()),
            Duration::from_secs(10),
        )
    };
    persistent().negotiate(&list, &path).unwrap();
    persistent().negotiate(&list, &path).unwrap();
    let plugin = sb.bin().join("first");
    let old = std::fs::metadata(&plugin).unwrap();
    // Same length ("1.0.0" for "0.4.0"), written to a new file renamed into place, old mtime.
    let text = std::fs::read_to_string(&plugin).unwrap();
    let replaced = text.replace(r#"["0.4.0","1.0.0"]"#, r#"["0.4.0","0.4.0"]"#);
    assert_eq!(replaced.len(), text.len());
    let next = sb.bin().join("first.new");
    std::fs::write(&next, replaced).unwrap();
    std::fs::set_permissions(&next, old.permissions()).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&next)
        .unwrap()
        .set_modified(old.modified().unwrap())
        .unwrap();
    std::fs::rename(&next, &plugin).unwrap();
    let err = persistent().negotiate(&list, &path).unwrap_err();
    assert!(
        err.to_string().contains("it supports 0.4.0, 0.4.0;"),
        "{err}"
    );
    let versions = sb.calls().iter().filter(|c| c.ends_with("VERSION")).count();
    assert_eq!(versions, 2, "{:?}", sb.calls());
}

#[test]
fn oversized_output_and_garbage_are_errors_naming_the_plugin() {
    let sb = Sandbox::new();
    sb.plugin(
        "loud",
        V,
        "[ \"$CNI_COMMAND\" = ADD ] && head -c 3000000 /dev/zero | tr '\\0' x\nexit 0",
    );
    sb.plugin("garbage", V, "echo 'not json'\nexit 0");
    sb.plugin("killed", V, "kill -9 $$");
    let mut engine = engine(Duration::from_secs(10));
    for (plugin, expected) in [
        (
            "loud",
            "ADD: printed more than 1048576 bytes on stdout and was killed",
        ),
        ("garbage", "ADD: printed no JSON"),
        ("killed", "ADD: was killed by a signal"),
    ] {
        sb.list(
            plugin,
            &format!(
                r#"{{"cniVersion": "1.0.0", "name": "{plugin}", "plugins": [{{"type": "{plugin}"}}]}}"#
            ),
        );
        let att = sb.attachment(plugin, &[]);
        let err = engine.add(&load(&att).unwrap(), &att, "/x").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "CNI plugin {plugin} (network {plugin}): {expected}"
            )),
            "{text}"
        );
    }
}

#[cfg(target_os = "linux")]
mod journaled_add {
    use super::*;
    use ioc_core::cni::journaled;
    use ioc_core::host::linux::LinuxHost;
    use ioc_core::journal::{Journal, Record};
    use ioc_core::lifecycle::{Faults, Session};
    use ioc_core::runtime::RunDir;
    use ioc_core::step::{JailParams, Undo};
    use ioc_sdk::{HostOp, HostReply, Jail, Network, NetworkSpec, Platform};

    fn session(sb: &Sandbox) -> Session {
        let journal = Journal::create(&sb.path().join("journal")).unwrap();
        let jail = Jail::new(
            "j1",
            1,
            Platform::Linux,
            Network::from(NetworkSpec::default()),
            "none",
            Vec::<(String, String)>::new(),
        );
        Session::new(jail, JailParams::unknown("j1"), journal, Faults::none())
    }

    #[test]
    fn the_list_is_journaled_before_add_and_the_result_after() {
        let sb = Sandbox::new();
        sb.passing_plugin("first", V, "10.9.0.5/24");
        sb.passing_plugin("second", V, "10.9.0.6/24");
        two_plugin_list(&sb);
        let att = sb.attachment("jails", &[]);
        let mut host = LinuxHost::new(&RunDir::new(sb.path().join("run")));
        let mut s = session(&sb);
        let op = HostOp::CniAdd {
            attachment: att.clone(),
        };
        let reply = journaled::add(&mut host, &mut s, &op, &att).unwrap();
        let HostReply::Text(result) = reply else {
            panic!("{reply:?}");
        };
        assert!(result.contains("10.9.0.6/24"));
        assert!(matches!(
            s.journal.records().last(),
            Some(Record::CniResult { index: 0, .. })
        ));
        let pending = s.journal.pending_undos();
        let [(_, Undo::CniDel(run))] = pending.as_slice() else {
            panic!("{pending:?}");
        };
        assert_eq!(
            run.result.as_ref().unwrap()["ips"][0]["address"],
            "10.9.0.6/24"
        );
        assert_eq!(
            run.netns,
            sb.path().join("run/jails/j1/ns/net").display().to_string()
        );
    }

    #[test]
    fn a_rolled_back_add_leaves_no_undo() {
        let sb = Sandbox::new();
        sb.passing_plugin("first", V, "10.9.0.5/24");
        sb.plugin("second", V, "[ \"$CNI_COMMAND\" = ADD ] && exit 1\nexit 0");
        two_plugin_list(&sb);
        let att = sb.attachment("jails", &[]);
        let mut host = LinuxHost::new(&RunDir::new(sb.path().join("run")));
        let mut s = session(&sb);
        let op = HostOp::CniAdd {
            attachment: att.clone(),
        };
        let err = journaled::add(&mut host, &mut s, &op, &att).unwrap_err();
        assert_eq!(
            err.message.as_str(),
            "CNI plugin second (network jails): ADD: exited with status 1"
        );
        assert!(s.journal.pending_undos().is_empty());
    }
}

#[test]
fn an_attachment_breaking_cni_args_is_refused() {
    let sb = Sandbox::new();
    two_plugin_list(&sb);
    let mut att = sb.attachment("jails", &[]);
    att.args = vec![ioc_sdk::EnvVar {
        key: "A".into(),
        value: "1;B=2".into(),
    }]
    .into();
    let err = load(&att).unwrap_err();
    assert_eq!(
        err.to_string(),
        "CNI attachment (network jails, interface eth0): CNI_ARGS pair \"A\"=\"1;B=2\": expected \
         a non-empty key without '=' or ';' and a value without ';'"
    );
}

#[test]
fn a_helper_left_holding_stdout_does_not_hold_up_the_chain() {
    let sb = Sandbox::new();
    let pidfile = sb.path().join("helper.pid");
    sb.plugin(
        "first",
        V,
        &format!(
            r#"if [ "$CNI_COMMAND" = ADD ]; then
  sleep 60 &
  echo $! > {}
  echo '{{"cniVersion":"1.0.0","ips":[{{"address":"10.9.0.5/24"}}]}}'
fi
exit 0"#,
            pidfile.display()
        ),
    );
    one_plugin_list(&sb);
    let att = sb.attachment("one", &[]);
    let started = Instant::now();
    let result = engine(Duration::from_secs(20))
        .add(&load(&att).unwrap(), &att, "/x")
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(result["ips"][0]["address"], "10.9.0.5/24");
    let helper = std::fs::read_to_string(&pidfile).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let state =
        std::fs::read_to_string(format!("/proc/{}/stat", helper.trim())).unwrap_or_default();
    assert!(
        state.is_empty() || state.split_whitespace().nth(2) == Some("Z"),
        "the helper still runs: {state}"
    );
}

/// A command reads a list once (the check of a start and its `ADD` use the same), and still
/// checks each attachment's own values on every use.
#[test]
fn a_list_is_read_once_per_engine_and_each_attachment_still_checked() {
    let sb = Sandbox::new();
    one_plugin_list(&sb);
    let att = sb.attachment("one", &[]);
    let mut command = engine(Duration::from_secs(10));
    let first = command.list(&att).unwrap();
    std::fs::remove_file(sb.conf().join("one.conflist")).unwrap();
    assert!(load(&att).is_err());
    assert_eq!(command.list(&att).unwrap(), first);
    let mut bad = att.clone();
    bad.ifname = "no/slash".into();
    assert!(command.list(&bad).is_err());
    // Another engine (the next command) reads the directory again.
    assert!(engine(Duration::from_secs(10)).list(&att).is_err());
}
