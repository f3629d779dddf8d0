use super::*;

fn settings(url: &str, password: &str, password_file: &str) -> DatabaseSettings {
    let mut settings = crate::config::Settings::defaults().unwrap().database;
    settings.url = url.into();
    settings.password = password.into();
    settings.password_file = password_file.to_owned();
    settings
}

#[test]
fn no_password_keeps_the_url() {
    let url = "postgres://app:old@db:5432/jobs?sslmode=disable";
    assert_eq!(configured_url(&settings(url, "", "")).unwrap(), url);
}

#[test]
fn password_replaces_the_urls() {
    let url = configured_url(&settings("postgres://app:old@db:5432/jobs", "s3cr:t/@", "")).unwrap();
    let options: PgConnectOptions = url.parse().unwrap();
    assert_eq!(options.get_username(), "app");
    assert_eq!(options.get_host(), "db");
    assert_eq!(options.get_database(), Some("jobs"));
    let parsed: tokio_postgres::Config = url.parse().unwrap();
    assert_eq!(parsed.get_password(), Some("s3cr:t/@".as_bytes()));
}

#[test]
fn password_file_content_without_its_newline_is_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pw");
    std::fs::write(&file, "from file \n").unwrap();
    let file = file.to_str().unwrap();
    let url = configured_url(&settings("postgres://app@db/jobs", "", file)).unwrap();
    let parsed: tokio_postgres::Config = url.parse().unwrap();
    assert_eq!(parsed.get_password(), Some("from file ".as_bytes()));
    assert_eq!(parsed.get_user(), Some("app"));
}

#[test]
fn socket_urls_take_the_password_as_a_parameter() {
    let url = configured_url(&settings(
        "postgres:///jobs?host=/run/postgresql&password=old",
        "new",
        "",
    ))
    .unwrap();
    let parsed: tokio_postgres::Config = url.parse().unwrap();
    assert_eq!(parsed.get_password(), Some("new".as_bytes()));
    let options: PgConnectOptions = url.parse().unwrap();
    assert_eq!(options.get_database(), Some("jobs"));
}

#[test]
fn password_file_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    for file in [missing, empty] {
        let err = configured_url(&settings(
            "postgres://app@db/jobs",
            "",
            file.to_str().unwrap(),
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("database.password_file"), "{err}");
    }
    let err = configured_url(&settings("mysql://app@db/jobs", "", ""))
        .map(|_| ())
        .and_then(|_| configured_url(&settings("mysql://app@db/jobs", "pw", "")).map(|_| ()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("database.password"), "{err}");
}
