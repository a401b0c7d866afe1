//! `mac_prefix` and the pinned `<nic>_mac` pairs.

use ioc_sdk::Mac;

use super::{Reason, Syntax};

/// The first three bytes of every generated MAC (`mac_prefix`, written as 6 hex digits).
///
/// libioc does not validate it; ioc does, and also refuses a multicast prefix, since a
/// multicast address cannot be assigned to an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacPrefix(pub [u8; 3]);

impl Default for MacPrefix {
    /// libioc's prefix, locally administered: 02:ff:60.
    fn default() -> Self {
        MacPrefix([0x02, 0xff, 0x60])
    }
}

impl MacPrefix {
    /// The prefix as hex digits, e.g. `02ff60`.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl Syntax for MacPrefix {
    fn parse(text: &str) -> Result<Self, Reason> {
        let digits = text.trim();
        if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "expected 6 hex digits such as 02ff60 but got \"{text}\""
            ));
        }
        let mut bytes = [0u8; 3];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16)
                .map_err(|_| format!("expected 6 hex digits such as 02ff60 but got \"{text}\""))?;
        }
        if bytes[0] & 1 == 1 {
            return Err(format!(
                "\"{text}\" is a multicast prefix (lowest bit of the first byte set), which no \
                 interface can use; expected a unicast prefix such as 02ff60"
            ));
        }
        Ok(MacPrefix(bytes))
    }

    fn print(&self) -> String {
        self.hex()
    }
}

/// A pinned `<nic>_mac`: `HOSTMAC,JAILMAC`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacPair {
    pub host: Mac,
    pub jail: Mac,
}

impl Default for MacPair {
    fn default() -> Self {
        MacPair {
            host: Mac([0x02, 0, 0, 0, 0, 0]),
            jail: Mac([0x02, 0, 0, 0, 0, 1]),
        }
    }
}

/// Parses one MAC with the sdk's parser (its error is the reference's text) and refuses
/// multicast addresses, which an interface cannot have.
fn parse_unicast(text: &str) -> Result<Mac, Reason> {
    let mac: Mac = text.parse()?;
    if mac.0[0] & 1 == 1 {
        return Err(format!(
            "invalid mac address: \"{text}\" (a multicast address cannot be assigned to an \
             interface)"
        ));
    }
    Ok(mac)
}

impl Syntax for MacPair {
    fn parse(text: &str) -> Result<Self, Reason> {
        let Some((host, jail)) = text.split_once(',') else {
            return Err(format!(
                "expected \"<host mac>,<jail mac>\" (two MACs of 12 hex digits, ':' or '-' \
                 allowed between bytes) but got \"{text}\""
            ));
        };
        let expected =
            |e: Reason| format!("{e} (expected \"<host mac>,<jail mac>\" with 12 hex digits each)");
        let host = parse_unicast(host.trim()).map_err(expected)?;
        let jail = parse_unicast(jail.trim()).map_err(expected)?;
        if host == jail {
            return Err(format!(
                "the host and jail MACs must differ, but both are {host} in \"{text}\""
            ));
        }
        Ok(MacPair { host, jail })
    }

    fn print(&self) -> String {
        format!("{},{}", self.host, self.jail)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{refused, refused_with, round_trip};
    use super::*;

    #[test]
    fn prefixes() {
        round_trip::<MacPrefix>("02ff60", "02ff60");
        round_trip::<MacPrefix>("02FF60", "02ff60");
        round_trip::<MacPrefix>("000000", "000000");
        for bad in [
            "", "02ff6", "02ff600", "02:ff:60", "zzff60", "+2ff60", "02ff6é",
        ] {
            refused::<MacPrefix>(
                bad,
                &format!("expected 6 hex digits such as 02ff60 but got \"{bad}\""),
            );
        }
        refused_with::<MacPrefix>("03ff60", "multicast prefix");
        assert_eq!(MacPrefix::default().print(), "02ff60");
    }

    #[test]
    fn pairs() {
        round_trip::<MacPair>(
            "02:ff:60:e7:93:9d,02:ff:60:e7:93:9e",
            "02:ff:60:e7:93:9d,02:ff:60:e7:93:9e",
        );
        round_trip::<MacPair>(
            "02FF60E7939D, 02-ff-60-e7-93-9e",
            "02:ff:60:e7:93:9d,02:ff:60:e7:93:9e",
        );
        refused_with::<MacPair>("02ff60e7939d,zz", "invalid mac address: \"zz\" (expected");
        refused_with::<MacPair>(
            "02ff60e7939,02ff60e7939e",
            "invalid mac address: \"02ff60e7939\" (expected",
        );
        refused_with::<MacPair>("02ff60e7939d", "expected \"<host mac>,<jail mac>\"");
        refused_with::<MacPair>("02ff60e7939d,02ff60e7939d", "must differ");
        refused_with::<MacPair>("03ff60e7939d,02ff60e7939e", "multicast");
        refused_with::<MacPair>("02ff60e7939d,02ff60e7939e,x", "invalid mac address");
    }
}
