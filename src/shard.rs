//! `--shard I/N`: a stable share of the clusters for one of N parallel jobs (a GitHub Actions
//! matrix), chosen by a hash of each cluster's name, so that N jobs together take every cluster
//! exactly once and a cluster stays in the same share from run to run.
//!
//! The hash is FNV-1a (64 bits) over the name's UTF-8 bytes, then MurmurHash3's 64-bit
//! finalizer (FNV-1a's low bits alone split similar names unevenly): written here, it never
//! changes with a dependency or a platform.

/// One job's share: the `index`-th (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// The most shards a run may be split into (GitHub Actions runs at most 256 jobs per matrix).
pub const MAX_SHARDS: u32 = 256;

impl Shard {
    /// The whole: one job takes everything.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Parses `I/N` with 1 ≤ I ≤ N ≤ [`MAX_SHARDS`].
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text.trim().split_once('/').ok_or_else(|| format!("`{text}` is not I/N (e.g. 2/4)"))?;
        let index: u32 = i.trim().parse().map_err(|_| format!("`{text}`: `{i}` is not a whole number"))?;
        let count: u32 = n.trim().parse().map_err(|_| format!("`{text}`: `{n}` is not a whole number"))?;
        if count == 0 || count > MAX_SHARDS {
            return Err(format!("`{text}`: N must be between 1 and {MAX_SHARDS}"));
        }
        if index == 0 || index > count {
            return Err(format!("`{text}`: I must be between 1 and N ({count})"));
        }
        Ok(Shard { index, count })
    }

    /// Whether this share holds the cluster named `name`.
    pub fn owns(&self, name: &str) -> bool {
        share_of(name, self.count) == self.index
    }

    pub fn is_all(&self) -> bool {
        self.count == 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The 1-based share of `count` that holds `name`.
pub fn share_of(name: &str, count: u32) -> u32 {
    let count = count.max(1);
    (fmix64(fnv1a(name.as_bytes())) % u64::from(count)) as u32 + 1
}

/// MurmurHash3's 64-bit finalizer: every input bit reaches every output bit.
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

/// FNV-1a, 64 bits.
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, b| (hash ^ u64::from(*b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_i_of_n() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(Shard::parse(" 1 / 1 "), Ok(Shard::ALL));
        for bad in ["0/4", "5/4", "1/0", "2", "a/4", "1/257", "-1/4"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_name_is_in_exactly_one_share() {
        let names: Vec<String> = (0..500).map(|i| format!("project-{}/Cluster{i}", i % 37)).collect();
        for count in 1..=7 {
            for name in &names {
                let owners = (1..=count).filter(|i| Shard { index: *i, count }.owns(name)).count();
                assert_eq!(owners, 1, "{name} in {owners} shares of {count}");
            }
        }
    }

    #[test]
    fn shares_are_even_for_names_that_differ_in_a_digit() {
        let names: Vec<String> = (1..=2000).map(|i| format!("p{:03}/c{i:04}", (i - 1) / 10 + 1)).collect();
        for count in [2u32, 3, 4, 7] {
            for index in 1..=count {
                let got = names.iter().filter(|n| Shard { index, count }.owns(n)).count();
                let even = names.len() / count as usize;
                assert!(got.abs_diff(even) * 10 < even, "share {index}/{count}: {got} of {}", names.len());
            }
        }
    }

    #[test]
    fn the_hash_is_stable() {
        // FNV-1a test vectors: a change here would move clusters between shares.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
