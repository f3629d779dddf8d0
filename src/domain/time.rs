//! Times on the wire: UTC, `yyyy-MM-dd'T'HH:mm:ss`, no zone, no fraction; dates as
//! `yyyy-MM-dd`.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Timelike, Utc};

/// Formats a time the way the GES API shows it, e.g. `2018-12-17T12:55:40`.
///
/// Written digit by digit: every job on every page has one or two times, and chrono's
/// format-string interpreter cost more than the rest of a job's JSON.
pub fn format_time(t: DateTime<Utc>) -> String {
    // The fields of the naive value: each accessor of `DateTime` re-applies the offset.
    let (date, time) = (t.naive_utc().date(), t.naive_utc().time());
    let year = date.year();
    if !(0..=9999).contains(&year) {
        return t.format("%Y-%m-%dT%H:%M:%S").to_string();
    }
    let mut out = [0u8; 19];
    let mut put = |at: usize, value: u32, width: usize| {
        let mut v = value;
        for i in (at..at + width).rev() {
            out[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year as u32, 4);
    put(5, date.month(), 2);
    put(8, date.day(), 2);
    put(11, time.hour(), 2);
    put(14, time.minute(), 2);
    put(17, time.second(), 2);
    for (at, sep) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
        out[at] = sep;
    }
    std::str::from_utf8(&out)
        .expect("ASCII digits and separators")
        .to_owned()
}

/// Parses a `yyyy-MM-dd` date.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    if raw.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()
}

/// 00:00:00 UTC of a day.
pub fn start_of_day(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// 00:00:00 UTC of the day after `day`: the exclusive end of that day.
pub fn end_of_day(day: NaiveDate) -> DateTime<Utc> {
    start_of_day(day) + TimeDelta::days(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_have_no_zone_and_no_fraction() {
        let t =
            Utc.with_ymd_and_hms(2018, 12, 17, 12, 55, 40).unwrap() + TimeDelta::milliseconds(999);
        assert_eq!(format_time(t), "2018-12-17T12:55:40");
    }

    #[test]
    fn times_match_chrono_formatting() {
        let pattern = "%Y-%m-%dT%H:%M:%S";
        let times = [
            Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 9, 5, 7).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(5, 6, 7, 8, 9, 10).unwrap(),
        ];
        for t in times {
            assert_eq!(format_time(t), t.format(pattern).to_string());
        }
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(
            parse_date("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2024-2-9"), None);
        assert_eq!(parse_date("2024-02-29T00:00:00"), None);
        assert_eq!(parse_date(""), None);
    }

    #[test]
    fn a_day_ends_where_the_next_begins() {
        let day = NaiveDate::from_ymd_opt(2024, 12, 31).unwrap();
        assert_eq!(format_time(start_of_day(day)), "2024-12-31T00:00:00");
        assert_eq!(format_time(end_of_day(day)), "2025-01-01T00:00:00");
    }
}
