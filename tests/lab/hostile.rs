//! Hostile peers: servers that try to make a client wait without end or hold memory without
//! bound. Each connection ends by itself (a time budget, and a byte budget for floods), and
//! every wait for the client is bounded.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// The longest one hostile connection lives, whatever the client does.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(30);

/// The trickle's pace: one byte per interval.
pub const TRICKLE_INTERVAL: Duration = Duration::from_secs(1);

/// What one flood connection sends at most: far more than a bounded reader keeps, enough for
/// an unbounded one to show in its peak memory before the connection ends.
pub const FLOOD_LIMIT: usize = 1 << 30;

/// The OP_MSG opcode, for replies that look like MongoDB's.
const OP_MSG: i32 = 2013;

/// Upper bound on waiting for a client's first bytes.
const READ_GRACE: Duration = Duration::from_secs(5);

/// A TLS 1.2 ServerHello's first bytes (record header, handshake header, version): what the
/// trickle sends, so a client sees TLS arriving and keeps waiting.
const TRICKLE_PREFIX: [u8; 11] = [0x16, 0x03, 0x03, 0x00, 0x5a, 0x02, 0x00, 0x00, 0x56, 0x03, 0x03];

/// One flood write.
const CHUNK: usize = 16 * 1024;

async fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.expect("lab: bind hostile endpoint")
}

/// Accepts forever (for the lab's life); each connection's handler is cut at
/// `CONNECTION_LIFETIME`.
fn serve<F, Fut>(listener: TcpListener, handle: F) -> u16
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            if let Ok((stream, _)) = listener.accept().await {
                let handler = handle(stream);
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(CONNECTION_LIFETIME, handler).await;
                });
            }
        }
    });
    port
}

/// Reads whatever the client sends first (a ClientHello, a `hello`), bounded in time. True
/// when something arrived.
async fn read_first<S: AsyncRead + Unpin>(stream: &mut S) -> bool {
    let mut buf = vec![0u8; 16 * 1024];
    matches!(tokio::time::timeout(READ_GRACE, stream.read(&mut buf)).await, Ok(Ok(n)) if n > 0)
}

/// After the ClientHello, sends the start of a ServerHello one byte per second, then zeros at
/// the same pace, until the connection's lifetime ends: a handshake that never completes and
/// never goes quiet.
pub async fn trickle() -> u16 {
    serve(bind().await, |mut stream| async move {
        if !read_first(&mut stream).await {
            return;
        }
        let bytes = TRICKLE_PREFIX.iter().copied().chain(std::iter::repeat(0u8));
        for byte in bytes {
            if stream.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(TRICKLE_INTERVAL).await;
        }
    })
}

/// After the ClientHello, sends a ServerHello handshake message announcing 16 MiB and then
/// fills TLS records with it until the client gives up or `FLOOD_LIMIT` is sent: well-framed
/// TLS, so only a size limit stops a reader.
pub async fn tls_flood() -> u16 {
    serve(bind().await, |mut stream| async move {
        if !read_first(&mut stream).await {
            return;
        }
        let mut first = true;
        let mut sent = 0;
        while sent < FLOOD_LIMIT {
            let mut record = vec![0x16, 0x03, 0x03, 0x40, 0x00];
            if first {
                // ServerHello (type 2) claiming a body of 2^24 - 1 bytes.
                record.extend_from_slice(&[0x02, 0xff, 0xff, 0xff]);
                first = false;
            }
            record.resize(5 + CHUNK, 0x5a);
            if stream.write_all(&record).await.is_err() {
                return;
            }
            sent += record.len();
        }
    })
}

/// What a TLS endpoint does once the handshake is done and the client's `hello` arrived.
#[derive(Debug, Clone, Copy)]
pub enum AfterHello {
    /// Answers with an OP_MSG header announcing `length` bytes, five more bytes, then nothing
    /// (holding the connection open until the client leaves or the lifetime ends).
    Announce(i32),
    /// Answers with an OP_MSG header announcing `i32::MAX` bytes, then garbage without end
    /// (up to `FLOOD_LIMIT`).
    Flood,
}

fn reply_header(length: i32) -> Vec<u8> {
    let mut header = Vec::with_capacity(21);
    header.extend_from_slice(&length.to_le_bytes());
    header.extend_from_slice(&7i32.to_le_bytes()); // requestID
    header.extend_from_slice(&1i32.to_le_bytes()); // responseTo: the probe's requestID
    header.extend_from_slice(&OP_MSG.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes()); // flagBits
    header.push(0); // section kind 0: body
    header
}

/// A TLS server presenting `config`'s certificate that answers `hello` as `after` says.
pub async fn tls_then(config: Arc<rustls::ServerConfig>, after: AfterHello) -> u16 {
    let acceptor = TlsAcceptor::from(config);
    serve(bind().await, move |stream| {
        let acceptor = acceptor.clone();
        async move {
            let Ok(Ok(mut tls)) = tokio::time::timeout(READ_GRACE, acceptor.accept(stream)).await else {
                return;
            };
            if !read_first(&mut tls).await {
                return;
            }
            match after {
                AfterHello::Announce(length) => {
                    if tls.write_all(&reply_header(length)).await.is_err() {
                        return;
                    }
                    let _ = tls.flush().await;
                    // Hold the connection, reading until the client closes.
                    let mut sink = vec![0u8; 4096];
                    while let Ok(n) = tls.read(&mut sink).await {
                        if n == 0 {
                            break;
                        }
                    }
                }
                AfterHello::Flood => {
                    let mut sent = 0;
                    let mut data = reply_header(i32::MAX);
                    data.resize(CHUNK, 0x41);
                    while sent < FLOOD_LIMIT {
                        if tls.write_all(&data).await.is_err() {
                            return;
                        }
                        sent += data.len();
                        data.fill(0x41);
                    }
                }
            }
        }
    })
}
