//! How deeply a Python file nests, measured on its tokens before it is parsed.
//!
//! The parser grows its own stack, but the syntax tree it builds is dropped, and parts of
//! it walked, recursively: a generated file nesting brackets, blocks or an operator chain
//! hundreds of thousands deep overflows even a worker's large stack, and a stack overflow
//! aborts the whole process rather than one file. Such files are refused before parsing,
//! as the Rust front-end refuses its own (`rust::too_deep`). CPython refuses far less
//! (200 nested brackets, 100 indentation levels, and a recursion limit while compiling),
//! so no file refused here can run.

use ruff_python_ast::token::TokenKind;
use ruff_python_parser::{lexer, Mode};

/// Brackets and indented blocks, each, nested deeper than this are refused.
const MAX_NESTING: usize = 1_000;
/// Longer chains of operators, attribute accesses, calls, subscripts, `not`, `await`,
/// `lambda` or conditional expressions in one expression are refused: each link is one
/// more level of the syntax tree.
const MAX_CHAIN: usize = 20_000;

/// The reason `source` is refused, or `None` when it is safe to parse.
pub fn too_deep(source: &str) -> Option<String> {
    let mut lexer = lexer::lex(source, Mode::Module);
    let (mut brackets, mut blocks, mut chain) = (0usize, 0usize, 0usize);
    let (mut deepest_brackets, mut deepest_blocks, mut longest_chain) = (0, 0, 0);
    loop {
        match lexer.next_token() {
            TokenKind::EndOfFile => break,
            // A call or subscript applies to what precedes it: one more link.
            TokenKind::Lpar | TokenKind::Lsqb => {
                brackets += 1;
                chain += 1;
            }
            TokenKind::Lbrace => brackets += 1,
            TokenKind::Rpar | TokenKind::Rsqb | TokenKind::Rbrace => {
                brackets = brackets.saturating_sub(1);
            }
            TokenKind::Indent => blocks += 1,
            TokenKind::Dedent => blocks = blocks.saturating_sub(1),
            // Elements of a list or call, and statements, are siblings, not links.
            TokenKind::Comma | TokenKind::Semi | TokenKind::Newline => chain = 0,
            // Comparisons and `and`/`or` are flat in the tree (one node, many operands):
            // not links.
            TokenKind::Dot
            | TokenKind::Plus
            | TokenKind::Minus
            | TokenKind::Star
            | TokenKind::DoubleStar
            | TokenKind::Slash
            | TokenKind::DoubleSlash
            | TokenKind::Percent
            | TokenKind::At
            | TokenKind::Vbar
            | TokenKind::Amper
            | TokenKind::CircumFlex
            | TokenKind::LeftShift
            | TokenKind::RightShift
            | TokenKind::Tilde
            | TokenKind::Not
            | TokenKind::Await
            | TokenKind::Lambda
            | TokenKind::If
            | TokenKind::Else => chain += 1,
            _ => {}
        }
        deepest_brackets = deepest_brackets.max(brackets);
        deepest_blocks = deepest_blocks.max(blocks);
        longest_chain = longest_chain.max(chain);
    }
    if deepest_brackets > MAX_NESTING {
        Some(format!(
            "brackets nest {deepest_brackets} levels deep; racelint analyses up to {MAX_NESTING} \
             (CPython refuses more than 200), so the file was not analysed"
        ))
    } else if deepest_blocks > MAX_NESTING {
        Some(format!(
            "indented blocks nest {deepest_blocks} levels deep; racelint analyses up to \
             {MAX_NESTING} (CPython refuses more than 100), so the file was not analysed"
        ))
    } else if longest_chain > MAX_CHAIN {
        Some(format!(
            "an expression chains {longest_chain} operators, calls or attribute accesses; \
             racelint analyses up to {MAX_CHAIN}, so the file was not analysed"
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::too_deep;

    #[test]
    fn ordinary_code_and_wide_code_pass() {
        assert_eq!(
            too_deep("def f(x):\n    return [x.a + 1, (x or 2)]\n"),
            None
        );
        // Wide, not deep: many siblings, and flat boolean and comparison chains.
        let wide = format!(
            "X = [{}]\nY = {}\nZ = {}\n",
            "a.b + 1, ".repeat(30_000),
            vec!["a"; 30_000].join(" or "),
            vec!["a"; 30_000].join(" < ")
        );
        assert_eq!(too_deep(&wide), None);
    }

    #[test]
    fn deep_brackets_blocks_and_chains_are_named() {
        let brackets = format!("x = {}1{}\n", "(".repeat(1_001), ")".repeat(1_001));
        assert!(too_deep(&brackets)
            .unwrap()
            .starts_with("brackets nest 1001 levels deep"));
        let mut blocks = String::new();
        for depth in 0..1_001 {
            blocks.push_str(&format!("{}if x:\n", "\t".repeat(depth)));
        }
        blocks.push_str(&format!("{}pass\n", "\t".repeat(1_001)));
        assert!(too_deep(&blocks)
            .unwrap()
            .starts_with("indented blocks nest 1001 levels deep"));
        let chain = format!("x = a{}\n", ".b".repeat(20_001));
        assert!(too_deep(&chain)
            .unwrap()
            .starts_with("an expression chains 20001 operators"));
    }
}
