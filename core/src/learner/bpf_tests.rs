//! Tests of the bpf buffer walk (hand-built read buffers, as FreeBSD's kernel lays them out)
//! and of the filter programs (run by a small interpreter of the instructions they use).

use super::*;
use crate::learner::dhcp::build as dhcp;
use crate::learner::frame::build::{ethernet, icmp6, udp4};
use crate::learner::ra::build as ra;

const MAC: Mac = Mac([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);

/// One record as FreeBSD writes it: timestamp, caplen, datalen, hdrlen, padding to `hdrlen`,
/// the frame, padding to the next aligned record.
fn record(layout: Layout, frame: &[u8], hdrlen: usize) -> Vec<u8> {
    let mut r = vec![0xaa; layout.timestamp];
    r.extend_from_slice(&(frame.len() as u32).to_ne_bytes());
    r.extend_from_slice(&(frame.len() as u32 + 4).to_ne_bytes());
    r.extend_from_slice(&(hdrlen as u16).to_ne_bytes());
    r.resize(hdrlen, 0);
    r.extend_from_slice(frame);
    r.resize(layout.word_align(r.len()).unwrap(), 0);
    r
}

/// FreeBSD's `bif_hdrlen` for Ethernet: the header padded so the network header is aligned.
fn ethernet_hdrlen(layout: Layout) -> usize {
    let sizeof_bpf_hdr = layout.timestamp + 10;
    layout.word_align(14 + sizeof_bpf_hdr).unwrap() - 14
}

#[test]
fn records_are_walked_with_word_alignment_on_both_layouts() {
    let ilp32 = Layout {
        timestamp: 8,
        alignment: 4,
    };
    for layout in [Layout::LP64, ilp32, Layout::native()] {
        let hdrlen = ethernet_hdrlen(layout);
        // Odd lengths, so every record but the last needs padding.
        let frames: [&[u8]; 3] = [&[1; 61], &[2; 7], &[3; 64]];
        let buffer: Vec<u8> = frames
            .iter()
            .flat_map(|f| record(layout, f, hdrlen))
            .collect();
        let walked: Vec<&[u8]> = records(&buffer, layout).collect();
        assert_eq!(walked, frames, "{layout:?}");
        // The kernel does not pad after the last record.
        let unpadded =
            &buffer[..buffer.len() - (layout.word_align(hdrlen + 64).unwrap() - hdrlen - 64)];
        assert_eq!(records(unpadded, layout).count(), 3);
    }
    assert_eq!(ethernet_hdrlen(Layout::LP64), 26);
    assert!(records(&[], Layout::LP64).next().is_none());
}

#[test]
fn cut_and_corrupt_buffers_end_the_walk_without_panicking() {
    let layout = Layout::LP64;
    let buffer: Vec<u8> = [&[1u8; 61][..], &[2; 40]]
        .iter()
        .flat_map(|f| record(layout, f, 26))
        .collect();
    for len in 0..buffer.len() {
        let walked: Vec<&[u8]> = records(&buffer[..len], layout).collect();
        assert!(walked.len() <= 2, "{len}");
        assert!(walked.iter().all(|f| f.len() == 61 || f.len() == 40));
    }
    let mut huge = buffer.clone();
    huge[16..20].copy_from_slice(&u32::MAX.to_ne_bytes());
    assert_eq!(records(&huge, layout).count(), 0);
    let mut short_header = buffer.clone();
    short_header[24..26].copy_from_slice(&3u16.to_ne_bytes());
    assert_eq!(records(&short_header, layout).count(), 0);
    for i in 0..buffer.len() {
        let mut bad = buffer.clone();
        bad[i] = 0xff;
        let _ = records(&bad, layout).count();
    }
}

/// Runs a program of the instructions [`program`] emits over `frame`, as the kernel does
/// (an out-of-bounds load rejects the frame).
fn run(program: &[Insn], frame: &[u8]) -> u32 {
    let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
    let byte = |at: u32| frame.get(at as usize).copied().map(u32::from);
    let half = |at: u32| crate::learner::frame::be16(frame, at as usize).map(u32::from);
    loop {
        let insn = program[pc];
        pc += 1;
        let loaded = match insn.code {
            c if c == BPF_LD | BPF_H | BPF_ABS => half(insn.k),
            c if c == BPF_LD | BPF_B | BPF_ABS => byte(insn.k),
            c if c == BPF_LD | BPF_H | BPF_IND => half(x + insn.k),
            c if c == BPF_LDX | BPF_B | BPF_MSH => {
                let Some(b) = byte(insn.k) else { return 0 };
                x = (b & 0x0f) * 4;
                continue;
            }
            c if c == BPF_JMP | BPF_JEQ | BPF_K || c == BPF_JMP | BPF_JSET | BPF_K => {
                let taken = if c & 0xf0 == BPF_JEQ {
                    a == insn.k
                } else {
                    a & insn.k != 0
                };
                pc += usize::from(if taken { insn.jt } else { insn.jf });
                continue;
            }
            c if c == BPF_RET | BPF_K => return insn.k,
            other => panic!("instruction {other:#x} not expected"),
        };
        match loaded {
            Some(value) => a = value,
            None => return 0,
        }
    }
}

fn ack_frame() -> Vec<u8> {
    let ack = dhcp::ack(MAC, "192.0.2.50".parse().unwrap(), 120);
    let packet = udp4(
        "192.0.2.1".parse().unwrap(),
        "255.255.255.255".parse().unwrap(),
        (67, 68),
        &ack,
    );
    ethernet(&packet, 0x0800, false)
}

fn ra_frame() -> Vec<u8> {
    let body = ra::ra(&[ra::pio("2001:db8::".parse().unwrap(), 64, 0xc0, 600)]);
    let packet = icmp6(
        "fe80::1".parse().unwrap(),
        "ff02::1".parse().unwrap(),
        255,
        &body,
    );
    ethernet(&packet, 0x86dd, false)
}

#[test]
fn the_filters_pass_what_each_direction_learns_from_and_nothing_else() {
    let toward = program(Wanted::toward_jail(true, true));
    let dhcp_only = program(Wanted::toward_jail(true, false));
    let slaac_only = program(Wanted::toward_jail(false, true));
    let from = program(Wanted::from_jail());
    let (ack, ra) = (ack_frame(), ra_frame());
    let mut release = ack.clone();
    // Swap the ports: 68 -> 67.
    release[34..38].copy_from_slice(&[0, 68, 0, 67]);
    assert_eq!(run(&toward, &ack), u32::MAX);
    assert_eq!(run(&toward, &ra), u32::MAX);
    assert_eq!(run(&dhcp_only, &ack), u32::MAX);
    assert_eq!(run(&dhcp_only, &ra), 0);
    assert_eq!(run(&slaac_only, &ack), 0);
    assert_eq!(run(&slaac_only, &ra), u32::MAX);
    assert_eq!(run(&from, &release), u32::MAX);
    assert_eq!(run(&from, &ack), 0);
    assert_eq!(run(&from, &ra), 0);
    assert_eq!(run(&toward, &release), 0);
    assert_eq!(run(&program(Wanted::toward_jail(false, false)), &ack), 0);

    // Other ports, fragments, other protocols, an RA's neighbours, ARP, a cut frame.
    let mut other_port = ack.clone();
    other_port[37] = 69;
    let mut fragment = ack.clone();
    fragment[20] = 0x20;
    let mut tcp = ack.clone();
    tcp[23] = 6;
    let mut solicitation = ra.clone();
    solicitation[54] = 133;
    let mut arp = ack.clone();
    arp[12..14].copy_from_slice(&[0x08, 0x06]);
    for frame in [
        &other_port,
        &fragment,
        &tcp,
        &solicitation,
        &arp,
        &ack[..30].to_vec(),
    ] {
        assert_eq!(run(&toward, frame), 0);
    }
    // An IPv4 header with options still finds its ports.
    let mut options = ack[..34].to_vec();
    options[14] = 0x46;
    options.extend_from_slice(&[1, 1, 1, 0]);
    options.extend_from_slice(&ack[34..]);
    assert_eq!(run(&toward, &options), u32::MAX);
}

#[test]
fn the_source_mac_is_the_second_address() {
    let frame = ack_frame();
    assert_eq!(source_mac(&frame), Some(Mac([0x02, 0, 0, 0, 0, 2])));
    assert_eq!(source_mac(&frame[..11]), None);
}
