//! What every diagnosis code and scan rule has: a default [`Severity`] and an [`Explanation`],
//! reached through [`Documented`].

use serde::{Deserialize, Serialize};

/// How much a diagnosis, finding or note weighs. Only `error` fails a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How strongly the words of an error text point at a diagnosis code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Likelihood {
    /// The words fit this code among others; alone they decide nothing.
    Possible,
    /// The words single this code out.
    Likely,
}

impl Likelihood {
    pub fn as_str(self) -> &'static str {
        match self {
            Likelihood::Possible => "possible",
            Likelihood::Likely => "likely",
        }
    }
}

/// Where in a connection a code's failure happens, in the order a client goes through them. A
/// text from a later stage shows that every earlier one worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    Dns,
    Tcp,
    /// The server refused or dropped the TLS handshake before any certificate was checked.
    TlsHello,
    Certificate,
    /// TLS worked; the MongoDB conversation (hello, replica set, wire version) did not.
    Server,
    Auth,
}

/// Words a driver or TLS library prints for a failure of this code ("What you may see"). The
/// `why` command's matcher reads these and no other list: it compares them case-insensitively,
/// with every space and line break removed from both sides, so wrapped lines still match.
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    pub likelihood: Likelihood,
    /// Who prints it: a driver, a TLS library, or both (`PyMongo / OpenSSL`).
    pub by: &'static str,
    pub text: &'static str,
}

/// The long-form documentation of one diagnosis code or scan rule.
#[derive(Debug, Clone, Copy)]
pub struct Explanation {
    /// One line: what it means.
    pub title: &'static str,
    /// Why it happens.
    pub cause: &'static str,
    /// How mongo-preflight detects it.
    pub detection: &'static str,
    /// What to do.
    pub remedy: &'static str,
    /// The tempting "fix" that must not be shipped, and why.
    pub avoid: &'static str,
    /// Where in a connection the failure happens (at most one; empty for scan rules and for
    /// codes no client error shows).
    pub stage: &'static [Stage],
    /// The error texts that point at it.
    pub seen: &'static [Seen],
}

impl Explanation {
    pub fn stage(&self) -> Option<Stage> {
        self.stage.first().copied()
    }
}

/// Implemented by diagnosis codes and scan rules.
pub trait Documented {
    fn id(&self) -> &'static str;
    fn default_severity(&self) -> Severity;
    fn explanation(&self) -> &'static Explanation;
}

/// Defines one catalogue: the enum of its entries, `ALL`, lookup by id, [`Documented`], and
/// serialization as the public id. Diagnosis codes and scan rules both use it, so an entry is
/// written once: id, severity and explanation together, and for a diagnosis code the stage it
/// fails at and the error texts that point at it (`seen: Stage [ Likely "by" "text", … ]`).
macro_rules! catalogue {
    (
        $(#[$enum_meta:meta])*
        pub enum $name:ident, $kind:literal;
        $(
            $(#[$meta:meta])*
            $variant:ident = $id:literal, $severity:ident, {
                title: $title:literal,
                cause: $cause:literal,
                detection: $detection:literal,
                remedy: $remedy:literal,
                avoid: $avoid:literal
                $(, seen: $stage:ident [ $( $likelihood:ident $by:literal $text:literal ),* $(,)? ] )? $(,)?
            }
        ),+ $(,)?
    ) => {
        $(#[$enum_meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$meta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn from_id(id: &str) -> Option<$name> {
                match id { $($id => Some($name::$variant),)+ _ => None }
            }
        }

        impl $crate::catalog::documented::Documented for $name {
            fn id(&self) -> &'static str {
                match self { $($name::$variant => $id),+ }
            }
            fn default_severity(&self) -> $crate::catalog::documented::Severity {
                match self { $($name::$variant => $crate::catalog::documented::Severity::$severity),+ }
            }
            fn explanation(&self) -> &'static $crate::catalog::documented::Explanation {
                match self { $($name::$variant => &$crate::catalog::documented::Explanation {
                    title: $title, cause: $cause, detection: $detection, remedy: $remedy, avoid: $avoid,
                    stage: &[$($crate::catalog::documented::Stage::$stage)?],
                    seen: &[$($($crate::catalog::documented::Seen {
                        likelihood: $crate::catalog::documented::Likelihood::$likelihood, by: $by, text: $text,
                    }),*)?],
                }),+ }
            }
        }

        // Serialized as the public id, the string the JSON format has always carried.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str($crate::catalog::documented::Documented::id(self))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let id = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                $name::from_id(&id).ok_or_else(|| serde::de::Error::custom(format!("unknown {} `{id}`", $kind)))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::catalog::documented::Documented::id(self))
            }
        }
    };
}
pub(crate) use catalogue;
