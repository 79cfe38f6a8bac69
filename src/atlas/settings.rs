//! Where the API is and how it is authenticated: the environment's names, as the Atlas CLI and
//! the Terraform provider use them.

use std::time::Duration;

/// The public Atlas API, unless `MONGODB_ATLAS_BASE_URL` says otherwise.
pub const DEFAULT_BASE_URL: &str = "https://cloud.mongodb.com";
/// Environment variables, named as the Atlas CLI and the Terraform provider name them.
pub const ENV_BASE_URL: &str = "MONGODB_ATLAS_BASE_URL";
pub const ENV_CLIENT_ID: &str = "MONGODB_ATLAS_CLIENT_ID";
pub const ENV_CLIENT_SECRET: &str = "MONGODB_ATLAS_CLIENT_SECRET";
pub const ENV_PUBLIC_KEY: &str = "MONGODB_ATLAS_PUBLIC_KEY";
pub const ENV_PRIVATE_KEY: &str = "MONGODB_ATLAS_PRIVATE_KEY";
/// The variables whose values are secrets: masked in GitHub Actions, never printed.
pub const SECRET_VARS: &[&str] = &[ENV_CLIENT_SECRET, ENV_PRIVATE_KEY];

/// How the API is authenticated.
#[derive(Clone)]
pub enum Credentials {
    /// A service account: OAuth 2.0 client credentials, then a bearer token.
    ServiceAccount { client_id: String, client_secret: String },
    /// A programmatic API key: HTTP digest with the public key as user name.
    ApiKey { public_key: String, private_key: String },
}

// Secrets never reach a Debug string.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::ServiceAccount { client_id, .. } => write!(f, "ServiceAccount({client_id})"),
            Credentials::ApiKey { public_key, .. } => write!(f, "ApiKey({public_key})"),
        }
    }
}

impl Credentials {
    /// The credentials in the environment: a service account wins over an API key. `Err` names
    /// what is missing when only half of a pair is set.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Credentials>, String> {
        let get = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        match (get(ENV_CLIENT_ID), get(ENV_CLIENT_SECRET)) {
            (Some(client_id), Some(client_secret)) => {
                return Ok(Some(Credentials::ServiceAccount { client_id, client_secret }));
            }
            (Some(_), None) => return Err(format!("${ENV_CLIENT_ID} is set but ${ENV_CLIENT_SECRET} is not")),
            (None, Some(_)) => return Err(format!("${ENV_CLIENT_SECRET} is set but ${ENV_CLIENT_ID} is not")),
            (None, None) => {}
        }
        match (get(ENV_PUBLIC_KEY), get(ENV_PRIVATE_KEY)) {
            (Some(public_key), Some(private_key)) => Ok(Some(Credentials::ApiKey { public_key, private_key })),
            (Some(_), None) => Err(format!("${ENV_PUBLIC_KEY} is set but ${ENV_PRIVATE_KEY} is not")),
            (None, Some(_)) => Err(format!("${ENV_PRIVATE_KEY} is set but ${ENV_PUBLIC_KEY} is not")),
            (None, None) => Ok(None),
        }
    }

    /// How these credentials are described in a report (never the secret).
    pub fn describe(&self) -> String {
        match self {
            Credentials::ServiceAccount { client_id, .. } => format!("service account {client_id}"),
            Credentials::ApiKey { public_key, .. } => format!("API key {public_key}"),
        }
    }
}

/// Everything needed to ask the API about one project.
#[derive(Debug, Clone)]
pub struct AtlasSettings {
    pub base_url: String,
    /// `None` when the environment holds no credentials: nothing can be asked.
    pub credentials: Option<Credentials>,
    pub project_id: String,
    /// The deadline of each request.
    pub timeout: Duration,
}
