//! RL001 syntax-error: the file could only be analysed as far as the parser recovered.

use super::{find, Finding};
use crate::model::FileModel;

pub fn check(file_id: usize, file: &FileModel) -> Vec<Finding> {
    let rule = find("RL001").expect("RL001 is registered");
    file.syntax_errors
        .iter()
        .map(|error| {
            Finding::new(
                rule,
                file_id,
                error.span,
                format!("syntax error: {}", error.message),
                error.message.clone(),
            )
        })
        .collect()
}
