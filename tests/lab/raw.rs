//! Endpoints that are not MongoDB-over-TLS: what a probe meets when something else answers.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Atlas's answer to a client whose IP is not on the project's access list: a fatal
/// `internal_error` alert (level 2, description 80) in a TLS 1.2 record.
pub const ACCESS_LIST_ALERT: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50];

/// What an HTTP server says to a TLS ClientHello.
pub const HTTP_RESPONSE: &[u8] = b"HTTP/1.1 400 Bad Request\r\nServer: lab-http\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nConnection: close\r\n\r\nBad Request\n";

/// An SSH server speaks first.
pub const SSH_BANNER: &[u8] = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";

/// How long the silent endpoint holds a connection before closing it: longer than any probe
/// timeout used in tests, yet bounded.
pub const SILENT_HOLD: Duration = Duration::from_secs(30);

/// Upper bound on waiting for a client's first bytes.
const READ_GRACE: Duration = Duration::from_secs(5);

async fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.expect("lab: bind raw endpoint")
}

fn serve<F, Fut>(listener: TcpListener, handle: F)
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            if let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(handle(stream));
            }
        }
    });
}

/// Reads what the client sends first (a ClientHello, a request line), bounded in time.
async fn read_some(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    match tokio::time::timeout(READ_GRACE, stream.read(&mut buf)).await {
        Ok(Ok(n)) => buf[..n].to_vec(),
        _ => Vec::new(),
    }
}

/// Reads the ClientHello (at least one byte of it), then sends the alert and closes.
pub async fn access_list_rejecting() -> u16 {
    let listener = bind().await;
    let port = listener.local_addr().expect("addr").port();
    serve(listener, |mut stream| async move {
        if read_some(&mut stream).await.is_empty() {
            return;
        }
        let _ = stream.write_all(&ACCESS_LIST_ALERT).await;
        let _ = stream.shutdown().await;
    });
    port
}

/// Accepts and never answers; closes after `SILENT_HOLD`.
pub async fn silent() -> u16 {
    let listener = bind().await;
    let port = listener.local_addr().expect("addr").port();
    serve(listener, |mut stream| async move {
        let mut sink = vec![0u8; 4096];
        let _ = tokio::time::timeout(SILENT_HOLD, async {
            while let Ok(n) = stream.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
    });
    port
}

pub async fn http() -> u16 {
    let listener = bind().await;
    let port = listener.local_addr().expect("addr").port();
    serve(listener, |mut stream| async move {
        read_some(&mut stream).await;
        let _ = stream.write_all(HTTP_RESPONSE).await;
        let _ = stream.shutdown().await;
    });
    port
}

/// Sends the banner on accept, then closes after the client's first bytes (as sshd does on a
/// malformed identification string).
pub async fn ssh() -> u16 {
    let listener = bind().await;
    let port = listener.local_addr().expect("addr").port();
    serve(listener, |mut stream| async move {
        let _ = stream.write_all(SSH_BANNER).await;
        read_some(&mut stream).await;
        let _ = stream.write_all(b"Invalid SSH identification string.\r\n").await;
        let _ = stream.shutdown().await;
    });
    port
}

/// A port that nothing listens on. The socket stays bound without listening, so the port is
/// refused yet cannot be handed to anyone else while the lab lives.
pub fn closed_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().expect("lab: socket for closed port");
    socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).expect("lab: bind closed port");
    let port = socket.local_addr().expect("addr").port();
    (socket, port)
}
