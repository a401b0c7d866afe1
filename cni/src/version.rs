//! CNI versions: which ones ioc speaks, how they compare, and how a plugin's `VERSION` answer
//! is read.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The specification versions ioc reads and writes, oldest first. 0.4.0 is still what Nomad
/// writes; 1.1.0 added `GC`, `STATUS` and `cniVersions`.
pub const SUPPORTED_VERSIONS: &[&str] = &["0.4.0", "1.0.0", "1.1.0"];

/// The newest version ioc speaks.
pub const LATEST: &str = "1.1.0";

/// A CNI version `MAJOR.MINOR.PATCH`, ordered numerically (so `0.10.0` > `0.4.0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Version {
    /// The major number.
    pub major: u32,
    /// The minor number.
    pub minor: u32,
    /// The patch number.
    pub patch: u32,
}

/// Why a version string is not a CNI version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a CNI version (expected MAJOR.MINOR.PATCH, e.g. 1.0.0)")]
pub struct BadVersion(pub String);

impl Version {
    /// 0.4.0, the oldest version ioc speaks.
    pub const V0_4_0: Version = Version::new(0, 4, 0);
    /// 1.0.0.
    pub const V1_0_0: Version = Version::new(1, 0, 0);
    /// 1.1.0, which added `GC` and `STATUS`.
    pub const V1_1_0: Version = Version::new(1, 1, 0);

    /// The version `major.minor.patch`.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// Does ioc speak this version?
    pub fn is_supported(self) -> bool {
        SUPPORTED_VERSIONS
            .iter()
            .any(|v| v.parse::<Version>() == Ok(self))
    }

    /// Results of this version carry a `version` field on each IP and no 1.x fields.
    pub fn is_pre_1(self) -> bool {
        self.major == 0
    }

    /// Does this version know `GC` and `STATUS`?
    pub fn has_gc(self) -> bool {
        self >= Version::V1_1_0
    }
}

impl FromStr for Version {
    type Err = BadVersion;
    fn from_str(s: &str) -> Result<Version, BadVersion> {
        let bad = || BadVersion(s.to_string());
        let mut parts = s.split('.');
        let mut next = || -> Result<u32, BadVersion> {
            let part = parts.next().ok_or_else(bad)?;
            if part.is_empty() || part.len() > 9 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        let version = Version::new(next()?, next()?, next()?);
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(version)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch))
    }
}

/// A plugin's answer to `VERSION`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// The version of this answer.
    #[serde(rename = "cniVersion")]
    pub cni_version: String,
    /// Every version the plugin accepts.
    #[serde(rename = "supportedVersions", default)]
    pub supported_versions: Vec<String>,
}

impl VersionInfo {
    /// What ioc's own plugins answer: every version in [`SUPPORTED_VERSIONS`].
    pub fn ioc() -> VersionInfo {
        VersionInfo {
            cni_version: LATEST.to_string(),
            supported_versions: SUPPORTED_VERSIONS.iter().map(|v| v.to_string()).collect(),
        }
    }

    /// Does the plugin accept `version`?
    pub fn supports(&self, version: Version) -> bool {
        self.supported_versions
            .iter()
            .any(|v| v.parse::<Version>() == Ok(version))
    }
}

/// The version to run a network list with: the newest of `candidates` (its `cniVersion` and,
/// from 1.1.0, its `cniVersions`) that ioc speaks. `None` when ioc speaks none of them.
pub fn pick(candidates: &[Version]) -> Option<Version> {
    candidates
        .iter()
        .copied()
        .filter(|v| v.is_supported())
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order_numerically() {
        let v: Version = "0.10.0".parse().unwrap();
        assert!(v > Version::V0_4_0);
        assert!(Version::V1_1_0 > Version::V1_0_0);
        assert_eq!(Version::V1_0_0.to_string(), "1.0.0");
        for bad in [
            "", "1", "1.0", "1.0.0.0", "1.a.0", "-1.0.0", "1..0", " 1.0.0",
        ] {
            assert!(bad.parse::<Version>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn pick_takes_the_newest_supported() {
        let list = ["0.3.1", "1.0.0", "2.0.0"].map(|v| v.parse().unwrap());
        assert_eq!(pick(&list), Some(Version::V1_0_0));
        assert_eq!(pick(&["0.2.0".parse().unwrap()]), None);
    }

    #[test]
    fn version_info_round_trips() {
        let info: VersionInfo = serde_json::from_str(
            r#"{"cniVersion":"1.0.0","supportedVersions":["0.3.1","0.4.0","1.0.0"]}"#,
        )
        .unwrap();
        assert!(info.supports(Version::V0_4_0));
        assert!(!info.supports(Version::V1_1_0));
        assert!(VersionInfo::ioc().supports(Version::V1_1_0));
    }
}
