//! Mutations at three levels: bytes, tokens and structure. Each is small and blind; the
//! driver stacks a few per input, as AFL's "havoc" stage does, so that rare shapes (a
//! lock wrapped around a handoff inside a nested coroutine) come from common ones.

use crate::rng::Rng;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Python,
    Rust,
}

impl Lang {
    pub fn extension(self) -> &'static str {
        match self {
            Lang::Python => "py",
            Lang::Rust => "rs",
        }
    }
}

/// Inputs larger than this are not mutated further: the point is odd shapes, not size
/// (the 50 MB file and the 200,000-function module have tests of their own).
pub const MAX_LEN: usize = 256 * 1024;

/// One to four stacked mutations of `input`; `donor` is another corpus file to splice from.
pub fn mutate(rng: &mut Rng, lang: Lang, input: &[u8], donor: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..rng.range(1, 5) {
        out = match rng.below(10) {
            0..=2 => bytes(rng, &out, donor),
            3..=5 => tokens(rng, lang, &out),
            _ => structure(rng, lang, &out),
        };
        if out.len() > MAX_LEN {
            out.truncate(MAX_LEN);
        }
    }
    out
}

/// Byte-level: bit flips, odd bytes, deletions, splices, invalid UTF-8, NULs, a BOM and
/// mixed line endings.
fn bytes(rng: &mut Rng, input: &[u8], donor: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    let at = rng.below(out.len() + 1);
    match rng.below(9) {
        0 if !out.is_empty() => {
            let i = rng.below(out.len());
            out[i] ^= 1 << rng.below(8);
        }
        1 => {
            const ODD: &[u8] = b"\x00\xff\xc3\r\n\t\x0c\"'()[]{}#\\:;,.=@*&|<>!?`$";
            for _ in 0..rng.range(1, 9) {
                out.insert(at, ODD[rng.below(ODD.len())]);
            }
        }
        2 if !out.is_empty() => {
            let end = (at + rng.range(1, 64)).min(out.len());
            out.drain(at.min(end)..end);
        }
        3 if !donor.is_empty() => {
            let from = rng.below(donor.len());
            let to = (from + rng.range(1, 2048)).min(donor.len());
            out.splice(at..at, donor[from..to].iter().copied());
        }
        4 => {
            const INVALID: &[&[u8]] = &[
                b"\xc3\x28",
                b"\xff",
                b"\xed\xa0\x80",
                b"\xf4\x90\x80\x80",
                b"\xe2\x82",
            ];
            let bad = INVALID[rng.below(INVALID.len())];
            out.splice(at..at, bad.iter().copied());
        }
        5 => out.insert(at, 0),
        6 => {
            let mut with_bom = b"\xef\xbb\xbf".to_vec();
            with_bom.extend_from_slice(&out);
            out = with_bom;
        }
        7 => out = line_endings(rng, &out),
        _ if !out.is_empty() => {
            let end = (at + rng.range(1, 256)).min(out.len());
            let copy = out[at.min(end)..end].to_vec();
            out.splice(at..at, copy);
        }
        _ => out.push(b'\n'),
    }
    out
}

/// All LF to CRLF, some to lone CR, or a random mix.
fn line_endings(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let style = rng.below(3);
    let mut out = Vec::with_capacity(input.len() + input.len() / 16);
    for &b in input {
        if b != b'\n' {
            out.push(b);
            continue;
        }
        match (style, rng.below(4)) {
            (0, _) | (2, 0) => out.extend_from_slice(b"\r\n"),
            (1, 0) | (2, 1) => out.push(b'\r'),
            (2, 2) => out.extend_from_slice(b"\x0c\n"),
            _ => out.push(b'\n'),
        }
    }
    out
}

/// A rough lexer: identifier runs (any non-ASCII counts as identifier), digit runs,
/// whitespace runs, and single punctuation bytes. Good enough to find names and brackets.
fn lex(input: &[u8]) -> Vec<(usize, usize)> {
    let class = |b: u8| -> u8 {
        if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 {
            0
        } else if b.is_ascii_digit() {
            1
        } else if b.is_ascii_whitespace() {
            2
        } else {
            3
        }
    };
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < input.len() {
        let c = class(input[i]);
        let mut j = i + 1;
        if c != 3 {
            while j < input.len() && (class(input[j]) == c || (c == 0 && class(input[j]) == 1)) {
                j += 1;
            }
        }
        tokens.push((i, j));
        i = j;
    }
    tokens
}

fn is_name(token: &[u8]) -> bool {
    token
        .first()
        .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_' || b >= 0x80)
}

/// Identifiers that are legal (or nearly so) and unusual: ligatures, mathematical letters,
/// combining marks, right-to-left scripts, homoglyphs of `self`, zero-width joiners.
const UNICODE_NAMES: &[&str] = &[
    "ﬁle",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "ℌ",
    "µ",
    "e\u{301}tat",
    "אב",
    "a\u{200d}b",
    "ѕelf",
    "ｓｅｌｆ",
    "_\u{e9}t\u{e9}",
    "Σ",
    "変数",
];

/// Token-level: duplicate, drop, swap brackets, deep nesting, long chains, huge literals,
/// unusual Unicode identifiers.
fn tokens(rng: &mut Rng, lang: Lang, input: &[u8]) -> Vec<u8> {
    let tokens = lex(input);
    if tokens.is_empty() {
        return input.to_vec();
    }
    let (start, end) = tokens[rng.below(tokens.len())];
    let token = &input[start..end];
    let replacement: Vec<u8> = match rng.below(8) {
        0 => [token, token].concat(),
        1 => Vec::new(),
        2 => {
            const BRACKETS: &[u8] = b"()[]{}<>";
            if BRACKETS.contains(&token[0]) {
                vec![BRACKETS[rng.below(BRACKETS.len())]]
            } else {
                token.to_vec()
            }
        }
        3 => {
            let depth = rng.range(10, 3000);
            let (open, close) = match rng.below(3) {
                0 => ("(", ")"),
                1 => ("[", "]"),
                _ => match lang {
                    Lang::Python => ("{", "}"),
                    Lang::Rust => ("{ ", " }"),
                },
            };
            [
                open.repeat(depth).as_bytes(),
                token,
                close.repeat(depth).as_bytes(),
            ]
            .concat()
        }
        4 if is_name(token) => {
            let links = rng.range(10, 5000);
            let link: &[u8] = match (lang, rng.below(3)) {
                (Lang::Python, 0) => b".a",
                (Lang::Python, 1) => b"()",
                (Lang::Python, _) => b"[0]",
                (Lang::Rust, 0) => b".clone()",
                (Lang::Rust, 1) => b".0",
                (Lang::Rust, _) => b"?",
            };
            [token, &link.repeat(links)].concat()
        }
        5 => match rng.below(3) {
            0 => "9".repeat(rng.range(100, 20_000)).into_bytes(),
            1 => format!("\"{}\"", "x".repeat(rng.range(100, 100_000))).into_bytes(),
            _ => b"0x".iter().chain(&[b'f'; 4000]).copied().collect(),
        },
        6 if is_name(token) => UNICODE_NAMES[rng.below(UNICODE_NAMES.len())]
            .as_bytes()
            .to_vec(),
        _ => {
            let (other_start, other_end) = tokens[rng.below(tokens.len())];
            input[other_start..other_end].to_vec()
        }
    };
    [&input[..start], &replacement, &input[end..]].concat()
}

/// Structure-level, line based: move lines into a nested function, coroutine, lambda or
/// lock block; add an `await`; add a handoff of a name the file defines.
fn structure(rng: &mut Rng, lang: Lang, input: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(input);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let code: Vec<usize> = (0..lines.len())
        .filter(|&i| !lines[i].trim().is_empty())
        .collect();
    if code.is_empty() {
        return input.to_vec();
    }
    let first = code[rng.below(code.len())];
    let indent: String = lines[first]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    // The block: following lines indented at least as deep, up to a few.
    let (mut last, span) = (first, rng.range(0, 12));
    while last + 1 < lines.len()
        && last - first < span
        && (lines[last + 1].trim().is_empty() || lines[last + 1].starts_with(indent.as_str()))
    {
        last += 1;
    }
    let names = defined_names(&text, lang);
    let name = names
        .get(rng.below(names.len().max(1)))
        .cloned()
        .unwrap_or_else(|| "work".to_string());
    let body: String = lines[first..=last].concat();
    let step = if rng.below(6) == 0 { "\t" } else { "    " };
    let indented: String = body
        .split_inclusive('\n')
        .map(|l| format!("{step}{l}"))
        .collect();
    let newline = if body.ends_with('\n') { "" } else { "\n" };
    let replaced = match lang {
        Lang::Python => python_structure(rng, &indent, &name, &body, &indented, newline),
        Lang::Rust => rust_structure(rng, &indent, &name, &body, &indented, newline),
    };
    let mut out = String::with_capacity(text.len() + replaced.len());
    out.extend(lines[..first].iter().copied());
    out.push_str(&replaced);
    out.extend(lines[last + 1..].iter().copied());
    out.into_bytes()
}

fn python_structure(
    rng: &mut Rng,
    indent: &str,
    name: &str,
    body: &str,
    indented: &str,
    newline: &str,
) -> String {
    let header = |h: &str| format!("{indent}{h}\n{indented}{newline}");
    match rng.below(10) {
        0 => header("def _fuzz_inner():") + &format!("{indent}_fuzz_inner()\n"),
        1 => header("async def _fuzz_coro():") + &format!("{indent}await _fuzz_coro()\n"),
        2 => header("with self._lock:"),
        3 => header("async with lock:"),
        4 => header("for _item in self._items:"),
        5 => format!("{indent}(lambda: {})()\n", body.trim().replace('\n', " ")),
        6 => format!("{indent}await {}", body.trim_start()),
        7 => {
            const HANDOFFS: &[&str] = &[
                "await asyncio.to_thread({})",
                "threading.Thread(target={}, daemon=True).start()",
                "await loop.run_in_executor(None, {})",
                "self._executor.submit({})",
                "asyncio.create_task({}())",
                "asyncio.get_running_loop().call_soon_threadsafe({})",
                "asyncio.run({}())",
                "background_tasks.add_task({})",
            ];
            let call = HANDOFFS[rng.below(HANDOFFS.len())].replace("{}", name);
            format!("{indent}{call}\n{body}{newline}")
        }
        8 => {
            const ACCESSES: &[&str] = &[
                "self.{} = None",
                "self.{} += 1",
                "STATE[{}] = 1",
                "global {0}; {0} = {0}",
                "for _k in self.{}: pass",
                "if self.{} is None: self.{} = object()",
            ];
            let access = ACCESSES[rng.below(ACCESSES.len())].replace("{}", name);
            format!("{indent}{access}\n{body}{newline}")
        }
        _ => header("class _Fuzz:"),
    }
}

fn rust_structure(
    rng: &mut Rng,
    indent: &str,
    name: &str,
    body: &str,
    indented: &str,
    newline: &str,
) -> String {
    let wrap =
        |open: &str, close: &str| format!("{indent}{open}\n{indented}{newline}{indent}{close}\n");
    match rng.below(10) {
        0 => wrap("{ let _guard = LOCK.lock().unwrap();", "}"),
        1 => wrap("tokio::spawn(async move {", "});"),
        2 => wrap("std::thread::spawn(move || {", "});"),
        3 => wrap("tokio::task::spawn_blocking(move || {", "});"),
        4 => wrap("rayon::scope(|s| { s.spawn(|_| {", "}); });"),
        5 => wrap("async fn _fuzz_inner() {", "}"),
        6 => wrap("let _guard = self.state.read().await; {", "}"),
        7 => body
            .split_inclusive('\n')
            .map(|l| match l.trim_end().strip_suffix(';') {
                Some(stmt) if rng.below(2) == 0 => format!("{stmt}.await;\n"),
                _ => l.to_string(),
            })
            .collect(),
        8 => {
            const HANDOFFS: &[&str] = &[
                "tokio::task::spawn_blocking({});",
                "std::thread::spawn({});",
                "tokio::spawn({}());",
                "rayon::spawn({});",
                "let _ = {}().await;",
                "unsafe {{ {} += 1 }}",
            ];
            let call = HANDOFFS[rng.below(HANDOFFS.len())].replace("{}", name);
            format!("{indent}{call}\n{body}{newline}")
        }
        _ => wrap("impl Fuzz { fn inner(&self) {", "} }"),
    }
}

/// Names the file defines (`def`/`class`, `fn`/`struct`/`static`), handed to handoffs so
/// that mutations reach real functions.
fn defined_names(text: &str, lang: Lang) -> Vec<String> {
    let keywords: &[&str] = match lang {
        Lang::Python => &["def ", "class "],
        Lang::Rust => &["fn ", "struct ", "static "],
    };
    text.lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let line = line.strip_prefix("async ").unwrap_or(line);
            let line = line.strip_prefix("pub ").unwrap_or(line);
            let line = line.strip_prefix("mut ").unwrap_or(line);
            keywords.iter().find_map(|k| {
                let rest = line.strip_prefix(k)?;
                let rest = rest.strip_prefix("mut ").unwrap_or(rest);
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                (!name.is_empty()).then_some(name)
            })
        })
        .collect()
}
