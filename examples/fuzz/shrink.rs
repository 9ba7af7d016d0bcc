//! Minimises a failing input: delete chunks of lines, then of bytes, halving the chunk
//! each round (delta debugging's simple form), keeping a deletion while the input still
//! fails the same way. Bounded in tries, since a hanging candidate costs a full limit.

pub fn shrink(
    input: &[u8],
    max_tries: usize,
    still_fails: &mut dyn FnMut(&[u8]) -> bool,
) -> Vec<u8> {
    let mut best = input.to_vec();
    let mut tries = 0;
    for unit in [Unit::Line, Unit::Byte] {
        let mut chunk = pieces(&best, unit).len().div_ceil(2).max(1);
        loop {
            let mut start = 0;
            while start < pieces(&best, unit).len() {
                if tries >= max_tries {
                    return best;
                }
                let parts = pieces(&best, unit);
                let end = (start + chunk).min(parts.len());
                let candidate: Vec<u8> = parts[..start]
                    .iter()
                    .chain(&parts[end..])
                    .flat_map(|p| p.iter().copied())
                    .collect();
                tries += 1;
                if candidate.len() < best.len() && still_fails(&candidate) {
                    best = candidate;
                } else {
                    start += chunk;
                }
            }
            if chunk == 1 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
    }
    best
}

#[derive(Clone, Copy)]
enum Unit {
    Line,
    Byte,
}

fn pieces(input: &[u8], unit: Unit) -> Vec<&[u8]> {
    match unit {
        Unit::Line => input.split_inclusive(|&b| b == b'\n').collect(),
        Unit::Byte => input.chunks(1).collect(),
    }
}
