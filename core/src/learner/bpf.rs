//! bpf(4) without the device: walking the records of a read buffer, and the filter program
//! that picks the frames a FreeBSD learner reads. Platform independent, so both are tested on
//! the Linux machines we build on; the device itself is in `bpf_device.rs`.
//!
//! A read from a bpf descriptor returns whole records, each a `struct bpf_hdr` (timestamp,
//! `bh_caplen`, `bh_datalen`, `bh_hdrlen`) then `bh_caplen` bytes of the frame, the next record
//! starting `BPF_WORDALIGN(bh_hdrlen + bh_caplen)` bytes later (<net/bpf.h>). The buffer comes
//! from the kernel, but the walk checks every length anyway: a record that does not fit ends
//! the walk, it never panics.

use ioc_sdk::Mac;

use super::frame::array;

/// Where the fields of `struct bpf_hdr` are and how records are aligned, on the platform
/// that produced the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// `sizeof(struct timeval)`: `bh_caplen` follows the timestamp.
    pub timestamp: usize,
    /// `BPF_ALIGNMENT`, `sizeof(long)`.
    pub alignment: usize,
}

impl Layout {
    /// FreeBSD on 64-bit platforms (amd64, arm64): a 16-byte `timeval`, 8-byte alignment.
    pub const LP64: Layout = Layout {
        timestamp: 16,
        alignment: 8,
    };

    /// The layout of the platform this is built for.
    pub fn native() -> Layout {
        Layout {
            timestamp: std::mem::size_of::<libc::timeval>(),
            alignment: std::mem::size_of::<libc::c_long>(),
        }
    }

    /// `BPF_WORDALIGN(x)`; `None` on overflow.
    pub fn word_align(&self, x: usize) -> Option<usize> {
        let mask = self.alignment - 1;
        Some(x.checked_add(mask)? & !mask)
    }
}

/// The captured frames in a buffer `read(2)` filled from a bpf descriptor.
pub fn records(buffer: &[u8], layout: Layout) -> Records<'_> {
    Records {
        buffer,
        offset: 0,
        layout,
    }
}

/// Iterator over the frames of a bpf read buffer (see [`records`]).
pub struct Records<'a> {
    buffer: &'a [u8],
    offset: usize,
    layout: Layout,
}

impl<'a> Iterator for Records<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let record = self.buffer.get(self.offset..)?;
        let field = self.layout.timestamp;
        let caplen = usize::try_from(u32::from_ne_bytes(array(record, field)?)).ok()?;
        let hdrlen = usize::from(u16::from_ne_bytes(array(record, field + 8)?));
        // A header shorter than its own fields would make the walk read them as frame bytes.
        if hdrlen < field + 10 {
            self.offset = self.buffer.len();
            return None;
        }
        let end = hdrlen.checked_add(caplen)?;
        let Some(frame) = record.get(hdrlen..end) else {
            self.offset = self.buffer.len();
            return None;
        };
        self.offset = self
            .layout
            .word_align(end)
            .and_then(|step| self.offset.checked_add(step))
            .unwrap_or(self.buffer.len());
        Some(frame)
    }
}

/// The source MAC of an Ethernet frame.
pub fn source_mac(frame: &[u8]) -> Option<Mac> {
    array::<6>(frame, 6).map(Mac)
}

/// One classic BPF instruction, as `struct bpf_insn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

// The classic BPF opcodes (<net/bpf.h>), the same on every system that has bpf.
pub const BPF_LD: u16 = 0x00;
pub const BPF_LDX: u16 = 0x01;
pub const BPF_JMP: u16 = 0x05;
pub const BPF_RET: u16 = 0x06;
pub const BPF_H: u16 = 0x08;
pub const BPF_B: u16 = 0x10;
pub const BPF_ABS: u16 = 0x20;
pub const BPF_IND: u16 = 0x40;
pub const BPF_MSH: u16 = 0xa0;
pub const BPF_JEQ: u16 = 0x10;
pub const BPF_JSET: u16 = 0x40;
pub const BPF_K: u16 = 0x00;

const ETHERTYPE_IPV4: u32 = 0x0800;
const ETHERTYPE_IPV6: u32 = 0x86dd;
const IPPROTO_UDP: u32 = 17;
const IPPROTO_ICMPV6: u32 = 58;
const ROUTER_ADVERTISEMENT: u32 = 134;
/// Offsets in an untagged Ethernet frame.
const ETHERTYPE: u32 = 12;
const IP: u32 = 14;
/// The whole frame: the return value is how many bytes to capture.
const ACCEPT: u32 = u32::MAX;

/// What a descriptor's filter lets through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wanted {
    /// IPv4 UDP datagrams from this source port to this destination port (unfragmented).
    pub udp4: Option<(u16, u16)>,
    /// ICMPv6 router advertisements.
    pub ra: bool,
}

impl Wanted {
    /// Toward the jail: DHCP server replies (67 -> 68) and router advertisements.
    pub fn toward_jail(dhcp4: bool, slaac: bool) -> Wanted {
        Wanted {
            udp4: dhcp4.then_some((67, 68)),
            ra: slaac,
        }
    }

    /// From the jail: DHCP client messages (68 -> 67), for its RELEASE.
    pub fn from_jail() -> Wanted {
        Wanted {
            udp4: Some((68, 67)),
            ra: false,
        }
    }
}

/// Where a jump goes, resolved to an offset by [`program`].
#[derive(Clone, Copy)]
enum To {
    Next,
    Accept,
    Reject,
    Ipv6,
}

/// The filter program for `wanted`, over untagged Ethernet frames (a jail's port carries its
/// untagged traffic; DHCP and SLAAC run there). What it passes the learner parses again in
/// full: the filter only keeps the rest of the traffic out of the learner's buffer.
pub fn program(wanted: Wanted) -> Vec<Insn> {
    // (code, k, jump if true, jump if false); the labels are resolved below.
    let ipv4 = if wanted.udp4.is_some() {
        To::Next
    } else {
        To::Reject
    };
    let ipv6 = if wanted.ra { To::Ipv6 } else { To::Reject };
    let mut code: Vec<(u16, u32, To, To)> = vec![
        (BPF_LD | BPF_H | BPF_ABS, ETHERTYPE, To::Next, To::Next),
        (BPF_JMP | BPF_JEQ | BPF_K, ETHERTYPE_IPV4, ipv4, ipv6),
    ];
    if let Some((source, destination)) = wanted.udp4 {
        code.extend([
            (BPF_LD | BPF_B | BPF_ABS, IP + 9, To::Next, To::Next),
            (BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, To::Next, To::Reject),
            // Flags and fragment offset: only an unfragmented datagram has its ports.
            (BPF_LD | BPF_H | BPF_ABS, IP + 6, To::Next, To::Next),
            (BPF_JMP | BPF_JSET | BPF_K, 0x3fff, To::Reject, To::Next),
            // X = the IPv4 header's length.
            (BPF_LDX | BPF_B | BPF_MSH, IP, To::Next, To::Next),
            (BPF_LD | BPF_H | BPF_IND, IP, To::Next, To::Next),
            (
                BPF_JMP | BPF_JEQ | BPF_K,
                source.into(),
                To::Next,
                To::Reject,
            ),
            (BPF_LD | BPF_H | BPF_IND, IP + 2, To::Next, To::Next),
            (
                BPF_JMP | BPF_JEQ | BPF_K,
                destination.into(),
                To::Accept,
                To::Reject,
            ),
        ]);
    }
    // Reached from the first jump only, with the ethertype still loaded.
    let ipv6_at = code.len();
    if wanted.ra {
        code.extend([
            (
                BPF_JMP | BPF_JEQ | BPF_K,
                ETHERTYPE_IPV6,
                To::Next,
                To::Reject,
            ),
            // The next header: neighbour discovery uses no extension headers.
            (BPF_LD | BPF_B | BPF_ABS, IP + 6, To::Next, To::Next),
            (
                BPF_JMP | BPF_JEQ | BPF_K,
                IPPROTO_ICMPV6,
                To::Next,
                To::Reject,
            ),
            (BPF_LD | BPF_B | BPF_ABS, IP + 40, To::Next, To::Next),
            (
                BPF_JMP | BPF_JEQ | BPF_K,
                ROUTER_ADVERTISEMENT,
                To::Accept,
                To::Reject,
            ),
        ]);
    }
    let accept = code.len();
    let reject = accept + 1;
    let resolve = |from: usize, to: To| -> u8 {
        let target = match to {
            To::Next => from + 1,
            To::Accept => accept,
            To::Reject => reject,
            To::Ipv6 => ipv6_at,
        };
        // Every program here is a few dozen instructions: the offsets fit a u8.
        u8::try_from(target - from - 1).expect("bpf jump within 255 instructions")
    };
    let mut insns: Vec<Insn> = code
        .iter()
        .enumerate()
        .map(|(i, &(code, k, jt, jf))| {
            let jump = code & 0x07 == BPF_JMP;
            Insn {
                code,
                jt: if jump { resolve(i, jt) } else { 0 },
                jf: if jump { resolve(i, jf) } else { 0 },
                k,
            }
        })
        .collect();
    insns.push(ret(ACCEPT));
    insns.push(ret(0));
    insns
}

fn ret(k: u32) -> Insn {
    Insn {
        code: BPF_RET | BPF_K,
        jt: 0,
        jf: 0,
        k,
    }
}

#[cfg(test)]
#[path = "bpf_tests.rs"]
mod tests;
