//! What syn does not give: comments (it keeps none) and how deeply a file nests. A
//! small scanner that knows enough Rust lexing (strings, raw strings, character
//! literals versus lifetimes, nested block comments) never to mistake code for a
//! comment or a comment for code.

/// The comments of a file, and the measures that tell whether parsing it is safe.
pub struct Scan {
    pub comments: Vec<Comment>,
    /// Deepest nesting of `(`, `[` and `{`.
    pub depth: usize,
    /// Longest run of `.` and operator characters with no `;`, `,` or brace between:
    /// a method chain or operator chain, which syn and span lookups walk recursively.
    pub chain: usize,
}

/// A comment: its byte range, text without the `//` or `/* */`, and whether nothing but
/// whitespace precedes it on its line.
pub struct Comment {
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub own_line: bool,
}

pub fn scan(source: &str) -> Scan {
    let bytes = source.as_bytes();
    let mut comments = Vec::new();
    let (mut depth, mut deepest, mut chain, mut longest) = (0usize, 0, 0usize, 0);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' | b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
                if bytes[i] == b'{' {
                    chain = 0;
                }
                i += 1;
            }
            b')' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'}' | b';' | b',' => {
                if bytes[i] == b'}' {
                    depth = depth.saturating_sub(1);
                }
                chain = 0;
                i += 1;
            }
            b'.' | b'+' | b'-' | b'*' | b'&' | b'|' | b'^' | b'%' | b'<' | b'>' | b'=' => {
                chain += 1;
                longest = longest.max(chain);
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = source[i..].find('\n').map_or(source.len(), |n| i + n);
                comments.push(comment(source, i, end, &source[i + 2..end]));
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = block_comment_end(bytes, i);
                let inner = source
                    .get(i + 2..end.saturating_sub(2).max(i + 2))
                    .unwrap_or("");
                comments.push(comment(source, i, end, inner));
                i = end;
            }
            b'"' => i = string_end(bytes, i + 1),
            b'\'' => i = char_or_lifetime_end(bytes, i),
            b'r' | b'b' | b'c' => match raw_string_start(bytes, i) {
                Some((hashes, quote)) => i = raw_string_end(bytes, quote + 1, hashes),
                None => i += 1,
            },
            _ => i += 1,
        }
    }
    Scan {
        comments,
        depth: deepest,
        chain: longest,
    }
}

fn comment(source: &str, start: usize, end: usize, text: &str) -> Comment {
    let line_start = source[..start].rfind('\n').map_or(0, |n| n + 1);
    Comment {
        start,
        end,
        text: text.to_string(),
        own_line: source[line_start..start].trim().is_empty(),
    }
}

fn block_comment_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0;
    let mut i = start;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// After the opening quote: the index past the closing one.
fn string_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// `r"…"`, `r#"…"#`, `br"…"`, `cr"…"`: the number of hashes and the quote's index.
fn raw_string_start(bytes: &[u8], i: usize) -> Option<(usize, usize)> {
    if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
        return None;
    }
    let mut j = i;
    if matches!(bytes[j], b'b' | b'c') {
        j += 1;
    }
    if bytes.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = bytes[j..].iter().take_while(|&&b| b == b'#').count();
    (bytes.get(j + hashes) == Some(&b'"')).then_some((hashes, j + hashes))
}

fn raw_string_end(bytes: &[u8], mut i: usize, hashes: usize) -> usize {
    while i < bytes.len() {
        if bytes[i] == b'"'
            && bytes[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&b| b == b'#')
                .count()
                == hashes
        {
            return i + 1 + hashes;
        }
        i += 1;
    }
    bytes.len()
}

/// `'a'`, `'\n'`, `'\u{1F600}'` are characters; `'a` and `'static` are lifetimes.
fn char_or_lifetime_end(bytes: &[u8], i: usize) -> usize {
    if bytes.get(i + 1) == Some(&b'\\') {
        // Past the escaped character, which may itself be a quote: `'\''`.
        let mut j = i + 3;
        while j < bytes.len() && bytes[j] != b'\'' && bytes[j] != b'\n' {
            j += 1;
        }
        return j + 1;
    }
    // One character (possibly several bytes of UTF-8), then a closing quote.
    let width = bytes.get(i + 1).map_or(1, |&b| {
        if b < 0x80 {
            1
        } else if b >= 0xF0 {
            4
        } else if b >= 0xE0 {
            3
        } else {
            2
        }
    });
    if bytes.get(i + 1 + width) == Some(&b'\'') {
        i + 2 + width
    } else {
        i + 1
    }
}

#[cfg(test)]
mod tests {
    use super::scan;

    #[test]
    fn comments_inside_strings_and_after_lifetimes() {
        let source = "fn f<'a>(x: &'a str) -> char { // one\n    let s = \"// no\"; let r = r#\"/* no \"# ;\n    /* two /* nested */ */ '/' }\n";
        let texts: Vec<String> = scan(source).comments.into_iter().map(|c| c.text).collect();
        assert_eq!(
            texts,
            vec![" one".to_string(), " two /* nested */ ".to_string()]
        );
    }

    #[test]
    fn an_escaped_quote_is_one_character() {
        let source = "const Q: [char; 2] = ['\\'', '\"'];\nunsafe impl Sync for A {} // racelint: ignore[RL306] ok\n";
        assert_eq!(scan(source).comments.len(), 1);
    }

    #[test]
    fn nesting_and_chains_are_measured() {
        let scan = scan("fn f() { a.b().c(((1))); }\n// (((((( in a comment\nlet s = \"((((\";");
        assert_eq!(scan.depth, 4);
        assert_eq!(scan.chain, 2);
    }

    #[test]
    fn own_line_comments_are_told_apart() {
        let comments = scan("// SAFETY: fine\nunsafe impl Sync for X {} // trailing\n").comments;
        assert!(comments[0].own_line);
        assert!(!comments[1].own_line);
    }
}
