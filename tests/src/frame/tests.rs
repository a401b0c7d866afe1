//! The frames against the RFCs' layouts and checksums, and round trips through `describe`.

use super::*;

fn mac(s: &str) -> Mac {
    s.parse().unwrap()
}

fn ether() -> Ether {
    Ether {
        src: mac("02:ff:60:cb:49:49"),
        dst: BROADCAST,
        vlan: None,
    }
}

#[test]
fn checksum_matches_rfc1071_example_and_verifies_to_zero() {
    // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (checksum 220d).
    assert_eq!(
        checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
        0x220d
    );
    // Odd length: the last byte is padded with zero.
    assert_eq!(checksum(&[0xff]), !0xff00);
}

#[test]
fn ipv4_header_checksum_is_the_one_the_kernel_computes() {
    // 10.23.42.2 -> 10.23.42.1, 84 bytes, id 0, DF, TTL 64: checksum 0xd278, worked out
    // independently of this code (the sum of the other words is 0x2d87).
    let p = ipv4(
        "10.23.42.2".parse().unwrap(),
        "10.23.42.1".parse().unwrap(),
        PROTO_ICMP,
        &[0; 64],
    );
    assert_eq!(
        &p[..12],
        &[0x45, 0, 0, 84, 0, 0, 0x40, 0, 64, 1, 0xd2, 0x78]
    );
    assert_eq!(
        checksum(&p[..20]),
        0,
        "a header with its checksum sums to zero"
    );
}

#[test]
fn icmp_and_icmpv6_checksums_verify() {
    let p = Packet::Icmp4Echo {
        src: "10.23.42.2".parse().unwrap(),
        dst: "10.23.42.3".parse().unwrap(),
        tag: "hello".into(),
    }
    .bytes();
    assert_eq!(checksum(&p[20..]), 0);

    let (src, dst): (Ipv6Addr, Ipv6Addr) = (
        "fe80::ff:60ff:fecb:4949".parse().unwrap(),
        "ff02::1".parse().unwrap(),
    );
    for packet in [
        Packet::Icmp6Echo {
            src,
            dst,
            tag: "odd".into(),
        },
        Packet::NeighborAdvert {
            src,
            dst,
            target: src,
            flags: NaFlags::default(),
            tll: Some(mac("02:00:00:00:00:01")),
        },
    ] {
        let p = packet.bytes();
        let mut pseudo = p[8..40].to_vec();
        pseudo.extend_from_slice(&((p.len() - 40) as u32).to_be_bytes());
        pseudo.extend_from_slice(&[0, 0, 0, PROTO_ICMPV6]);
        pseudo.extend_from_slice(&p[40..]);
        assert_eq!(checksum(&pseudo), 0, "{packet:?}");
    }
}

#[test]
fn neighbour_advertisement_has_the_rfc_layout() {
    let target: Ipv6Addr = "fd00:23::5".parse().unwrap();
    let p = Packet::NeighborAdvert {
        src: "fd00:23::2".parse().unwrap(),
        dst: "ff02::1".parse().unwrap(),
        target,
        flags: NaFlags {
            override_: true,
            ..NaFlags::default()
        },
        tll: Some(mac("02:aa:00:00:00:05")),
    };
    let b = p.bytes();
    assert_eq!(b[6], PROTO_ICMPV6);
    assert_eq!(b[7], 255, "hop limit");
    assert_eq!(u16::from_be_bytes([b[4], b[5]]), 32, "payload length");
    assert_eq!(&b[40..41], &[136]);
    assert_eq!(b[44], 0x20, "override flag");
    assert_eq!(&b[48..64], &target.octets());
    assert_eq!(&b[64..72], &[2, 1, 0x02, 0xaa, 0, 0, 0, 5]);
    assert_eq!(p.default_dst_mac(), mac("33:33:00:00:00:01"));
}

#[test]
fn frames_are_padded_and_tagged() {
    let arp = Packet::Arp {
        op: ArpOp::Request,
        sender_mac: mac("02:ff:60:cb:49:49"),
        sender_ip: "10.23.42.2".parse().unwrap(),
        target_mac: Mac([0; 6]),
        target_ip: "10.23.42.2".parse().unwrap(),
    };
    let f = frame(&ether(), &arp);
    assert_eq!(f.len(), 60);
    assert_eq!(&f[12..14], &[0x08, 0x06]);
    let tagged = frame(
        &Ether {
            vlan: Some(Vlan::dot1q(42)),
            ..ether()
        },
        &arp,
    );
    assert_eq!(&tagged[12..18], &[0x81, 0x00, 0, 42, 0x08, 0x06]);
    let outer = Vlan {
        tpid: ETHERTYPE_QINQ,
        id: 7,
    };
    let qinq = frame(
        &Ether {
            vlan: Some(outer),
            ..ether()
        },
        &arp,
    );
    assert_eq!(&qinq[12..18], &[0x88, 0xa8, 0, 7, 0x08, 0x06]);
    assert!(describe(&qinq, None).contains(" 802.1ad 7 arp request"));
}

#[test]
fn descriptions_round_trip_what_was_built() {
    let e = ether();
    let cases = [
        (
            Packet::Icmp4Echo {
                src: "10.23.42.9".parse().unwrap(),
                dst: "10.23.42.3".parse().unwrap(),
                tag: "spoof-v4".into(),
            },
            "02:ff:60:cb:49:49 > ff:ff:ff:ff:ff:ff ip 10.23.42.9 > 10.23.42.3 icmp echo-request tag=spoof-v4",
        ),
        (
            Packet::Udp {
                src: "fd00::9".parse().unwrap(),
                dst: "fd00::3".parse().unwrap(),
                sport: 4000,
                dport: 5000,
                tag: "u6".into(),
            },
            "ip6 fd00::9 > fd00::3 udp 4000 > 5000 tag=u6",
        ),
        (
            Packet::Arp {
                op: ArpOp::Reply,
                sender_mac: mac("02:ff:60:cb:49:49"),
                sender_ip: "10.23.42.5".parse().unwrap(),
                target_mac: mac("02:00:00:00:00:03"),
                target_ip: "10.23.42.3".parse().unwrap(),
            },
            "arp reply 10.23.42.5 is-at 02:ff:60:cb:49:49 to 10.23.42.3 at 02:00:00:00:00:03",
        ),
        (
            Packet::NeighborSolicit {
                src: "::".parse().unwrap(),
                dst: "ff02::1:ff00:5".parse().unwrap(),
                target: "fd00::5".parse().unwrap(),
                sll: None,
            },
            "ip6 :: > ff02::1:ff00:5 icmp6 ns target fd00::5",
        ),
        (
            Packet::NeighborAdvert {
                src: "fd00::2".parse().unwrap(),
                dst: "ff02::1".parse().unwrap(),
                target: "fd00::5".parse().unwrap(),
                flags: NaFlags {
                    solicited: false,
                    override_: true,
                    router: false,
                },
                tll: Some(mac("02:00:00:00:00:05")),
            },
            "icmp6 na target fd00::5 flags o tll 02:00:00:00:00:05",
        ),
        (
            Packet::RouterAdvert {
                src: "fe80::1".parse().unwrap(),
                dst: "ff02::1".parse().unwrap(),
                prefix: Some(("2001:db8:bad::".parse().unwrap(), 64)),
                sll: Some(mac("02:ff:60:cb:49:49")),
            },
            "icmp6 ra sll 02:ff:60:cb:49:49 prefix 2001:db8:bad::/64",
        ),
    ];
    for (packet, want) in cases {
        let line = describe(&frame(&e, &packet), None);
        assert!(line.contains(want), "{line}\nshould contain\n{want}");
    }
    assert_eq!(describe(&[1, 2, 3], None), "runt len=3");
}

#[test]
fn a_tag_the_kernel_took_off_is_shown_as_if_it_were_in_the_frame() {
    let ping = Packet::Icmp4Echo {
        src: "10.0.0.1".parse().unwrap(),
        dst: "10.0.0.2".parse().unwrap(),
        tag: "t".into(),
    };
    let tagged = Ether {
        vlan: Some(Vlan::dot1q(42)),
        ..ether()
    };
    let want = "> ff:ff:ff:ff:ff:ff vlan 42 ip 10.0.0.1 > 10.0.0.2 icmp";
    assert!(describe(&frame(&ether(), &ping), Some(Vlan::dot1q(42))).contains(want));
    assert!(describe(&frame(&tagged, &ping), None).contains(want));
}
