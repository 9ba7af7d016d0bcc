//! Turning a Python file's bytes into text, as CPython does (PEP 263).

/// Decodes `bytes` to text: UTF-8 (BOM stripped) unless a PEP 263 `coding:` cookie on
/// line one or two names another encoding. Errors are messages for the user, saying
/// what is wrong with the file (the caller adds what racelint did about it).
///
/// Line ends are read as CPython reads them (universal newlines): a lone `\r` ends a
/// line like `\n`, and becomes `\n` here. The replacement keeps every byte offset, and
/// spares every later stage (line numbers, code frames, fixes) from knowing about it.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    if bytes.contains(&0) {
        return Err("binary file (contains NUL bytes)".to_string());
    }
    let bom = bytes.starts_with(b"\xef\xbb\xbf");
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut text = match coding_cookie(bytes) {
        Some(label) if !is_utf8(&label) => {
            // CPython: "encoding problem: latin-1 with BOM". The two declarations
            // disagree, and either reading could be wrong.
            if bom {
                return Err(format!(
                    "starts with a UTF-8 byte-order mark but its coding declaration names \
                     `{label}`"
                ));
            }
            let normalized = label.to_ascii_lowercase().replace('_', "-");
            let encoding = encoding_rs::Encoding::for_label(normalized.as_bytes())
                .or_else(|| latin1_alias(&normalized))
                .ok_or_else(|| {
                    format!(
                        "its coding declaration names `{label}`, an encoding racelint does \
                         not know"
                    )
                })?;
            let (text, _, had_errors) = encoding.decode(bytes);
            if had_errors {
                return Err(format!("not valid {label} as its coding declaration says"));
            }
            text.into_owned()
        }
        _ => String::from_utf8(bytes.to_vec()).map_err(|e| {
            let line = bytes[..e.utf8_error().valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            format!(
                "not valid UTF-8 (line {line}) and no PEP 263 coding declaration names \
                 another encoding"
            )
        })?,
    };
    if text.contains('\r') {
        text = universal_newlines(text);
    }
    Ok(text)
}

/// Every spelling CPython accepts for UTF-8 in a coding declaration.
fn is_utf8(label: &str) -> bool {
    matches!(
        label.to_ascii_lowercase().replace('_', "-").as_str(),
        "utf-8" | "utf8" | "utf-8-sig"
    )
}

/// Lone `\r` to `\n`, byte for byte; `\r\n` stays as it is.
fn universal_newlines(text: String) -> String {
    let mut bytes = text.into_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            bytes[i] = b'\n';
        }
    }
    // Only one ASCII byte was replaced by another.
    String::from_utf8(bytes).expect("still UTF-8")
}

/// Python spells Latin-1 in ways the WHATWG label list does not know.
fn latin1_alias(label: &str) -> Option<&'static encoding_rs::Encoding> {
    matches!(
        label,
        "latin-1" | "iso-8859-1" | "iso8859-1" | "l1" | "latin1" | "8859"
    )
    .then_some(encoding_rs::WINDOWS_1252)
}

/// The encoding named by a `coding[:=]` comment on one of the first two lines.
fn coding_cookie(bytes: &[u8]) -> Option<String> {
    for line in first_lines(bytes, 2) {
        let line = String::from_utf8_lossy(line);
        let trimmed = line.trim_start_matches([' ', '\t', '\x0c']);
        if !trimmed.starts_with('#') {
            // A non-comment first line ends the search unless it is blank.
            if trimmed.trim().is_empty() {
                continue;
            }
            return None;
        }
        if let Some(at) = trimmed.find("coding") {
            let rest = &trimmed[at + "coding".len()..];
            if let Some(rest) = rest.strip_prefix([':', '=']) {
                let name: String = rest
                    .trim_start_matches([' ', '\t'])
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    .collect();
                if !name.is_empty() {
                    return Some(name);
                }
            }
        }
    }
    None
}

/// Up to `n` lines, ended by `\n`, `\r\n` or a lone `\r` (without their ends).
fn first_lines(bytes: &[u8], n: usize) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        if lines.len() == n {
            return lines;
        }
        let ends = byte == b'\n' || (byte == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
        if ends {
            let line = &bytes[start..i];
            lines.push(line.strip_suffix(b"\r").unwrap_or(line));
            start = i + 1;
        }
    }
    if lines.len() < n && start < bytes.len() {
        lines.push(&bytes[start..]);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn latin1_cookie_is_honoured() {
        let bytes = b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n";
        assert_eq!(
            decode(bytes).unwrap(),
            "# -*- coding: latin-1 -*-\nname = 'été'\n"
        );
    }

    #[test]
    fn invalid_utf8_without_cookie_is_an_error_naming_the_line() {
        let err = decode(b"a = 1\nb = '\xff'\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn binary_and_bom() {
        assert!(decode(b"\x00\x01").unwrap_err().contains("binary"));
        assert_eq!(decode(b"\xef\xbb\xbfx = 1").unwrap(), "x = 1");
        assert_eq!(
            decode(b"\xef\xbb\xbf# coding: utf_8\nx = 1").unwrap(),
            "# coding: utf_8\nx = 1"
        );
        let conflict = decode(b"\xef\xbb\xbf# coding: latin-1\nx = 1").unwrap_err();
        assert!(conflict.contains("byte-order mark"), "{conflict}");
    }

    #[test]
    fn unknown_codecs_are_named() {
        let err = decode(b"# -*- coding: klingon -*-\nx = 1\n").unwrap_err();
        assert_eq!(
            err,
            "its coding declaration names `klingon`, an encoding racelint does not know"
        );
    }

    #[test]
    fn lone_carriage_returns_end_lines_and_keep_offsets() {
        assert_eq!(
            decode(b"a = 1\rb = 2\r\nc = 3\r").unwrap(),
            "a = 1\nb = 2\r\nc = 3\n"
        );
        // The cookie is found on the second line whatever ends the first.
        for end in ["\n", "\r\n", "\r"] {
            let mut bytes =
                format!("#!/usr/bin/env python{end}# coding: latin-1{end}").into_bytes();
            bytes.extend(b"x = '\xe9'");
            assert!(decode(&bytes).unwrap().ends_with("x = '\u{e9}'"), "{end:?}");
        }
        // Cookie-like text further down a lone-CR file is not a cookie.
        let late = decode(b"# a\r# b\r# coding: klingon\rx = 1").unwrap();
        assert!(late.ends_with("x = 1"));
    }
}
