//! CSV records: delimiters, quotes, multi-line records, numbering, malformed records.

use std::io::{self, Read};

use crate::import::record::{CsvFormat, Malformed, Record, Records};

fn read(input: &[u8], format: CsvFormat) -> Vec<Record> {
    Records::new(input, format)
        .collect::<io::Result<_>>()
        .expect("no I/O error")
}

fn fmt(delimiter: u8, quote: u8) -> CsvFormat {
    CsvFormat { delimiter, quote }
}

/// (record number, line, fields) of each record.
fn summary(records: &[Record]) -> Vec<(u64, u64, Vec<String>)> {
    records
        .iter()
        .map(|r| (r.number, r.line, r.fields.clone().expect("well-formed")))
        .collect()
}

fn row(number: u64, line: u64, fields: &[&str]) -> (u64, u64, Vec<String>) {
    (number, line, super::fields(fields))
}

#[test]
fn pipe_semicolon_and_tab_delimiters() {
    for d in [b'|', b';', b'\t'] {
        let d_char = d as char;
        let text = format!("a{d_char}b{d_char}c\n1{d_char}{d_char}3\n");
        let records = read(text.as_bytes(), fmt(d, b'"'));
        assert_eq!(
            summary(&records),
            vec![row(1, 1, &["a", "b", "c"]), row(2, 2, &["1", "", "3"])],
            "delimiter {d_char:?}"
        );
    }
}

#[test]
fn quoted_fields_hold_delimiters_quotes_and_line_breaks() {
    let text = b"u4,\"Hopper, Jr.\",x\nu5,\"two\nlines\r\nhere\",\"say \"\"hi\"\"\"\nu6,end\n";
    let records = read(text, CsvFormat::default());
    assert_eq!(
        summary(&records),
        vec![
            row(1, 1, &["u4", "Hopper, Jr.", "x"]),
            row(2, 2, &["u5", "two\nlines\r\nhere", "say \"hi\""]),
            row(3, 5, &["u6", "end"]),
        ]
    );
}

#[test]
fn another_quote_character() {
    let text = b"'a|b'|\"c\"|'it''s'\n";
    let records = read(text, fmt(b'|', b'\''));
    assert_eq!(
        summary(&records),
        vec![row(1, 1, &["a|b", "\"c\"", "it's"])]
    );
}

#[test]
fn blank_lines_crlf_bom_and_no_final_newline() {
    let text = b"\xef\xbb\xbfa,b\r\n\r\n\nc\r\nd,e,f";
    let records = read(text, CsvFormat::default());
    assert_eq!(
        summary(&records),
        vec![
            row(1, 1, &["a", "b"]),
            row(2, 4, &["c"]),
            row(3, 5, &["d", "e", "f"])
        ]
    );
    assert!(read(b"", CsvFormat::default()).is_empty());
    assert!(read(b"\n\r\n", CsvFormat::default()).is_empty());
}

#[test]
fn invalid_utf8_rejects_only_that_record() {
    let text = b"ok,1\nbad,\xff\xfe\nok,2\n";
    let records = read(text, CsvFormat::default());
    assert_eq!(records.len(), 3);
    assert_eq!(records[1].line, 2);
    assert_eq!(records[1].fields, Err(Malformed::InvalidUtf8 { column: 2 }));
    assert_eq!(records[2].fields, Ok(super::fields(&["ok", "2"])));
}

#[test]
fn a_nul_byte_rejects_only_that_record() {
    let text = b"ok,1\nbad,a\x00b\nok,2\n";
    let records = read(text, CsvFormat::default());
    assert_eq!(records.len(), 3);
    assert_eq!(
        records[1].fields,
        Err(Malformed::NulCharacter { column: 2 })
    );
    assert_eq!(records[2].fields, Ok(super::fields(&["ok", "2"])));
}

#[test]
fn an_overlong_record_is_read_through_with_bounded_memory() {
    let mut text = b"a,1\nb,\"".to_vec();
    text.extend(std::iter::repeat_n(b'x', 100_000));
    text.extend(b"\nstill quoted\",2\nc,3\n");
    let records: Vec<_> = Records::new(&text[..], CsvFormat::default())
        .max_record_bytes(1000)
        .collect::<io::Result<_>>()
        .unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(
        records[1].fields,
        Err(Malformed::TooLong { max_bytes: 1000 })
    );
    assert_eq!((records[2].number, records[2].line), (3, 4));
    assert_eq!(records[2].fields, Ok(super::fields(&["c", "3"])));
}

#[test]
fn records_split_across_reads_are_whole() {
    /// Hands out one byte per read.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(buf.len()).min(1);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let text = b"\xef\xbb\xbfa,\"b\nc\"\r\n\nd,e\n";
    let records: Vec<_> = Records::new(Trickle(text), CsvFormat::default())
        .collect::<io::Result<_>>()
        .unwrap();
    assert_eq!(
        summary(&records),
        vec![row(1, 1, &["a", "b\nc"]), row(2, 4, &["d", "e"])]
    );
}

#[test]
fn io_errors_end_the_records() {
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("disk gone"))
        }
    }
    let mut records = Records::new(Broken, CsvFormat::default());
    assert!(matches!(records.next(), Some(Err(_))));
    assert!(records.next().is_none());
}

#[test]
fn formats_from_the_request() {
    assert_eq!(CsvFormat::parse(None, None), Ok(CsvFormat::default()));
    assert_eq!(CsvFormat::parse(Some("|"), Some("'")), Ok(fmt(b'|', b'\'')));
    assert_eq!(CsvFormat::parse(Some("\t"), None), Ok(fmt(b'\t', b'"')));
    assert_eq!(CsvFormat::parse(Some("\\t"), None), Ok(fmt(b'\t', b'"')));
    assert!(CsvFormat::parse(Some(",,"), None).is_err());
    assert!(CsvFormat::parse(Some("§"), None).is_err());
    assert!(CsvFormat::parse(Some("\n"), None).is_err());
    assert!(CsvFormat::parse(Some(""), None).is_err());
    assert!(
        CsvFormat::parse(Some("\""), None).is_err(),
        "same as the quote"
    );
}
