//! Bytes to text, the same way for the working tree, for `--base` blobs and for streamed
//! files: a UTF-8 BOM is dropped, UTF-16 with a BOM (what Windows tools write for `.env` and
//! `appsettings.json`) is decoded, and anything else is read as UTF-8 with invalid bytes
//! replaced. Without the UTF-16 step every other byte would be NUL and no option name would
//! ever be seen.

use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
}

/// The encoding a file's first bytes announce, and the length of that announcement.
fn sniff(bytes: &[u8]) -> (Encoding, usize) {
    match bytes {
        [0xEF, 0xBB, 0xBF, ..] => (Encoding::Utf8, 3),
        [0xFF, 0xFE, ..] => (Encoding::Utf16Le, 2),
        [0xFE, 0xFF, ..] => (Encoding::Utf16Be, 2),
        _ => (Encoding::Utf8, 0),
    }
}

/// Whether the bytes announce UTF-16: the only encoding whose text the raw bytes do not show
/// (every other character is NUL), so the only one the prefilter must see decoded.
pub fn is_utf16(bytes: &[u8]) -> bool {
    matches!(sniff(bytes).0, Encoding::Utf16Le | Encoding::Utf16Be)
}

/// A whole file's text; line and column numbers refer to this text.
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    let (encoding, bom) = sniff(bytes);
    let body = &bytes[bom..];
    match encoding {
        Encoding::Utf8 => String::from_utf8_lossy(body),
        Encoding::Utf16Le | Encoding::Utf16Be => {
            let mut decoder = StreamDecoder { encoding, pending: Vec::new(), started: true };
            let mut text = decoder.feed(body);
            text.push_str(&decoder.finish());
            Cow::Owned(text)
        }
    }
}

/// [`decode`] for a file read in pieces: the concatenation of every `feed` and the `finish`
/// equals `decode` of the whole, whatever the piece boundaries.
#[derive(Debug)]
pub struct StreamDecoder {
    encoding: Encoding,
    /// Bytes of a character (or surrogate pair) that the next piece completes.
    pending: Vec<u8>,
    /// Whether the BOM has been looked for.
    started: bool,
}

impl Default for StreamDecoder {
    fn default() -> Self {
        StreamDecoder { encoding: Encoding::Utf8, pending: Vec::new(), started: false }
    }
}

impl StreamDecoder {
    pub fn feed(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        if !self.started {
            // A BOM is at most 3 bytes; wait for them unless the file is shorter.
            if self.pending.len() < 3 {
                return String::new();
            }
            self.start();
        }
        let keep = self.incomplete_tail();
        let ready: Vec<u8> = self.pending.drain(..self.pending.len() - keep).collect();
        self.convert(&ready)
    }

    /// Whatever is left, replacement characters for a truncated last character included.
    pub fn finish(&mut self) -> String {
        if !self.started {
            self.start();
        }
        let rest = std::mem::take(&mut self.pending);
        self.convert(&rest)
    }

    fn start(&mut self) {
        let (encoding, bom) = sniff(&self.pending);
        self.encoding = encoding;
        self.pending.drain(..bom);
        self.started = true;
    }

    /// How many trailing bytes of `pending` may belong to a character the next piece ends.
    fn incomplete_tail(&self) -> usize {
        let bytes = &self.pending;
        match self.encoding {
            Encoding::Utf8 => {
                // Back over continuation bytes to the last lead byte; keep it if its sequence
                // is longer than what has arrived.
                for back in 1..=bytes.len().min(4) {
                    let byte = bytes[bytes.len() - back];
                    if byte & 0xC0 == 0x80 {
                        continue;
                    }
                    let needed = match byte {
                        0xC0..=0xDF => 2,
                        0xE0..=0xEF => 3,
                        0xF0..=0xF7 => 4,
                        _ => 1,
                    };
                    return if needed > back { back } else { 0 };
                }
                0
            }
            Encoding::Utf16Le | Encoding::Utf16Be => {
                let odd = bytes.len() % 2;
                let whole = bytes.len() - odd;
                if whole >= 2 {
                    let pair = [bytes[whole - 2], bytes[whole - 1]];
                    let unit = if self.encoding == Encoding::Utf16Le {
                        u16::from_le_bytes(pair)
                    } else {
                        u16::from_be_bytes(pair)
                    };
                    // A high surrogate waits for its low half.
                    if (0xD800..0xDC00).contains(&unit) {
                        return odd + 2;
                    }
                }
                odd
            }
        }
    }

    fn convert(&self, bytes: &[u8]) -> String {
        match self.encoding {
            Encoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
            Encoding::Utf16Le | Encoding::Utf16Be => {
                let units = bytes.chunks(2).map(|pair| match (pair, self.encoding) {
                    ([a, b], Encoding::Utf16Le) => u16::from_le_bytes([*a, *b]),
                    ([a, b], _) => u16::from_be_bytes([*a, *b]),
                    // A dangling odd byte at the very end: not a character.
                    _ => 0xFFFD,
                });
                char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut out = if big_endian { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
        for unit in text.encode_utf16() {
            out.extend(if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() });
        }
        out
    }

    #[test]
    fn boms_are_dropped_and_utf16_is_decoded() {
        assert_eq!(decode(b"\xEF\xBB\xBFa=1\n"), "a=1\n");
        assert_eq!(decode(&utf16("é=1\n😀", false)), "é=1\n😀");
        assert_eq!(decode(&utf16("é=1\n😀", true)), "é=1\n😀");
        // Without a BOM, UTF-16 is not guessed at.
        assert_eq!(decode(b"a\0=\0"), "a\0=\0");
        assert_eq!(decode(b"a\xFFb"), "a\u{FFFD}b");
    }

    #[test]
    fn streaming_matches_the_whole_file_at_every_split() {
        let samples: Vec<Vec<u8>> = vec![
            utf16("x😀é\nyz", false),
            utf16("x😀é\nyz", true),
            "\u{feff}aé😀b\n".as_bytes().to_vec(),
            b"ab\xE2\x82".to_vec(),
            b"a".to_vec(),
        ];
        for bytes in samples {
            let whole = decode(&bytes).into_owned();
            for size in 1..=4 {
                let mut decoder = StreamDecoder::default();
                let mut text: String = bytes.chunks(size).map(|piece| decoder.feed(piece)).collect();
                text.push_str(&decoder.finish());
                assert_eq!(text, whole, "{bytes:?} in pieces of {size}");
            }
        }
    }
}
