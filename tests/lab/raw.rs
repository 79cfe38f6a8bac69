//! Endpoints that are not MongoDB-over-TLS: what a probe meets when something else answers.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Atlas's answer to a client whose IP is not on the project's access list: a fatal
/// `internal_error` alert (level 2, description 80) in a TLS 1.2 record.
pub const ACCESS_LIST_ALERT: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50];

/// A fatal `handshake_failure` alert (description 40): what a server with no cipher suite in
/// common says.
pub const HANDSHAKE_FAILURE_ALERT: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];

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

/// Reads what the client sends first, bounded in time. A TLS record is read whole (its header
/// gives the length), so no unread bytes remain when the server closes: closing with unread
/// data makes the kernel send a reset, which could destroy the answer before the client reads it.
async fn read_first_message(stream: &mut TcpStream) -> Vec<u8> {
    let read = async {
        let mut received = vec![0u8; 4096];
        let n = stream.read(&mut received).await.ok()?;
        received.truncate(n);
        if n >= 5 && received[0] == 0x16 {
            let record_len = 5 + usize::from(u16::from_be_bytes([received[3], received[4]]));
            while received.len() < record_len {
                let mut more = vec![0u8; record_len - received.len()];
                match stream.read(&mut more).await {
                    Ok(0) | Err(_) => break,
                    Ok(m) => received.extend_from_slice(&more[..m]),
                }
            }
        }
        Some(received)
    };
    tokio::time::timeout(READ_GRACE, read).await.ok().flatten().unwrap_or_default()
}

/// Sends `answer`, closes the write side, then drains what the client still sends until it
/// closes too (bounded), so the connection ends with FIN rather than a reset.
async fn answer_and_close(stream: &mut TcpStream, answer: &[u8]) {
    if !answer.is_empty() && stream.write_all(answer).await.is_err() {
        return;
    }
    let _ = stream.shutdown().await;
    let mut sink = vec![0u8; 4096];
    let _ = tokio::time::timeout(READ_GRACE, async {
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// Reads the ClientHello (at least one byte of it), then sends the alert and closes.
pub async fn access_list_rejecting() -> u16 {
    alerting(ACCESS_LIST_ALERT).await
}

/// Reads the ClientHello, then sends `alert` and closes.
pub async fn alerting(alert: [u8; 7]) -> u16 {
    let listener = bind().await;
    let port = listener.local_addr().expect("addr").port();
    serve(listener, move |mut stream| async move {
        if read_first_message(&mut stream).await.is_empty() {
            return;
        }
        answer_and_close(&mut stream, &alert).await;
    });
    port
}

/// Reads the ClientHello and resets the connection (RST, via a zero linger).
pub async fn resetting() -> u16 {
    let listener = bind().await;
    let port = listener.local_addr().expect("addr").port();
    serve(listener, |mut stream| async move {
        read_first_message(&mut stream).await;
        let _ = stream.set_zero_linger();
        drop(stream);
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

/// Reads the ClientHello and closes without a word: no alert, no ServerHello.
pub async fn bare_close() -> u16 {
    let listener = bind().await;
    let port = listener.local_addr().expect("addr").port();
    serve(listener, |mut stream| async move {
        read_first_message(&mut stream).await;
        answer_and_close(&mut stream, b"").await;
    });
    port
}

pub async fn http() -> u16 {
    let listener = bind().await;
    let port = listener.local_addr().expect("addr").port();
    serve(listener, |mut stream| async move {
        read_first_message(&mut stream).await;
        answer_and_close(&mut stream, HTTP_RESPONSE).await;
    });
    port
}

/// Sends the banner on accept, then closes after the client's first bytes (as sshd does on a
/// malformed identification string).
pub async fn ssh() -> u16 {
    let listener = bind().await;
    let port = listener.local_addr().expect("addr").port();
    serve(listener, |mut stream| async move {
        if stream.write_all(SSH_BANNER).await.is_err() {
            return;
        }
        read_first_message(&mut stream).await;
        answer_and_close(&mut stream, b"Invalid SSH identification string.\r\n").await;
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

/// A port whose connection attempts time out, as behind a firewall that drops packets: a
/// listener with a backlog of 0 that never accepts, its one queue slot taken by a filler
/// connection. Linux then drops further SYNs instead of refusing them.
pub struct Blackhole {
    pub port: u16,
    _listener: tokio::net::TcpListener,
    _filler: std::net::TcpStream,
}

pub fn blackhole() -> Blackhole {
    let socket = tokio::net::TcpSocket::new_v4().expect("lab: socket for blackhole");
    socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).expect("lab: bind blackhole");
    let listener = socket.listen(0).expect("lab: listen blackhole");
    let addr = listener.local_addr().expect("addr");
    let filler =
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("lab: fill blackhole queue");
    Blackhole { port: addr.port(), _listener: listener, _filler: filler }
}
