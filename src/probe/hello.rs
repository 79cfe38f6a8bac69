//! The MongoDB `hello` handshake as an OP_MSG, over TLS or plaintext.

use std::time::Duration;

use mongodb::bson::{Bson, Document, doc};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const OP_MSG: i32 = 2013;
const OP_QUERY: i32 = 2004;
const OP_REPLY: i32 = 1;
/// MongoDB's error code for a command the server does not know.
const COMMAND_NOT_FOUND: i32 = 59;
/// The longest reply accepted, header included. A `hello` reply is one small document: even a
/// 50-member replica set (MongoDB's limit) with long host names, tags and a signed
/// `$clusterTime` stays far under 64 KiB. MongoDB's own ceiling (maxMessageSizeBytes, 48 MB)
/// is for bulk data, and honouring it would let every probed host make us hold 48 MB; 1 MiB
/// keeps a wide margin over any real reply and refuses the 16 MiB to 2 GiB lengths a hostile
/// or confused peer announces before a single body byte is read.
pub const MAX_REPLY: usize = 1024 * 1024;

/// What the server said about itself.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HelloReply {
    pub max_wire_version: Option<i64>,
    /// `standalone`, `primary`, `secondary`, `mongos`, `arbiter`, or `other`.
    pub server_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// The server's clock (`localTime`), RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_time: Option<String>,
    /// `localTime` in milliseconds since the epoch.
    #[serde(skip)]
    pub local_time_ms: Option<i64>,
    /// The runner's clock when the reply arrived, in milliseconds since the epoch.
    #[serde(skip)]
    pub received_ms: i64,
    /// The server does not know `hello` (MongoDB before 4.4.2): the legacy `isMaster` answered.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub legacy_is_master: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HelloError {
    Timeout,
    /// Closed before a reply: on mTLS servers under TLS 1.3 this is how a refusal arrives.
    Closed(String),
    /// A rustls error surfaced on the first read (e.g. `certificate_required` alert).
    Tls(rustls::Error),
    /// Bytes that are not a MongoDB reply, or a reply with `ok: 0`.
    Protocol(String),
}

impl HelloError {
    pub fn describe(&self) -> String {
        match self {
            HelloError::Timeout => "no reply to `hello` before the deadline".to_string(),
            HelloError::Closed(e) => format!("the connection closed before a `hello` reply ({e})"),
            HelloError::Tls(e) => format!("TLS error on the first read: {e}"),
            HelloError::Protocol(e) => e.clone(),
        }
    }
}

fn encode(command: &Document) -> Result<Vec<u8>, HelloError> {
    mongodb::bson::to_vec(command).map_err(|e| HelloError::Protocol(format!("cannot encode hello: {e}")))
}

fn header(len: usize, request_id: i32, op: i32) -> Vec<u8> {
    let mut msg = Vec::with_capacity(len);
    msg.extend_from_slice(&(len as i32).to_le_bytes());
    msg.extend_from_slice(&request_id.to_le_bytes());
    msg.extend_from_slice(&0i32.to_le_bytes()); // responseTo
    msg.extend_from_slice(&op.to_le_bytes());
    msg
}

fn request() -> Result<Vec<u8>, HelloError> {
    let body = encode(&doc! { "hello": 1, "$db": "admin" })?;
    let mut msg = header(16 + 4 + 1 + body.len(), 1, OP_MSG);
    msg.extend_from_slice(&0u32.to_le_bytes()); // flagBits
    msg.push(0); // section kind 0: body
    msg.extend_from_slice(&body);
    Ok(msg)
}

/// The legacy handshake every server version answers: `isMaster` as an OP_QUERY on
/// `admin.$cmd`, as drivers send it when they do not know the server yet.
fn legacy_request() -> Result<Vec<u8>, HelloError> {
    let body = encode(&doc! { "isMaster": 1 })?;
    const COLLECTION: &[u8] = b"admin.$cmd\0";
    let mut msg = header(16 + 4 + COLLECTION.len() + 8 + body.len(), 2, OP_QUERY);
    msg.extend_from_slice(&0u32.to_le_bytes()); // flags
    msg.extend_from_slice(COLLECTION);
    msg.extend_from_slice(&0i32.to_le_bytes()); // numberToSkip
    msg.extend_from_slice(&(-1i32).to_le_bytes()); // numberToReturn: one document
    msg.extend_from_slice(&body);
    Ok(msg)
}

/// Sends `hello` and reads the reply, all within `timeout`. A server that does not know
/// `hello` (before 4.4.2) is asked the legacy `isMaster` on the same connection.
pub async fn hello<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    timeout: Duration,
) -> Result<HelloReply, HelloError> {
    let result = tokio::time::timeout(timeout, async {
        let doc = exchange(stream, &request()?, OP_MSG).await?;
        if command_not_found(&doc) {
            let legacy = exchange(stream, &legacy_request()?, OP_REPLY).await?;
            return interpret(&legacy).map(|r| HelloReply { legacy_is_master: true, ..r });
        }
        interpret(&doc)
    })
    .await;
    let received_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    match result {
        Ok(r) => r.map(|reply| HelloReply { received_ms, ..reply }),
        Err(_) => Err(HelloError::Timeout),
    }
}

fn command_not_found(doc: &Document) -> bool {
    number(doc, "ok") != Some(1.0)
        && (number(doc, "code") == Some(f64::from(COMMAND_NOT_FOUND))
            || doc.get_str("errmsg").is_ok_and(|m| m.contains("no such command")))
}

/// Writes one request and reads one reply of the `expected` opcode: its body document.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &[u8],
    expected: i32,
) -> Result<Document, HelloError> {
    stream.write_all(request).await.map_err(io_error)?;
    stream.flush().await.map_err(io_error)?;
    let mut header = [0u8; 16];
    stream.read_exact(&mut header).await.map_err(io_error)?;
    let len = i32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    let op = i32::from_le_bytes([header[12], header[13], header[14], header[15]]);
    let announced = len;
    let len = usize::try_from(len).unwrap_or(0);
    // The body's offset: OP_MSG flagBits + section kind; OP_REPLY flags, cursor, start, count.
    let offset = if expected == OP_MSG { 5 } else { 20 };
    if len < 16 + offset || op != expected {
        let what = if expected == OP_MSG { "OP_MSG" } else { "OP_REPLY" };
        return Err(HelloError::Protocol(format!(
            "the reply is not a MongoDB {what} (length {announced}, opcode {op}): the peer is not MongoDB"
        )));
    }
    if len > MAX_REPLY {
        return Err(HelloError::Protocol(format!(
            "the reply announces {len} bytes, more than the {MAX_REPLY} any `hello` reply needs: refused unread"
        )));
    }
    // Grown as bytes arrive, never sized from the header: a peer announcing a length and then
    // sending little costs what it sent, not what it announced.
    let body_len = len - 16;
    let mut rest = Vec::new();
    (&mut *stream).take(body_len as u64).read_to_end(&mut rest).await.map_err(io_error)?;
    if rest.len() < body_len {
        return Err(HelloError::Closed(format!(
            "the reply announced {len} bytes, the connection ended after {}",
            rest.len() + 16
        )));
    }
    if expected == OP_MSG && rest[4] != 0 {
        return Err(HelloError::Protocol("the reply's first section is not a body".to_string()));
    }
    Document::from_reader(&mut &rest[offset..])
        .map_err(|e| HelloError::Protocol(format!("the reply is not valid BSON: {e}")))
}

fn io_error(e: std::io::Error) -> HelloError {
    if let Some(tls) = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        return HelloError::Tls(tls.clone());
    }
    HelloError::Closed(e.to_string())
}

fn number(doc: &Document, key: &str) -> Option<f64> {
    match doc.get(key)? {
        Bson::Int32(i) => Some(f64::from(*i)),
        Bson::Int64(i) => Some(*i as f64),
        Bson::Double(d) => Some(*d),
        Bson::Boolean(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

fn interpret(doc: &Document) -> Result<HelloReply, HelloError> {
    if number(doc, "ok") != Some(1.0) {
        let msg = doc.get_str("errmsg").unwrap_or("no error message");
        return Err(HelloError::Protocol(format!("`hello` returned ok: 0: {}", crate::redact::printable(msg))));
    }
    let flag = |k: &str| doc.get_bool(k).unwrap_or(false);
    let set_name = doc.get_str("setName").ok().map(str::to_string);
    let server_type = if doc.get_str("msg") == Ok("isdbgrid") {
        "mongos"
    } else if flag("arbiterOnly") {
        "arbiter"
    } else if set_name.is_some() && (flag("isWritablePrimary") || flag("ismaster")) {
        "primary"
    } else if flag("secondary") {
        "secondary"
    } else if set_name.is_none() && (flag("isWritablePrimary") || flag("ismaster")) {
        "standalone"
    } else {
        "other"
    };
    let hosts = doc
        .get_array("hosts")
        .map(|a| a.iter().filter_map(|h| h.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let local_time = match doc.get("localTime") {
        Some(Bson::DateTime(t)) => Some(*t),
        _ => None,
    };
    Ok(HelloReply {
        max_wire_version: number(doc, "maxWireVersion").map(|n| n as i64),
        server_type: server_type.to_string(),
        set_name: set_name.map(|n| crate::redact::printable(&n)),
        hosts,
        local_time: local_time.and_then(|t| t.try_to_rfc3339_string().ok()),
        local_time_ms: local_time.map(|t| t.timestamp_millis()),
        received_ms: 0,
        legacy_is_master: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interprets_replica_set_members_and_errors() {
        let primary = doc! { "ok": 1.0, "isWritablePrimary": true, "setName": "rs0", "maxWireVersion": 21, "hosts": ["a:1", "b:2"] };
        let reply = interpret(&primary).expect("ok reply");
        assert_eq!(reply.server_type, "primary");
        assert_eq!(reply.set_name.as_deref(), Some("rs0"));
        assert_eq!(reply.max_wire_version, Some(21));
        assert_eq!(reply.hosts.len(), 2);
        assert_eq!(interpret(&doc! { "ok": 1, "ismaster": true }).map(|r| r.server_type), Ok("standalone".to_string()));
        assert!(
            matches!(interpret(&doc! { "ok": 0, "errmsg": "boom" }), Err(HelloError::Protocol(m)) if m.contains("boom"))
        );
    }
}
