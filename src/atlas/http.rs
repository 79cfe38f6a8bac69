//! HTTP for the Atlas API and the IP echo service: hyper's client with rustls (ring, the
//! Mozilla roots), one deadline around each whole exchange, bodies read up to a limit.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// No answer the API gives for one page or entry comes near this.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// A response, read completely.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// Why no response was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TransportError {
    Timeout,
    /// Connection refused, DNS, TLS, a malformed answer: the text says which.
    Failed(String),
}

#[derive(Clone)]
pub(crate) struct Http {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl Http {
    pub(crate) fn new(timeout: Duration) -> Result<Http, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(2).build(connector);
        Ok(Http { client, timeout })
    }

    /// Sends one request and reads the whole answer, all within the deadline.
    pub(crate) async fn send(&self, request: http::Request<Full<Bytes>>) -> Result<Response, TransportError> {
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| TransportError::Failed(describe(&e)))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(|e| TransportError::Failed(format!("reading the answer: {e}")))?
                .to_bytes();
            Ok(Response { status: parts.status.as_u16(), headers: parts.headers, body })
        };
        tokio::time::timeout(self.timeout, exchange).await.unwrap_or(Err(TransportError::Timeout))
    }
}

/// The innermost cause of a client error, which says what went wrong (refused, TLS, DNS).
fn describe(err: &hyper_util::client::legacy::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(err);
    let mut last = err.to_string();
    while let Some(e) = source {
        last = e.to_string();
        source = e.source();
    }
    crate::redact::printable(&last)
}
