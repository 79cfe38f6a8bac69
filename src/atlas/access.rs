//! Entries of a project's IP access list, as the API returns them, and which addresses they
//! cover.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Deserialize;

/// What must be encoded in one path segment: `/` becomes `%2F`, as the API expects.
const PATH_SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::CONTROLS.add(b'/').add(b'%').add(b' ').add(b'?').add(b'#').add(b'"').add(b'<').add(b'>');

/// One entry of `GET /groups/{id}/accessList`: exactly one of an IP address, a CIDR block or
/// an AWS security group. The API returns `cidrBlock` for IP entries too (`192.0.2.1/32`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessEntry {
    #[serde(default)]
    pub cidr_block: Option<String>,
    #[serde(default)]
    pub ip_address: Option<String>,
    #[serde(default)]
    pub aws_security_group: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    /// Set on temporary entries (ISO 8601, UTC).
    #[serde(default)]
    pub delete_after_date: Option<String>,
}

/// The status of an entry (`GET …/accessList/{entry}/status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryStatus {
    Active,
    /// Not yet applied to every cloud provider.
    Pending,
    Failed,
}

impl EntryStatus {
    pub fn parse(s: &str) -> Option<EntryStatus> {
        match s.trim().to_ascii_uppercase().as_str() {
            "ACTIVE" => Some(EntryStatus::Active),
            "PENDING" => Some(EntryStatus::Pending),
            "FAILED" => Some(EntryStatus::Failed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EntryStatus::Active => "ACTIVE",
            EntryStatus::Pending => "PENDING",
            EntryStatus::Failed => "FAILED",
        }
    }
}

impl AccessEntry {
    /// The network the entry allows; `None` for a security group or a value that does not parse.
    pub fn network(&self) -> Option<IpNet> {
        if let Some(cidr) = self.cidr_block.as_deref() {
            return cidr.trim().parse::<IpNet>().ok().map(|n| n.trunc());
        }
        self.ip_address.as_deref().and_then(|ip| ip.trim().parse::<IpAddr>().ok()).map(IpNet::from)
    }

    /// Whether the entry lets `ip` in.
    pub fn covers(&self, ip: IpAddr) -> bool {
        self.network().is_some_and(|n| n.contains(&ip))
    }

    /// `0.0.0.0/0` or `::/0` (or the bare addresses `0.0.0.0` / `::` some tools write): every
    /// address may connect.
    pub fn is_open_to_world(&self) -> bool {
        if let Some(n) = self.network()
            && n.prefix_len() == 0
        {
            return true;
        }
        self.ip_address.as_deref().map(str::trim).is_some_and(|ip| ip == "0.0.0.0" || ip == "::")
    }

    /// The value that names the entry in a path (`/accessList/{value}`), percent-encoded.
    pub fn key(&self) -> String {
        let raw = self
            .ip_address
            .as_deref()
            .or(self.cidr_block.as_deref())
            .or(self.aws_security_group.as_deref())
            .unwrap_or_default();
        percent_encoding::utf8_percent_encode(raw.trim(), PATH_SEGMENT).to_string()
    }

    /// How the entry is shown in evidence: its network and comment, made printable.
    pub fn describe(&self) -> String {
        let value = self
            .cidr_block
            .as_deref()
            .or(self.ip_address.as_deref())
            .or(self.aws_security_group.as_deref())
            .unwrap_or("?");
        let mut out = crate::redact::printable(value);
        if let Some(comment) = self.comment.as_deref().filter(|c| !c.trim().is_empty()) {
            out.push_str(&format!(" (comment \"{}\")", crate::redact::printable(comment.trim())));
        }
        if let Some(date) = &self.delete_after_date {
            out.push_str(&format!(" (deleted after {})", crate::redact::printable(date)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(cidr: Option<&str>, ip: Option<&str>) -> AccessEntry {
        AccessEntry {
            cidr_block: cidr.map(str::to_string),
            ip_address: ip.map(str::to_string),
            aws_security_group: None,
            comment: None,
            delete_after_date: None,
        }
    }

    #[test]
    fn coverage_and_the_open_world() {
        let ip: IpAddr = "198.51.100.7".parse().expect("ip");
        assert!(entry(Some("198.51.100.7/32"), Some("198.51.100.7")).covers(ip));
        assert!(entry(Some("198.51.100.0/24"), None).covers(ip));
        assert!(!entry(Some("203.0.113.0/24"), None).covers(ip));
        assert!(entry(Some("0.0.0.0/0"), None).is_open_to_world());
        assert!(entry(Some("::/0"), None).is_open_to_world());
        assert!(entry(None, Some("0.0.0.0")).is_open_to_world());
        assert!(!entry(Some("0.0.0.0/1"), None).is_open_to_world());
        assert!(!entry(Some("10.0.0.0/8"), None).is_open_to_world());
        assert!(entry(Some("0.0.0.0/0"), None).covers(ip));
        assert!(!entry(Some("::/0"), None).covers(ip));
        assert_eq!(entry(Some("198.51.100.7/32"), Some("198.51.100.7")).key(), "198.51.100.7");
        assert_eq!(entry(Some("203.0.113.0/24"), None).key(), "203.0.113.0%2F24");
    }
}
