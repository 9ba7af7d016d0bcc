//! Byte offsets to line/column positions, shared by every front-end.

use crate::model::{Pos, Span};

/// Start offsets of every line of one text. Lines end at `\n`, `\r\n` or a lone `\r`,
/// as editors and SARIF viewers count them (and as Python does; the Python front-end has
/// already turned lone `\r`s into `\n`s), so every report agrees on line numbers.
pub struct LineIndex {
    starts: Vec<usize>,
    /// Per line, whether it is all ASCII: there a column is a byte count, which spares
    /// counting characters for every position (most lines of most files).
    ascii: Vec<bool>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        starts.extend(
            bytes
                .iter()
                .enumerate()
                .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
                .map(|(i, _)| i + 1),
        );
        let ascii = starts
            .iter()
            .enumerate()
            .map(|(line, &start)| {
                let end = starts.get(line + 1).copied().unwrap_or(bytes.len());
                bytes[start..end].is_ascii()
            })
            .collect();
        LineIndex { starts, ascii }
    }

    /// 1-based line and column (in Unicode scalar values) of a byte offset.
    /// Offsets past the end or inside a character clamp instead of panicking.
    pub fn pos(&self, text: &str, offset: usize) -> Pos {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.starts.partition_point(|&s| s <= offset).max(1) - 1;
        let start = self.starts[line];
        let column = match self.ascii[line] {
            true => offset - start,
            false => text[start..offset].chars().count(),
        } + 1;
        Pos {
            line: (line + 1) as u32,
            column: column as u32,
        }
    }

    /// Byte offset where a 1-based line starts.
    pub fn line_start(&self, line: u32) -> usize {
        self.starts
            .get((line as usize).saturating_sub(1))
            .copied()
            .unwrap_or(0)
    }

    pub fn span(&self, text: &str, start: usize, end: usize) -> Span {
        let end = end.max(start);
        Span {
            start: self.pos(text, start),
            end: self.pos(text, end),
            offset: start.min(text.len()),
            len: end.min(text.len()) - start.min(text.len()),
        }
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_not_bytes() {
        let text = "a = 1\né = [x]\n";
        let index = LineIndex::new(text);
        assert_eq!(index.pos(text, 0), Pos { line: 1, column: 1 });
        let bracket = text.find('[').unwrap();
        assert_eq!(index.pos(text, bracket), Pos { line: 2, column: 5 });
        assert_eq!(index.pos(text, text.len()).line, 3);
    }

    #[test]
    fn ascii_lines_count_bytes_beside_lines_that_do_not() {
        let text = "x = 'ü'; y = [1]\nz = [2]\n";
        let index = LineIndex::new(text);
        assert_eq!(
            index.pos(text, text.find("[1]").unwrap()),
            Pos {
                line: 1,
                column: 14
            }
        );
        assert_eq!(
            index.pos(text, text.find("[2]").unwrap()),
            Pos { line: 2, column: 5 }
        );
    }

    #[test]
    fn crlf_and_lone_cr_end_lines() {
        let text = "a\r\nbb\rc\n";
        let index = LineIndex::new(text);
        assert_eq!(
            index.pos(text, text.find('b').unwrap()),
            Pos { line: 2, column: 1 }
        );
        assert_eq!(
            index.pos(text, text.find('c').unwrap()),
            Pos { line: 3, column: 1 }
        );
        assert_eq!(index.line_start(3), text.find('c').unwrap());
    }

    #[test]
    fn offsets_inside_a_character_clamp() {
        let text = "é";
        assert_eq!(
            LineIndex::new(text).pos(text, 1),
            Pos { line: 1, column: 1 }
        );
    }
}
