//! Tests of the FreeBSD learner's logic: captured frames in, table commands out (to a fake).

use std::net::Ipv4Addr;

use super::*;
use crate::learner::dhcp::build as dhcp;
use crate::learner::frame::build::{ethernet, icmp6, udp4};
use crate::learner::freebsd_sink::fake::Recorder;
use crate::learner::ra::build as ra;

const MAC: Mac = Mac([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
const T4: &str = "/sbin/ipfw -q table ioc-5-vnet0-lease4";
const T6: &str = "/sbin/ipfw -q table ioc-5-vnet0-slaac6";

fn learner(dhcp4: bool, slaac: bool) -> Learner<Recorder> {
    let config = BsdConfig {
        port: "vnet0:5".into(),
        mac: MAC,
        dhcp4,
        slaac,
        sink: LearnSink::IpfwTables {
            table4: "ioc-5-vnet0-lease4".into(),
            table6: "ioc-5-vnet0-slaac6".into(),
        },
    };
    Learner::new(config, Recorder::default()).unwrap()
}

fn lines(l: &Learner<Recorder>) -> Vec<String> {
    l.tables().runner().lines.clone()
}

/// A DHCP message in a frame from the server's MAC (or, `from_jail`, the jail's).
fn dhcp_frame(message: &[u8], ports: (u16, u16), from_jail: bool) -> Vec<u8> {
    let packet = udp4(
        Ipv4Addr::new(192, 0, 2, 1),
        Ipv4Addr::BROADCAST,
        ports,
        message,
    );
    let mut frame = ethernet(&packet, 0x0800, false);
    if from_jail {
        frame[6..12].copy_from_slice(&MAC.0);
    }
    frame
}

fn ack(address: &str, lease: u32) -> Vec<u8> {
    dhcp_frame(
        &dhcp::ack(MAC, address.parse().unwrap(), lease),
        (67, 68),
        false,
    )
}

fn release(address: &str) -> Vec<u8> {
    let m = dhcp::message(
        1,
        MAC,
        address.parse().unwrap(),
        Ipv4Addr::UNSPECIFIED,
        &[53, 1, 7],
    );
    dhcp_frame(&m, (68, 67), true)
}

fn ra_frame(valid: u32) -> Vec<u8> {
    let body = ra::ra(&[ra::pio("2001:db8:1::".parse().unwrap(), 64, 0xc0, valid)]);
    let packet = icmp6(
        "fe80::1".parse().unwrap(),
        "ff02::1".parse().unwrap(),
        255,
        &body,
    );
    ethernet(&packet, 0x86dd, false)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn a_lease_seen_toward_the_jail_is_added_expired_and_removed_at_exit() {
    use Direction::*;
    let now = Instant::now();
    let mut l = learner(true, true);
    l.frame(TowardJail, &ack("192.0.2.50", 60), now);
    l.frame(TowardJail, &ra_frame(600), now);
    assert_eq!(
        lines(&l),
        [
            format!("{T4} add 192.0.2.50"),
            format!("{T6} add 2001:db8:1:0:11:22ff:fe33:4455"),
        ]
    );
    assert_eq!(l.wait(now), secs(1));
    assert_eq!(
        l.wait(now + secs(59) + Duration::from_millis(500)),
        Duration::from_millis(500)
    );
    l.tick(now + secs(61));
    assert_eq!(lines(&l)[2], format!("{T4} delete 192.0.2.50"));
    l.finish();
    assert_eq!(
        lines(&l)[3..],
        [format!("{T6} delete 2001:db8:1:0:11:22ff:fe33:4455")]
    );
    l.finish();
    assert_eq!(lines(&l).len(), 4);
}

#[test]
fn nothing_that_grants_is_learned_from_the_jail() {
    use Direction::*;
    let now = Instant::now();
    let mut l = learner(true, true);
    // What the jail sends, even shaped as a server's reply or a router's RA.
    let mut forged_ack = ack("192.0.2.66", 60);
    forged_ack[6..12].copy_from_slice(&MAC.0);
    l.frame(FromJail, &forged_ack, now);
    let mut forged_ra = ra_frame(600);
    forged_ra[6..12].copy_from_slice(&MAC.0);
    l.frame(FromJail, &forged_ra, now);
    // A jail forging the server's MAC: seen from the jail, so still not learned.
    l.frame(FromJail, &ack("192.0.2.67", 60), now);
    l.frame(FromJail, &ra_frame(600), now);
    // Toward the jail but from its own MAC: not a reply anyone sent it.
    l.frame(TowardJail, &forged_ack, now);
    // A release toward the jail is nobody's release.
    let mut reflected = release("192.0.2.50");
    reflected[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 9]);
    l.frame(TowardJail, &reflected, now);
    assert!(lines(&l).is_empty(), "{:?}", lines(&l));
}

#[test]
fn release_nak_and_a_new_address_replace_the_lease() {
    use Direction::*;
    let now = Instant::now();
    let mut l = learner(true, false);
    l.frame(TowardJail, &ack("192.0.2.50", 60), now);
    // A renewal only postpones the expiry.
    l.frame(TowardJail, &ack("192.0.2.50", 60), now + secs(30));
    l.frame(TowardJail, &ack("192.0.2.51", 60), now + secs(31));
    l.frame(FromJail, &release("192.0.2.50"), now + secs(32));
    l.frame(FromJail, &release("192.0.2.51"), now + secs(33));
    l.frame(TowardJail, &ack("192.0.2.52", 60), now + secs(34));
    let nak = dhcp::message(
        2,
        MAC,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &[53, 1, 6],
    );
    l.frame(
        TowardJail,
        &dhcp_frame(&nak, (67, 68), false),
        now + secs(35),
    );
    // SLAAC is off: an RA changes nothing.
    l.frame(TowardJail, &ra_frame(600), now + secs(36));
    assert_eq!(
        lines(&l),
        [
            format!("{T4} add 192.0.2.50"),
            format!("{T4} delete 192.0.2.50"),
            format!("{T4} add 192.0.2.51"),
            format!("{T4} delete 192.0.2.51"),
            format!("{T4} add 192.0.2.52"),
            format!("{T4} delete 192.0.2.52"),
        ]
    );
}

#[test]
fn a_failed_add_is_retried_by_the_next_grant_and_not_deleted_at_exit() {
    use Direction::*;
    let now = Instant::now();
    let mut l = learner(true, false);
    l.tables.runner_mut().failing = vec![format!("{T4} add 192.0.2.50")];
    l.frame(TowardJail, &ack("192.0.2.50", 60), now);
    l.tables.runner_mut().failing.clear();
    l.frame(TowardJail, &ack("192.0.2.50", 60), now + secs(1));
    l.finish();
    assert_eq!(
        lines(&l),
        [
            format!("{T4} add 192.0.2.50"),
            format!("{T4} add 192.0.2.50"),
            format!("{T4} delete 192.0.2.50"),
        ]
    );
}

#[test]
fn pf_tables_get_pfctl_lines() {
    let config = BsdConfig {
        port: "vnet0:5".into(),
        mac: MAC,
        dhcp4: false,
        slaac: true,
        sink: LearnSink::PfTables {
            anchor: "ioc/myjail:vnet0".into(),
            table4: "lease4".into(),
            table6: "slaac6".into(),
        },
    };
    let mut l = Learner::new(config, Recorder::default()).unwrap();
    l.frame(Direction::TowardJail, &ra_frame(600), Instant::now());
    l.frame(Direction::TowardJail, &ra_frame(0), Instant::now());
    assert_eq!(
        lines(&l),
        [
            "/sbin/pfctl -a ioc/myjail:vnet0 -t slaac6 -T add 2001:db8:1:0:11:22ff:fe33:4455",
            "/sbin/pfctl -a ioc/myjail:vnet0 -t slaac6 -T delete 2001:db8:1:0:11:22ff:fe33:4455",
        ]
    );
}

#[test]
fn frames_walked_from_a_bpf_buffer_reach_the_tables() {
    use crate::learner::bpf::{records, Layout};
    let layout = Layout::LP64;
    let mut buffer = Vec::new();
    for frame in [ack("192.0.2.50", 60), ra_frame(600)] {
        // As FreeBSD's kernel writes a record for an Ethernet frame on LP64: a 26-byte header.
        let start = buffer.len();
        buffer.extend_from_slice(&[0; 16]);
        buffer.extend_from_slice(&(frame.len() as u32).to_ne_bytes());
        buffer.extend_from_slice(&(frame.len() as u32).to_ne_bytes());
        buffer.extend_from_slice(&26u16.to_ne_bytes());
        buffer.extend_from_slice(&frame);
        let end = start + layout.word_align(buffer.len() - start).unwrap();
        buffer.resize(end, 0);
    }
    let mut l = learner(true, true);
    let now = Instant::now();
    for frame in records(&buffer, layout) {
        l.frame(Direction::TowardJail, frame, now);
    }
    assert_eq!(
        lines(&l),
        [
            format!("{T4} add 192.0.2.50"),
            format!("{T6} add 2001:db8:1:0:11:22ff:fe33:4455"),
        ]
    );
}
