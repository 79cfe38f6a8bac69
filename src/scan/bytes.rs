//! Byte-level helpers the rules share: identifiers, blanks, the brackets around an offset, the
//! callee before an argument list. A leaf: it knows nothing of languages or rules.

pub fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

pub fn skip_blanks(b: &[u8], mut p: usize) -> usize {
    while p < b.len() && (b[p] == b' ' || b[p] == b'\t') {
        p += 1;
    }
    p
}

pub fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The unmatched `open` bracket enclosing `offset` on its line, if any.
pub fn enclosing_opener(b: &[u8], offset: usize, open: u8) -> Option<usize> {
    let close = match open {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    };
    let mut depth = 0usize;
    let mut i = offset;
    while i > 0 {
        i -= 1;
        match b[i] {
            b'\n' => return None,
            c if c == close => depth += 1,
            c if c == open => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    None
}

/// The unmatched opening brackets (`(`, `[`, `{`) that enclose `offset`, innermost first,
/// looking back at most `window` bytes.
pub fn enclosing_openers(b: &[u8], offset: usize, window: usize) -> impl Iterator<Item = usize> + '_ {
    let floor = offset.saturating_sub(window);
    let mut depth = [0usize; 3];
    let mut i = offset;
    std::iter::from_fn(move || {
        while i > floor {
            i -= 1;
            let kind = match b[i] {
                b')' | b'(' => 0,
                b']' | b'[' => 1,
                b'}' | b'{' => 2,
                _ => continue,
            };
            if matches!(b[i], b')' | b']' | b'}') {
                depth[kind] += 1;
            } else if depth[kind] > 0 {
                depth[kind] -= 1;
            } else {
                return Some(i);
            }
        }
        None
    })
}

/// The expression called or constructed by the bracket at `open`: `new MongoClient`,
/// `mongoose.connect`, `Mongo::Client.new`, `$manager->executeCommand`.
pub fn callee_before(b: &[u8], open: usize) -> String {
    let mut i = open;
    while i > 0 && (b[i - 1] == b' ' || b[i - 1] == b'\t') {
        i -= 1;
    }
    let end = i;
    while i > 0 && (is_ident_byte(b[i - 1]) || b".:$\\>-".contains(&b[i - 1])) {
        // `->` only as a whole; a lone `-` or `>` ends the callee.
        if (b[i - 1] == b'>' && (i < 2 || b[i - 2] != b'-')) || (b[i - 1] == b'-' && b.get(i) != Some(&b'>')) {
            break;
        }
        i -= 1;
    }
    let mut callee = String::from_utf8_lossy(&b[i..end]).into_owned();
    if b[..i].ends_with(b"new ") {
        callee.insert_str(0, "new ");
    }
    callee
}
