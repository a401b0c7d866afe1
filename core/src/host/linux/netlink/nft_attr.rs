//! Writing nf_tables netlink attributes, and the attribute numbers `libc` does not export.
//!
//! nf_tables puts every number in network byte order (`NLA_BE32`...), while the attribute
//! headers themselves are in host order like all of netlink. Nested attributes carry
//! `NLA_F_NESTED`, as libnftnl sends them.

/// Attribute numbers from `linux/netfilter/nf_tables.h` (`libc` has the `NFT_*` values but
/// none of the `NFTA_*` attribute enums). Grouped by the enum they come from.
pub(super) mod nfta {
    pub const TABLE_NAME: u16 = 1;

    pub const CHAIN_TABLE: u16 = 1;
    pub const CHAIN_NAME: u16 = 3;
    pub const CHAIN_HOOK: u16 = 4;
    pub const CHAIN_POLICY: u16 = 5;
    pub const CHAIN_TYPE: u16 = 7;

    pub const HOOK_HOOKNUM: u16 = 1;
    pub const HOOK_PRIORITY: u16 = 2;
    pub const HOOK_DEV: u16 = 3;

    pub const RULE_TABLE: u16 = 1;
    pub const RULE_CHAIN: u16 = 2;
    pub const RULE_EXPRESSIONS: u16 = 4;
    pub const RULE_USERDATA: u16 = 7;

    pub const LIST_ELEM: u16 = 1;

    pub const EXPR_NAME: u16 = 1;
    pub const EXPR_DATA: u16 = 2;

    pub const SET_TABLE: u16 = 1;
    pub const SET_NAME: u16 = 2;
    pub const SET_FLAGS: u16 = 3;
    pub const SET_KEY_TYPE: u16 = 4;
    pub const SET_KEY_LEN: u16 = 5;
    pub const SET_DATA_TYPE: u16 = 6;
    pub const SET_DATA_LEN: u16 = 7;
    pub const SET_ID: u16 = 10;
    pub const SET_USERDATA: u16 = 13;

    pub const SET_ELEM_KEY: u16 = 1;
    pub const SET_ELEM_DATA: u16 = 2;
    pub const SET_ELEM_TIMEOUT: u16 = 4;

    pub const SET_ELEM_LIST_TABLE: u16 = 1;
    pub const SET_ELEM_LIST_SET: u16 = 2;
    pub const SET_ELEM_LIST_ELEMENTS: u16 = 3;
    pub const SET_ELEM_LIST_SET_ID: u16 = 4;

    pub const DATA_VALUE: u16 = 1;
    pub const DATA_VERDICT: u16 = 2;

    pub const VERDICT_CODE: u16 = 1;
    pub const VERDICT_CHAIN: u16 = 2;

    pub const IMMEDIATE_DREG: u16 = 1;
    pub const IMMEDIATE_DATA: u16 = 2;

    pub const BITWISE_SREG: u16 = 1;
    pub const BITWISE_DREG: u16 = 2;
    pub const BITWISE_LEN: u16 = 3;
    pub const BITWISE_MASK: u16 = 4;
    pub const BITWISE_XOR: u16 = 5;

    pub const CMP_SREG: u16 = 1;
    pub const CMP_OP: u16 = 2;
    pub const CMP_DATA: u16 = 3;

    pub const RANGE_SREG: u16 = 1;
    pub const RANGE_OP: u16 = 2;
    pub const RANGE_FROM_DATA: u16 = 3;
    pub const RANGE_TO_DATA: u16 = 4;

    pub const LOOKUP_SET: u16 = 1;
    pub const LOOKUP_SREG: u16 = 2;
    pub const LOOKUP_DREG: u16 = 3;
    pub const LOOKUP_SET_ID: u16 = 4;
    pub const LOOKUP_FLAGS: u16 = 5;

    pub const DYNSET_SET_NAME: u16 = 1;
    pub const DYNSET_SET_ID: u16 = 2;
    pub const DYNSET_OP: u16 = 3;
    pub const DYNSET_SREG_KEY: u16 = 4;
    pub const DYNSET_TIMEOUT: u16 = 6;

    pub const PAYLOAD_DREG: u16 = 1;
    pub const PAYLOAD_BASE: u16 = 2;
    pub const PAYLOAD_OFFSET: u16 = 3;
    pub const PAYLOAD_LEN: u16 = 4;

    pub const META_DREG: u16 = 1;
    pub const META_KEY: u16 = 2;

    pub const LOG_GROUP: u16 = 1;
    pub const LOG_PREFIX: u16 = 2;

    pub const QUEUE_NUM: u16 = 1;
    pub const QUEUE_TOTAL: u16 = 2;
    pub const QUEUE_FLAGS: u16 = 3;

    pub const FIB_DREG: u16 = 1;
    pub const FIB_RESULT: u16 = 2;
    pub const FIB_FLAGS: u16 = 3;

    pub const NAT_TYPE: u16 = 1;
    pub const NAT_FAMILY: u16 = 2;
    pub const NAT_REG_ADDR_MIN: u16 = 3;
    pub const NAT_REG_PROTO_MIN: u16 = 5;
    pub const NAT_REG_PROTO_MAX: u16 = 6;
    pub const NAT_FLAGS: u16 = 7;

    pub const MASQ_FLAGS: u16 = 1;
    pub const MASQ_REG_PROTO_MIN: u16 = 2;
    pub const MASQ_REG_PROTO_MAX: u16 = 3;
}

/// `NLA_F_NESTED` (`linux/netlink.h`).
pub(super) const NLA_F_NESTED: u16 = 1 << 15;

/// A growing list of attributes.
#[derive(Default)]
pub(super) struct Attrs {
    buf: Vec<u8>,
}

impl Attrs {
    pub fn new() -> Attrs {
        Attrs::default()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// One attribute with `value`, padded to four bytes.
    pub fn put(&mut self, kind: u16, value: &[u8]) -> &mut Attrs {
        let len = 4 + value.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.pad();
        self
    }

    /// Attributes encoded elsewhere (already padded).
    pub fn raw(&mut self, encoded: &[u8]) -> &mut Attrs {
        self.buf.extend_from_slice(encoded);
        self
    }

    /// A NUL-terminated string.
    pub fn str(&mut self, kind: u16, value: &str) -> &mut Attrs {
        let start = self.header(kind);
        self.buf.extend_from_slice(value.as_bytes());
        self.buf.push(0);
        self.close(start)
    }

    pub fn be16(&mut self, kind: u16, value: u16) -> &mut Attrs {
        self.put(kind, &value.to_be_bytes())
    }

    pub fn be32(&mut self, kind: u16, value: u32) -> &mut Attrs {
        self.put(kind, &value.to_be_bytes())
    }

    pub fn be64(&mut self, kind: u16, value: u64) -> &mut Attrs {
        self.put(kind, &value.to_be_bytes())
    }

    /// A nested attribute holding what `fill` writes.
    pub fn nest(&mut self, kind: u16, fill: impl FnOnce(&mut Attrs)) -> &mut Attrs {
        let kind = kind | NLA_F_NESTED;
        let start = self.header(kind);
        fill(self);
        self.close(start)
    }

    /// `NFTA_DATA_VALUE` nested in `kind`: how nf_tables wraps every constant.
    pub fn value(&mut self, kind: u16, value: &[u8]) -> &mut Attrs {
        self.nest(kind, |a| {
            a.put(nfta::DATA_VALUE, value);
        })
    }

    fn header(&mut self, kind: u16) -> usize {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0, 0]);
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        start
    }

    /// Writes the length of the attribute begun at `start`, then pads.
    ///
    /// An attribute's length is 16 bits; the encoders keep every attribute below that (element
    /// lists are split), so a longer one is a bug here, not bad input.
    fn close(&mut self, start: usize) -> &mut Attrs {
        let len = u16::try_from(self.buf.len() - start)
            .expect("a netlink attribute is at most 65,535 bytes long");
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self.pad();
        self
    }

    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_padded_and_nests_flagged() {
        let mut a = Attrs::new();
        a.str(1, "ioc").be32(2, 7).nest(3, |n| {
            n.put(1, &[0xaa]);
        });
        let b = a.into_bytes();
        assert_eq!(&b[..8], &[8, 0, 1, 0, b'i', b'o', b'c', 0]);
        assert_eq!(&b[8..16], &[8, 0, 2, 0, 0, 0, 0, 7]);
        // nest: its header, then the inner attribute padded to 8
        assert_eq!(&b[16..20], &[12, 0, 3, 0x80]);
        assert_eq!(&b[20..25], &[5, 0, 1, 0, 0xaa]);
        assert_eq!(b.len(), 28);
    }
}
