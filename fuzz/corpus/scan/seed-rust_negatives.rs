	use reqwest::Client;

// Not MongoDB: reqwest's own switch.
fn client() -> Client {
    let allow_invalid_certificates = true;
    Client::builder().danger_accept_invalid_certs(allow_invalid_certificates).build().unwrap()
}

fn lifetimes<'a>(s: &'a str) -> &'a str {
    s
}
