//! A fake MongoDB server over TLS that answers the handshake only: `hello` as an OP_MSG and the
//! legacy `isMaster` as an OP_QUERY, with a configurable replica set name, wire version and
//! clock. Real servers cannot be made old, wrongly named or wrongly timed on demand; this one
//! can, and it speaks the same wire protocol a driver's first exchange uses.

use std::sync::Arc;
use std::time::Duration;

use mongodb::bson::{Bson, DateTime, Document, doc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

const OP_REPLY: i32 = 1;
const OP_QUERY: i32 = 2004;
const OP_MSG: i32 = 2013;
/// The longest request accepted; a handshake is a few hundred bytes.
const MAX_REQUEST: usize = 64 * 1024;
/// Requests served per connection, then it closes.
const MAX_REQUESTS: usize = 16;
/// How long a connection may stay idle or take over its TLS handshake.
const IDLE: Duration = Duration::from_secs(15);

/// Every command name each fake server received, by port: what went over its connections.
static RECEIVED: std::sync::Mutex<Vec<(u16, String)>> = std::sync::Mutex::new(Vec::new());

/// The command names the fake server on `port` has received so far, in order.
pub fn commands_received(port: u16) -> Vec<String> {
    let log = RECEIVED.lock().unwrap_or_else(|p| p.into_inner());
    log.iter().filter(|(p, _)| *p == port).map(|(_, c)| c.clone()).collect()
}

/// What the server says about itself.
#[derive(Clone, Debug)]
pub struct HelloSpec {
    /// `setName`; `None` for a standalone.
    pub set_name: Option<String>,
    pub max_wire_version: i32,
    /// The server's clock minus the real one.
    pub clock_offset: time::Duration,
    /// Whether it knows `hello` (MongoDB 4.4.2 and later); older ones answer only `isMaster`.
    pub knows_hello: bool,
}

impl HelloSpec {
    pub fn standalone(max_wire_version: i32) -> HelloSpec {
        HelloSpec { set_name: None, max_wire_version, clock_offset: time::Duration::ZERO, knows_hello: true }
    }
}

fn hello_reply(spec: &HelloSpec, port: u16) -> Document {
    let now = time::OffsetDateTime::now_utc() + spec.clock_offset;
    let millis = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    let mut reply = doc! {
        "ismaster": true,
        "isWritablePrimary": true,
        "maxBsonObjectSize": 16 * 1024 * 1024,
        "maxMessageSizeBytes": 48_000_000,
        "maxWireVersion": spec.max_wire_version,
        "minWireVersion": 0,
        "localTime": Bson::DateTime(DateTime::from_millis(millis)),
    };
    if let Some(name) = &spec.set_name {
        reply.insert("setName", name.clone());
        reply.insert("hosts", vec![format!("localhost:{port}")]);
    }
    reply.insert("ok", 1.0);
    reply
}

fn not_found(command: &str) -> Document {
    doc! {
        "ok": 0.0,
        "errmsg": format!("no such command: '{command}'"),
        "code": 59,
        "codeName": "CommandNotFound",
    }
}

/// The answer to one command document.
fn answer(spec: &HelloSpec, port: u16, command: &Document) -> Document {
    let name = command.keys().next().map(String::as_str).unwrap_or_default();
    RECEIVED.lock().unwrap_or_else(|p| p.into_inner()).push((port, name.to_string()));
    match name {
        "hello" if spec.knows_hello => hello_reply(spec, port),
        "isMaster" | "ismaster" => hello_reply(spec, port),
        other => not_found(other),
    }
}

fn header(len: usize, response_to: i32, op: i32) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&(len as i32).to_le_bytes());
    out.extend_from_slice(&7i32.to_le_bytes());
    out.extend_from_slice(&response_to.to_le_bytes());
    out.extend_from_slice(&op.to_le_bytes());
    out
}

/// Parses one request (header already read) and encodes the reply, or `None` to hang up.
fn respond(spec: &HelloSpec, port: u16, request_id: i32, op: i32, body: &[u8]) -> Option<Vec<u8>> {
    match op {
        OP_MSG => {
            // flagBits, then a kind-0 section holding the command.
            if body.len() < 5 || body[4] != 0 {
                return None;
            }
            let command = Document::from_reader(&mut &body[5..]).ok()?;
            let reply = mongodb::bson::to_vec(&answer(spec, port, &command)).ok()?;
            let mut out = header(16 + 5 + reply.len(), request_id, OP_MSG);
            out.extend_from_slice(&0u32.to_le_bytes());
            out.push(0);
            out.extend_from_slice(&reply);
            Some(out)
        }
        OP_QUERY => {
            // flags, fullCollectionName (cstring), numberToSkip, numberToReturn, query.
            let name_end = 4 + body.get(4..)?.iter().position(|b| *b == 0)?;
            let collection = std::str::from_utf8(&body[4..name_end]).ok()?;
            if !collection.ends_with(".$cmd") {
                return None;
            }
            let command = Document::from_reader(&mut body.get(name_end + 9..)?).ok()?;
            let reply = mongodb::bson::to_vec(&answer(spec, port, &command)).ok()?;
            let mut out = header(16 + 20 + reply.len(), request_id, OP_REPLY);
            out.extend_from_slice(&0i32.to_le_bytes()); // responseFlags
            out.extend_from_slice(&0i64.to_le_bytes()); // cursorID
            out.extend_from_slice(&0i32.to_le_bytes()); // startingFrom
            out.extend_from_slice(&1i32.to_le_bytes()); // numberReturned
            out.extend_from_slice(&reply);
            Some(out)
        }
        _ => None,
    }
}

async fn serve_one<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
    spec: &HelloSpec,
    port: u16,
) -> Option<()> {
    for _ in 0..MAX_REQUESTS {
        let mut head = [0u8; 16];
        tokio::time::timeout(IDLE, stream.read_exact(&mut head)).await.ok()?.ok()?;
        let len = usize::try_from(i32::from_le_bytes([head[0], head[1], head[2], head[3]])).ok()?;
        let request_id = i32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        let op = i32::from_le_bytes([head[12], head[13], head[14], head[15]]);
        if !(16..=MAX_REQUEST).contains(&len) {
            return None;
        }
        let mut body = vec![0u8; len - 16];
        tokio::time::timeout(IDLE, stream.read_exact(&mut body)).await.ok()?.ok()?;
        let reply = respond(spec, port, request_id, op, &body)?;
        tokio::time::timeout(IDLE, stream.write_all(&reply)).await.ok()?.ok()?;
    }
    None
}

/// Serves the handshake over TLS with `config`; returns the port (127.0.0.1).
pub async fn serve(config: rustls::ServerConfig, spec: HelloSpec) -> u16 {
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("lab: bind fake MongoDB");
    let port = listener.local_addr().expect("addr").port();
    let spec = Arc::new(spec);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { continue };
            let (acceptor, spec) = (acceptor.clone(), spec.clone());
            tokio::spawn(async move {
                let Ok(Ok(mut tls)) = tokio::time::timeout(IDLE, acceptor.accept(tcp)).await else { return };
                let _ = serve_one(&mut tls, &spec, port).await;
            });
        }
    });
    port
}
