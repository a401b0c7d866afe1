//! CNI records in the journal (issue 13): a `CniAdd` with its `DEL` undo (the list as loaded),
//! the result that follows in its own record, reported addresses and DNS. Format 2 stays the
//! format: journals without these records read as before (`tests.rs`), and these read back
//! exactly, in a stable shape.

use std::net::Ipv4Addr;

use ioc_cni::NetworkList;
use ioc_sdk::{Cidr, CniAttachment, EnvVar, HostOp, Ip};
use serde_json::json;

use super::*;
use crate::cni::CniRun;

fn attachment() -> CniAttachment {
    CniAttachment {
        network: "jails".into(),
        conf_dir: "/etc/cni/net.d".into(),
        path: vec!["/opt/cni/bin".into(), "/usr/lib/cni".into()].into(),
        container_id: "ioc-web".into(),
        ifname: "eth0".into(),
        args: vec![EnvVar {
            key: "K".into(),
            value: "v".into(),
        }]
        .into(),
        runtime_config: r#"{"mac":"02:00:00:00:00:01"}"#.into(),
    }
}

fn run() -> CniRun {
    let list = NetworkList::parse(
        r#"{"cniVersion":"1.0.0","name":"jails","plugins":[{"type":"bridge","bridge":"cni0"}]}"#,
        "test",
    )
    .unwrap();
    CniRun::new(&attachment(), &list, "/run/ioc/jails/web/ns/net")
}

#[test]
fn a_cni_attachment_and_its_result_survive_the_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let mut journal = Journal::create(&path).unwrap();
    let add = HostOp::CniAdd {
        attachment: attachment(),
    };
    let index = journal
        .append(Record::Step {
            step: Step::Op(add),
            undo: Some(Undo::CniDel(Box::new(run()))),
        })
        .unwrap();
    let result = json!({"cniVersion": "1.0.0", "ips": [{"address": "10.22.0.5/16"}]});
    journal
        .append(Record::CniResult {
            index,
            result: result.clone(),
        })
        .unwrap();
    let reported = HostOp::ReportAddresses {
        link: "eth0".into(),
        addresses: vec![Cidr::new(Ip::from(Ipv4Addr::new(10, 22, 0, 5)), 16)].into(),
    };
    let dns = HostOp::SetJailDns {
        nameservers: vec![Ip::from(Ipv4Addr::new(10, 22, 0, 1))].into(),
        domain: "example".into(),
        search: vec!["example".into()].into(),
        options: Default::default(),
    };
    for op in [reported, dns] {
        journal
            .append(Record::Step {
                step: Step::Op(op),
                undo: None,
            })
            .unwrap();
    }
    let written = journal.records().to_vec();
    let read = Journal::read(&path).unwrap().unwrap();
    assert_eq!(read.records(), written);
    let undos = read.pending_undos();
    let [(at, Undo::CniDel(pending))] = undos.as_slice() else {
        panic!("expected one CNI undo, got {undos:?}");
    };
    assert_eq!(*at, index);
    assert_eq!(pending.result, Some(result));
    assert_eq!(pending.network_list().unwrap().name, "jails");
    // The result's own line, as later ioc versions must keep reading it.
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(
        text.lines().nth(2).unwrap(),
        r#"{"cni_result":{"index":0,"result":{"cniVersion":"1.0.0","ips":[{"address":"10.22.0.5/16"}]}}}"#
    );
}

#[test]
fn a_cni_undo_journaled_before_a_crash_has_no_result() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let mut journal = Journal::create(&path).unwrap();
    journal
        .append(Record::Step {
            step: Step::Op(HostOp::CniAdd {
                attachment: attachment(),
            }),
            undo: Some(Undo::CniDel(Box::new(run()))),
        })
        .unwrap();
    drop(journal);
    let journal = Journal::open(&path).unwrap().unwrap();
    let pending = journal.pending_undos();
    let [(_, Undo::CniDel(run))] = pending.as_slice() else {
        panic!("expected one CNI undo, got {pending:?}");
    };
    assert_eq!(run.result, None);
    assert_eq!(run.netns, "/run/ioc/jails/web/ns/net");
    assert_eq!(run.attachment, attachment());
}

#[test]
fn a_del_step_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let mut journal = Journal::create(&path).unwrap();
    let mut done = run();
    done.result = Some(json!({"cniVersion": "1.0.0"}));
    journal
        .append(Record::Step {
            step: Step::CniDel(Box::new(done)),
            undo: None,
        })
        .unwrap();
    let written = journal.records().to_vec();
    assert_eq!(Journal::read(&path).unwrap().unwrap().records(), written);
}
