//! `resolver`: what ioc does with the jail's `/etc/resolv.conf`.

use std::net::IpAddr;

use super::{check_no_nul, Reason, Syntax};

/// The host file that `resolver=/etc/resolv.conf` copies.
pub const HOST_RESOLV_CONF: &str = "/etc/resolv.conf";

/// One line ioc writes to the jail's `resolv.conf`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolvLine {
    /// `nameserver IP` (also written as a bare IP).
    Nameserver(IpAddr),
    /// `domain`, `search`, `options` or `sortlist` and their arguments, one space apart.
    Other { keyword: String, args: Vec<String> },
}

/// The error for text that is none of the accepted forms.
fn expected(got: &str) -> Reason {
    format!(
        "expected \"{HOST_RESOLV_CONF}\" (copy the host's file), \"none\" (leave the jail's file \
         alone) or \";\"-separated resolv.conf lines such as \"nameserver 10.0.0.1;search \
         example.org\" but got \"{got}\""
    )
}

const KEYWORDS: [&str; 4] = ["domain", "search", "options", "sortlist"];

impl ResolvLine {
    fn parse(line: &str) -> Result<ResolvLine, Reason> {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let [single] = words.as_slice() {
            if let Ok(ip) = single.parse::<IpAddr>() {
                return Ok(ResolvLine::Nameserver(ip));
            }
        }
        match words.as_slice() {
            ["nameserver", ip] => ip
                .parse()
                .map(ResolvLine::Nameserver)
                .map_err(|_| format!("Invalid IP address: {ip} in \"{line}\"")),
            [keyword, args @ ..] if KEYWORDS.contains(keyword) && !args.is_empty() => {
                Ok(ResolvLine::Other {
                    keyword: keyword.to_string(),
                    args: args.iter().map(|a| a.to_string()).collect(),
                })
            }
            _ => Err(expected(line)),
        }
    }

    /// The line as written to `resolv.conf`.
    pub fn print(&self) -> String {
        match self {
            ResolvLine::Nameserver(ip) => format!("nameserver {ip}"),
            ResolvLine::Other { keyword, args } => format!("{keyword} {}", args.join(" ")),
        }
    }
}

/// What happens to the jail's `/etc/resolv.conf` on start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ResolvConf {
    /// Copy the host's `/etc/resolv.conf` (the default).
    #[default]
    CopyHost,
    /// `none`, `-`, empty or `/dev/null`: leave the jail's file alone.
    Keep,
    /// Write these lines.
    Lines(Vec<ResolvLine>),
}

impl Syntax for ResolvConf {
    fn parse(text: &str) -> Result<Self, Reason> {
        check_no_nul(text)?;
        match text.trim() {
            HOST_RESOLV_CONF => return Ok(ResolvConf::CopyHost),
            "" | "-" | "none" | "/dev/null" => return Ok(ResolvConf::Keep),
            _ => {}
        }
        if text.contains(['\n', '\r']) {
            return Err(format!(
                "separate resolv.conf lines with \";\", not line breaks, in \"{}\"",
                text.escape_debug()
            ));
        }
        let lines = text
            .split(';')
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(ResolvLine::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if lines.is_empty() {
            // Only separators: no line to write, which is not what "none" means either.
            return Err(expected(text));
        }
        Ok(ResolvConf::Lines(lines))
    }

    fn print(&self) -> String {
        match self {
            ResolvConf::CopyHost => HOST_RESOLV_CONF.to_string(),
            ResolvConf::Keep => super::NONE.to_string(),
            ResolvConf::Lines(lines) => lines
                .iter()
                .map(ResolvLine::print)
                .collect::<Vec<_>>()
                .join(";"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{refused_with, round_trip};
    use super::*;

    #[test]
    fn special_values() {
        round_trip::<ResolvConf>("/etc/resolv.conf", "/etc/resolv.conf");
        for keep in ["none", "-", "", "/dev/null", "  "] {
            round_trip::<ResolvConf>(keep, "none");
            assert_eq!(ResolvConf::parse(keep).unwrap(), ResolvConf::Keep);
        }
    }

    #[test]
    fn lines() {
        round_trip::<ResolvConf>(
            "nameserver 10.0.0.1;search example.org",
            "nameserver 10.0.0.1;search example.org",
        );
        round_trip::<ResolvConf>(
            " 10.0.0.1 ; nameserver   2001:db8::53;;options  ndots:2 edns0 ",
            "nameserver 10.0.0.1;nameserver 2001:db8::53;options ndots:2 edns0",
        );
        round_trip::<ResolvConf>("domain example.org", "domain example.org");
        refused_with::<ResolvConf>("nameserver 10.0.0.300", "Invalid IP address: 10.0.0.300");
        refused_with::<ResolvConf>("nameserver", "resolv.conf lines such as");
        refused_with::<ResolvConf>("search", "resolv.conf lines such as");
        refused_with::<ResolvConf>("bogus line", "but got \"bogus line\"");
        refused_with::<ResolvConf>("nameserver 1.1.1.1\nsearch x", "not line breaks");
        refused_with::<ResolvConf>("/etc/other", "but got \"/etc/other\"");
        refused_with::<ResolvConf>(" ; ;", "but got \" ; ;\"");
    }
}
