//! A cluster of the project, as the API describes it, and which probed hosts are its own.

/// One cluster of the project, as the API describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtlasCluster {
    pub name: String,
    pub paused: bool,
    /// IDLE, CREATING, UPDATING, DELETING, REPAIRING.
    pub state_name: String,
    /// A flex cluster (no `paused` field exists for those).
    pub flex: bool,
    /// The `mongodb+srv` name, lower case.
    pub srv_host: Option<String>,
    /// Every `host:port` of the standard connection string, host in lower case.
    pub hosts: Vec<(String, u16)>,
}

impl AtlasCluster {
    /// Whether a probed host (or the `mongodb+srv` name of its cluster) belongs to this cluster.
    pub fn owns(&self, host: &str, port: u16) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.iter().any(|(h, p)| *h == host && *p == port)
    }

    pub fn owns_srv(&self, srv: &str) -> bool {
        self.srv_host.as_deref() == Some(srv.trim_end_matches('.').to_ascii_lowercase().as_str())
    }
}
