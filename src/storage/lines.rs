//! Lines of a text object read in pages: skip `offset` lines, keep the next `limit`, and
//! say whether more follow; for reject logs of any size.
//!
//! Policy: memory stays flat whatever the object's size or the length of its lines: lines
//! before the page are skipped in the reader's buffer without being copied, and a kept line
//! is cut at [`MAX_LINE_BYTES`] (the rest of it skipped).

use std::io::{self, BufRead};

/// The most bytes of one line a page keeps.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// One page of lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePage {
    /// The lines (without their line ends; invalid UTF-8 replaced).
    pub lines: Vec<String>,
    /// Whether a line follows the page.
    pub more: bool,
}

/// Reads lines `offset..offset + limit` of `input`.
pub fn read_page(mut input: impl BufRead, offset: u64, limit: usize) -> io::Result<LinePage> {
    if !skip_lines(&mut input, offset)? {
        return Ok(LinePage {
            lines: Vec::new(),
            more: false,
        });
    }
    let mut lines = Vec::with_capacity(limit.min(1024));
    let mut line = Vec::new();
    while lines.len() < limit {
        if !keep_line(&mut input, &mut line)? {
            break;
        }
        lines.push(String::from_utf8_lossy(&line).into_owned());
    }
    let more = !input.fill_buf()?.is_empty();
    Ok(LinePage { lines, more })
}

/// Consumes `n` lines, counting line ends a buffer at a time; `false`: the input ended
/// first.
fn skip_lines(input: &mut impl BufRead, mut n: u64) -> io::Result<bool> {
    while n > 0 {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return Ok(false);
        }
        let mut used = chunk.len();
        for end in memchr::memchr_iter(b'\n', chunk) {
            n -= 1;
            if n == 0 {
                used = end + 1;
                break;
            }
        }
        input.consume(used);
    }
    Ok(true)
}

/// Reads one line into `line` (cut at [`MAX_LINE_BYTES`], without `\n` or `\r\n`);
/// `false` at the end of the input.
fn keep_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<bool> {
    line.clear();
    let mut any = false;
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (part, done) = match memchr::memchr(b'\n', chunk) {
            Some(end) => (end, true),
            None => (chunk.len(), false),
        };
        let room = MAX_LINE_BYTES.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..part.min(room)]);
        input.consume(if done { part + 1 } else { part });
        if done {
            break;
        }
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str, offset: u64, limit: usize) -> LinePage {
        // A tiny buffer, so lines cross buffer boundaries.
        read_page(
            io::BufReader::with_capacity(3, text.as_bytes()),
            offset,
            limit,
        )
        .unwrap()
    }

    #[test]
    fn pages_through_lines() {
        let text = "a:1: bad\nb:2: worse\r\nc:3: worst\n";
        let first = page(text, 0, 2);
        assert_eq!(first.lines, ["a:1: bad", "b:2: worse"]);
        assert!(first.more);
        let last = page(text, 2, 2);
        assert_eq!(last.lines, ["c:3: worst"]);
        assert!(!last.more);
        assert_eq!(page(text, 5, 2).lines, Vec::<String>::new());
        assert_eq!(page("x\ny", 1, 5).lines, ["y"]);
    }

    #[test]
    fn a_long_line_is_cut_and_the_next_one_read() {
        let long = "z".repeat(MAX_LINE_BYTES * 3);
        let text = format!("{long}\nnext\n");
        let read = page(&text, 0, 2);
        assert_eq!(read.lines[0].len(), MAX_LINE_BYTES);
        assert_eq!(read.lines[1], "next");
        assert_eq!(page(&text, 1, 1).lines, ["next"]);
    }
}
