//! Which client printed a failure, from the words of its format: exception names, topology
//! descriptions, module paths. Checked in order, so a wrapper (Motor, Mongoose, mongosh, PHP)
//! is named before the driver or library under it.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use super::text::compact;

const MARKERS: &[(&str, &[&str])] = &[
    ("Motor", &["motor_asyncio", "/motor/", "motor.core"]),
    ("PyMongo", &["pymongo", "ServerSelectionTimeoutError", "Topology Description: <TopologyDescription"]),
    ("Mongoose", &["MongooseServerSelectionError", "MongooseError", "node_modules/mongoose"]),
    ("mongosh", &["mongosh", "Current Mongosh Log ID"]),
    ("MongoDB Compass", &["MongoDB Compass", "tls_record.cc"]),
    (
        "Node.js driver",
        &[
            "MongoServerSelectionError",
            "MongoNetworkError",
            "MongoNetworkTimeoutError",
            "node_modules/mongodb",
            "MongoServerError",
            "TopologyDescription {",
        ],
    ),
    (
        "Java driver",
        &["com.mongodb.", "MongoTimeoutException", "MongoSocketOpenException", "MongoSocketWriteException"],
    ),
    ("Go driver", &["go.mongodb.org", "server selection error", "connection() error occurred", "error parsing uri"]),
    ("C# driver", &["MongoDB.Driver", "A timeout occurred after", "MongoConnectionException"]),
    ("PHP driver", &["MongoDB\\Driver\\Exception", "MongoDB\\Driver\\Manager"]),
    ("Ruby driver", &["Mongo::Error", "Mongo::Client", "/mongo-"]),
    ("Rust driver", &["Kind: Server selection timeout", "mongodb::error"]),
    ("C driver", &["No suitable servers found", "calling hello on", "calling ismaster on", "libmongoc"]),
    ("MongoDB database tools", &["mongodump", "mongorestore", "mongoimport", "mongoexport", "can't create session"]),
];

/// Every marker, and for each the index of its driver in [`MARKERS`]; the last pattern is the
/// bare word `mongo`.
static AUTOMATON: LazyLock<Option<(AhoCorasick, Vec<usize>)>> = LazyLock::new(|| {
    let mut patterns: Vec<Vec<u8>> = Vec::new();
    let mut owner = Vec::new();
    for (i, (_, markers)) in MARKERS.iter().enumerate() {
        for m in *markers {
            patterns.push(compact(m));
            owner.push(i);
        }
    }
    patterns.push(b"mongo".to_vec());
    owner.push(MARKERS.len());
    AhoCorasick::new(&patterns).ok().map(|a| (a, owner))
});

/// The driver whose markers `window` (compact bytes) holds, the first in [`MARKERS`]' order,
/// and whether the window names MongoDB at all.
pub fn driver(window: &[u8]) -> (Option<&'static str>, bool) {
    let Some((automaton, owner)) = AUTOMATON.as_ref() else { return (None, false) };
    let mut best = usize::MAX;
    let mut mongo = false;
    for m in automaton.find_overlapping_iter(window) {
        let who = owner[m.pattern().as_usize()];
        if who == MARKERS.len() {
            mongo = true;
        } else {
            best = best.min(who);
        }
    }
    (MARKERS.get(best).map(|(name, _)| *name), mongo || best != usize::MAX)
}
