//! Turning a Python file's bytes into text, as CPython does (PEP 263).

/// Decodes `bytes` to text: UTF-8 (BOM stripped) unless a PEP 263 `coding:` cookie on
/// line one or two names another encoding. Errors are messages for the user.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    if bytes.contains(&0) {
        return Err("binary file (contains NUL bytes); skipped".to_string());
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if let Some(label) = coding_cookie(bytes) {
        let normalized = label.to_ascii_lowercase().replace('_', "-");
        if !matches!(normalized.as_str(), "utf-8" | "utf8" | "utf-8-sig") {
            let encoding = encoding_rs::Encoding::for_label(normalized.as_bytes())
                .or_else(|| latin1_alias(&normalized))
                .ok_or_else(|| format!("unknown encoding `{label}` in the coding declaration"))?;
            let (text, _, had_errors) = encoding.decode(bytes);
            if had_errors {
                return Err(format!("not valid {label} as its coding declaration says"));
            }
            return Ok(text.into_owned());
        }
    }
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        let line = bytes[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        format!("not valid UTF-8 (line {line}) and no PEP 263 coding declaration names another encoding")
    })
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
    for line in bytes.split(|&b| b == b'\n').take(2) {
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
    }
}
