//! The list API's query string: filters and paging, checked once here.

use chrono::NaiveDate;

use super::code::Code;
use super::job::JobStatus;
use super::time::parse_date;

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 10;
/// Largest page size.
pub const MAX_LIMIT: i64 = 1000;

/// A parameter or field that breaks its rule: a 400 naming it, `GES.0001` unless the
/// contract has a code of its own for the case (a missing field, a bad path, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    pub code: Code,
    pub param: &'static str,
    pub rule: String,
}

impl ParamError {
    /// `param` broke `rule` (`GES.0001`).
    pub fn new(param: &'static str, rule: impl Into<String>) -> ParamError {
        ParamError::with_code(Code::BadParameter, param, rule)
    }

    /// `param` broke `rule`, answered with `code`.
    pub fn with_code(code: Code, param: &'static str, rule: impl Into<String>) -> ParamError {
        ParamError {
            code,
            param,
            rule: rule.into(),
        }
    }

    /// The required `param` is missing (`GES.7049`).
    pub fn missing(param: &'static str) -> ParamError {
        ParamError::with_code(Code::MissingField, param, "is required")
    }
}

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code {
            Code::BadParameter => write!(f, "invalid parameter {}: {}", self.param, self.rule),
            _ => write!(f, "{} {}", self.param, self.rule),
        }
    }
}

impl std::error::Error for ParamError {}

/// Which jobs of a project to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    pub status: Option<JobStatus>,
    pub graph_name: Option<String>,
    /// Jobs that began on or after 00:00:00 UTC of this day.
    pub start_day: Option<NaiveDate>,
    /// Jobs that ended on or before 23:59:59 UTC of this day (unfinished jobs excluded).
    pub end_day: Option<NaiveDate>,
}

/// One page: `offset` jobs skipped, at most `limit` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: i64,
    pub limit: i64,
}

impl Page {
    /// Reads `offset` (integer ≥ 0, default 0) and `limit` (1..=1000, default 10), both
    /// as text (query parameters).
    pub fn parse(offset: Option<&str>, limit: Option<&str>) -> Result<Page, ParamError> {
        let offset = match offset {
            None => 0,
            Some(raw) => parse_int("offset", raw, 0, i64::MAX)?,
        };
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(raw) => parse_int("limit", raw, 1, MAX_LIMIT)?,
        };
        Ok(Page { offset, limit })
    }
}

impl Default for Page {
    fn default() -> Self {
        Page {
            offset: 0,
            limit: DEFAULT_LIMIT,
        }
    }
}

/// A whole list request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobQuery {
    pub filter: JobFilter,
    pub page: Page,
}

impl JobQuery {
    /// Reads `offset`, `limit`, `status`, `graph_name`, `start_time`, `end_time` (`get`
    /// answers a parameter's text); other parameters are ignored.
    pub fn parse<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<JobQuery, ParamError> {
        let page = Page::parse(get("offset"), get("limit"))?;
        let status = get("status")
            .map(|raw| {
                JobStatus::parse_filter(raw).ok_or_else(|| {
                    ParamError::new(
                        "status",
                        "must be one of running, waiting, success, partiallyFailed, failed (pending is accepted for waiting)",
                    )
                })
            })
            .transpose()?;
        let start_day = get("start_time")
            .map(|raw| parse_day("start_time", raw))
            .transpose()?;
        let end_day = get("end_time")
            .map(|raw| parse_day("end_time", raw))
            .transpose()?;
        if let (Some(start), Some(end)) = (start_day, end_day)
            && start > end
        {
            return Err(ParamError::new("start_time", "must not be after end_time"));
        }
        let graph_name = get("graph_name").map(str::to_owned);
        Ok(JobQuery {
            filter: JobFilter {
                status,
                graph_name,
                start_day,
                end_day,
            },
            page,
        })
    }
}

fn parse_int(param: &'static str, raw: &str, min: i64, max: i64) -> Result<i64, ParamError> {
    let rule = || {
        if max == i64::MAX {
            format!("must be an integer of at least {min}")
        } else {
            format!("must be an integer from {min} to {max}")
        }
    };
    let value: i64 = raw
        .trim()
        .parse()
        .map_err(|_| ParamError::new(param, rule()))?;
    if value < min || value > max {
        return Err(ParamError::new(param, rule()));
    }
    Ok(value)
}

fn parse_day(param: &'static str, raw: &str) -> Result<NaiveDate, ParamError> {
    parse_date(raw).ok_or_else(|| ParamError::new(param, "must be a date yyyy-MM-dd"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<JobQuery, ParamError> {
        JobQuery::parse(|name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v))
    }

    #[test]
    fn defaults_are_first_ten() {
        assert_eq!(parse(&[]).unwrap(), JobQuery::default());
        assert_eq!(
            JobQuery::default().page,
            Page {
                offset: 0,
                limit: 10
            }
        );
    }

    #[test]
    fn numbers_come_as_strings_and_are_range_checked() {
        let q = parse(&[("offset", "20"), ("limit", "1000")]).unwrap();
        assert_eq!(
            q.page,
            Page {
                offset: 20,
                limit: 1000
            }
        );
        for (name, raw) in [
            ("limit", "0"),
            ("limit", "1001"),
            ("limit", "x"),
            ("offset", "-1"),
            ("offset", "1.5"),
        ] {
            assert_eq!(parse(&[(name, raw)]).unwrap_err().param, name);
        }
    }

    #[test]
    fn status_accepts_the_contract_values_only() {
        assert_eq!(
            parse(&[("status", "waiting")]).unwrap().filter.status,
            Some(JobStatus::Pending)
        );
        assert_eq!(
            parse(&[("status", "pending")]).unwrap().filter.status,
            Some(JobStatus::Pending)
        );
        let err = parse(&[("status", "done")]).unwrap_err();
        assert_eq!(err.param, "status");
        assert!(err.rule.contains("partiallyFailed"));
    }

    #[test]
    fn dates_are_days_and_ordered() {
        let q = parse(&[("start_time", "2024-01-01"), ("end_time", "2024-01-01")]).unwrap();
        assert_eq!(q.filter.start_day, q.filter.end_day);
        assert_eq!(
            parse(&[("start_time", "2024-01-02"), ("end_time", "2024-01-01")])
                .unwrap_err()
                .param,
            "start_time"
        );
        assert_eq!(
            parse(&[("end_time", "2024-13-01")]).unwrap_err().param,
            "end_time"
        );
        assert_eq!(
            parse(&[("start_time", "1700000000")]).unwrap_err().param,
            "start_time"
        );
    }

    #[test]
    fn unknown_parameters_are_ignored() {
        assert!(parse(&[("foo", "bar"), ("graph_name", "g1")]).is_ok());
    }
}
