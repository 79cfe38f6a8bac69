	use mongodb::options::{ClientOptions, Tls, TlsOptions};

/// Never `allow_invalid_certificates(true)` outside tests.
fn tls() -> Tls {
    Tls::Enabled(
        TlsOptions::builder()
            .allow_invalid_certificates(true) // expect: allow-invalid-certificates
            .build(),
    )
}

fn literal() -> TlsOptions {
    TlsOptions { allow_invalid_hostnames: Some(true), ..Default::default() } // expect: allow-invalid-hostnames
}

const URI: &str = "mongodb+srv://cluster0.example.mongodb.net/?tlsInsecure=true"; // expect: tls-insecure
