//! The backend's requests to the host: learner first, the removal registered, one commit (a
//! second replacing a leftover), the bridge; removal; readiness.

use super::*;

fn jail() -> ioc_sdk::Jail {
    JailBuilder::new("myjail").platform(Platform::Linux).build()
}

/// A host on which no table of ioc exists yet.
fn fresh_host() -> RecordingHost {
    RecordingHost::new()
}

#[test]
fn a_static_port_is_committed_then_joins_its_bridge() {
    let mut host = fresh_host();
    let p = policy(&["10.23.42.2"], STATIC);
    Nftables.install(&jail(), &p, &mut host.host()).unwrap();
    // The removal is registered before the table exists, so a stop (or a crash's cleanup)
    // deletes it from the journal, without this plugin.
    assert_eq!(
        host.ops()[..2],
        [
            HostOp::RegisterUndo {
                action: UndoAction::NftCommit {
                    batch: remove("vnet0.5").unwrap()
                }
            },
            HostOp::NftCommit {
                batch: install("vnet0.5", &Whitelist::new(&p, None), false).unwrap()
            }
        ]
    );
    assert_eq!(
        host.names(),
        ["register-undo", "nft-commit", "add-bridge-members"]
    );
    host.clear();
    Nftables
        .remove(&jail(), &policy(&["10.23.42.2"], STATIC), &mut host.host())
        .unwrap();
    assert_eq!(
        host.ops(),
        [HostOp::NftCommit {
            batch: remove("vnet0.5").unwrap()
        }]
    );
}

#[test]
fn a_learning_port_starts_its_learner_first_and_logs_to_it() {
    let learning = PortLearning {
        dhcp4: true,
        slaac: true,
        dhcp_server: false,
    };
    let mut host = fresh_host().with_reply("learn-addresses", HostReply::Number(Some(42).into()));
    let p = policy(&[], learning);
    Nftables.install(&jail(), &p, &mut host.host()).unwrap();
    assert_eq!(
        host.names(),
        [
            "learn-addresses",
            "register-undo",
            "nft-commit",
            "add-bridge-members"
        ]
    );
    let ops = host.ops();
    assert_eq!(
        ops[0],
        HostOp::LearnAddresses {
            port: "vnet0.5".into(),
            mac: MAC.parse().unwrap(),
            dhcp4: true,
            slaac: true,
            sink: LearnSink::NftSets {
                family: NftFamily::Netdev,
                table: "ioc-vnet0.5".into(),
                set4: "lease4".into(),
                set6: "slaac6".into(),
            },
        }
    );
    assert_eq!(
        ops[2],
        HostOp::NftCommit {
            batch: install("vnet0.5", &Whitelist::new(&p, Some(42)), false).unwrap()
        }
    );
    let HostOp::NftCommit { batch } = &ops[2] else {
        unreachable!()
    };
    assert_eq!(
        batch_chain(batch, "to")
            .iter()
            .filter(|r| r.ends_with("log group 42 accept"))
            .count(),
        6
    );
}

#[test]
fn a_learning_port_without_a_log_group_is_refused_before_any_rule() {
    let mut host = RecordingHost::new().with_reply("learn-addresses", HostReply::Done);
    let err = Nftables
        .install(&jail(), &policy(&[], DHCP), &mut host.host())
        .unwrap_err();
    assert!(err.to_string().contains("no log group"), "{err}");
    assert_eq!(host.names(), ["learn-addresses"]);
}

#[test]
fn readiness_asks_the_kernel_one_question_and_names_what_is_missing() {
    let mut host = RecordingHost::validating();
    Nftables.check_ready(&jail(), &mut host.host()).unwrap();
    assert_eq!(host.ops(), [HostOp::NftReady]);
    let mut host = RecordingHost::validating().fail_on(
        "nft-ready",
        HostErrorKind::Other,
        "Protocol not supported",
    );
    let err = Nftables.check_ready(&jail(), &mut host.host()).unwrap_err();
    assert!(err.to_string().contains("CONFIG_NF_TABLES_NETDEV"), "{err}");
    let freebsd = JailBuilder::new("myjail")
        .platform(Platform::FreeBsd)
        .build();
    assert!(Nftables
        .check_ready(&freebsd, &mut RecordingHost::validating().host())
        .is_err());
    let _ = layout::FAMILY;
}

#[test]
fn a_kernel_without_log_support_is_named_when_a_learning_port_fails() {
    let mut host = fresh_host()
        .with_reply("learn-addresses", HostReply::Number(Some(3).into()))
        .fail_on(
            "nft-commit",
            HostErrorKind::NotFound,
            "No such file or directory",
        );
    let err = Nftables
        .install(&jail(), &policy(&[], DHCP), &mut host.host())
        .unwrap_err();
    assert!(err.to_string().contains("CONFIG_NFT_LOG"), "{err}");
    assert_eq!(
        host.names(),
        ["learn-addresses", "register-undo", "nft-commit"]
    );
}

#[test]
fn a_leftover_table_is_replaced_in_a_second_commit() {
    let p = policy(&["10.23.42.2"], STATIC);
    let fresh = install("vnet0.5", &Whitelist::new(&p, None), false).unwrap();
    let replacing = install("vnet0.5", &Whitelist::new(&p, None), true).unwrap();
    // The kernel refuses the exclusive create of a table that exists, changing nothing.
    let creates = fresh.clone();
    let mut host = RecordingHost::new().fail_when(
        move |op| matches!(op, HostOp::NftCommit { batch } if *batch == creates),
        ioc_sdk::HostError::new(HostErrorKind::AlreadyExists, "File exists"),
    );
    Nftables.install(&jail(), &p, &mut host.host()).unwrap();
    assert_eq!(
        host.ops_named("nft-commit"),
        [
            HostOp::NftCommit { batch: fresh },
            HostOp::NftCommit { batch: replacing }
        ]
    );
    assert_eq!(
        host.names(),
        [
            "register-undo",
            "nft-commit",
            "nft-commit",
            "add-bridge-members"
        ]
    );
    // Any other refusal is the start's error, with nothing replaced.
    let mut host =
        RecordingHost::new().fail_on("nft-commit", HostErrorKind::PermissionDenied, "no");
    assert!(Nftables.install(&jail(), &p, &mut host.host()).is_err());
    assert_eq!(host.ops_named("nft-commit").len(), 1);
}
