//! The runner's egress IP: the address Atlas sees, which its access list must cover.

use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;

/// The environment variable that names the egress IP.
pub const ENV_EGRESS_IP: &str = "MONGO_PREFLIGHT_EGRESS_IP";
/// The environment variable that names an IP echo service.
pub const ENV_IP_ECHO_URL: &str = "MONGO_PREFLIGHT_IP_ECHO_URL";
/// A service that answers with the caller's address as text.
pub const DEFAULT_IP_ECHO_URL: &str = "https://checkip.amazonaws.com";

/// The egress IP, or why it is unknown, and where it came from.
#[derive(Debug, Clone)]
pub struct Egress {
    pub ip: Result<IpAddr, String>,
    pub source: String,
}

/// `--egress-ip`, else `$MONGO_PREFLIGHT_EGRESS_IP`, else the echo service's answer.
pub async fn find(given: Option<IpAddr>, env: &(dyn Fn(&str) -> Option<String> + Sync), timeout: Duration) -> Egress {
    if let Some(ip) = given {
        return Egress { ip: Ok(ip), source: "--egress-ip".to_string() };
    }
    if let Some(value) = env(ENV_EGRESS_IP).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
        let ip = value
            .parse::<IpAddr>()
            .map_err(|_| format!("${ENV_EGRESS_IP} is not an IP address: `{}`", crate::redact::printable(&value)));
        return Egress { ip, source: format!("${ENV_EGRESS_IP}") };
    }
    let url = env(ENV_IP_ECHO_URL)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_IP_ECHO_URL.to_string());
    let shown = crate::redact::printable(&url);
    Egress { ip: echo(&url, timeout).await.map_err(|why| format!("{shown}: {why}")), source: shown }
}

async fn echo(url: &str, timeout: Duration) -> Result<IpAddr, String> {
    let http = super::http::Http::new(timeout)?;
    let request = http::Request::builder()
        .method("GET")
        .uri(url)
        .header(http::header::USER_AGENT, concat!("mongo-preflight/", env!("CARGO_PKG_VERSION")))
        .body(Full::new(Bytes::new()))
        .map_err(|e| format!("not a URL ({e})"))?;
    let response = http.send(request).await.map_err(|e| match e {
        super::http::TransportError::Timeout => format!("no answer within {} s", timeout.as_secs_f64()),
        super::http::TransportError::Failed(why) => why,
    })?;
    if !(200..300).contains(&response.status) {
        return Err(format!("HTTP {}", response.status));
    }
    let text = String::from_utf8_lossy(&response.body);
    let text = text.trim();
    text.parse::<IpAddr>().map_err(|_| {
        let shown: String = crate::redact::printable(text).chars().take(60).collect();
        format!("the answer is not an IP address: `{shown}`")
    })
}
