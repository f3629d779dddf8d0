//! Token cases: 401 for anything that is not a valid token, 403 for a valid one that may
//! not read this project.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::helpers::{PROJECT, SECRET, TestApp};

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn sign(claims: serde_json::Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

async fn list_status(app: &TestApp, token: Option<&str>) -> (u16, String) {
    let (status, body) = app.get(&format!("/v2/{PROJECT}/graphs/jobs"), token).await;
    (status, body["error_code"].as_str().unwrap_or("").to_owned())
}

#[tokio::test]
async fn tokens_that_are_not_valid_answer_401() {
    let app = TestApp::spawn_reader().await;
    let good =
        json!({"sub": "a", "project_id": PROJECT, "roles": ["readonly"], "exp": now() + 600});
    assert_eq!(
        list_status(&app, Some(&sign(good.clone(), SECRET))).await.0,
        200
    );

    let mut expired = good.clone();
    expired["exp"] = json!(now() - 3600);
    let mut no_project = good.clone();
    no_project.as_object_mut().unwrap().remove("project_id");
    let mut no_exp = good.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut no_roles = good.clone();
    no_roles.as_object_mut().unwrap().remove("roles");
    let unsigned = {
        use base64::Engine;
        let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        format!(
            "{}.{}.",
            encode(br#"{"alg":"none","typ":"JWT"}"#),
            encode(good.to_string().as_bytes())
        )
    };
    let cases = [
        ("missing", None),
        ("garbage", Some("not.a.token".to_owned())),
        (
            "wrong key",
            Some(sign(good.clone(), "another-secret-of-some-length")),
        ),
        ("expired", Some(sign(expired, SECRET))),
        ("no project_id", Some(sign(no_project, SECRET))),
        ("no exp", Some(sign(no_exp, SECRET))),
        ("no roles", Some(sign(no_roles, SECRET))),
        ("alg none", Some(unsigned)),
    ];
    for (case, token) in cases {
        assert_eq!(
            list_status(&app, token.as_deref()).await,
            (401, "APIG.0301".to_owned()),
            "{case}"
        );
    }
}

#[tokio::test]
async fn valid_tokens_without_permission_answer_403() {
    let app = TestApp::spawn_reader().await;
    let cases = [
        ("other project", app.token("otherproj", &["operator"])),
        ("producer only", app.token(PROJECT, &["producer"])),
        ("unknown role", app.token(PROJECT, &["admin"])),
        ("no roles", app.token(PROJECT, &[])),
    ];
    for (case, token) in cases {
        assert_eq!(
            list_status(&app, Some(&token)).await,
            (403, "GES.7041".to_owned()),
            "{case}"
        );
    }
    for role in ["readonly", "operator"] {
        assert_eq!(
            list_status(&app, Some(&app.token(PROJECT, &[role])))
                .await
                .0,
            200,
            "{role}"
        );
    }
}

/// A reader app that requires `iss` and `aud` and allows `leeway` seconds of skew.
async fn strict_app(leeway: u64) -> TestApp {
    let mut settings = crate::helpers::test_settings(&crate::helpers::fresh_database().await);
    settings.worker.concurrency = 0;
    settings.auth.issuer = "issuer-a".into();
    settings.auth.audience = "jobcenter".into();
    settings.auth.leeway_secs = leeway;
    TestApp::spawn_with(settings).await
}

#[tokio::test]
async fn configured_issuer_and_audience_are_required_and_nbf_is_checked() {
    let app = strict_app(5).await;
    let good = json!({"sub": "a", "project_id": PROJECT, "roles": ["readonly"], "exp": now() + 600,
                      "iss": "issuer-a", "aud": "jobcenter"});
    assert_eq!(
        list_status(&app, Some(&sign(good.clone(), SECRET))).await.0,
        200
    );
    let without = |claim: &str| {
        let mut claims = good.clone();
        claims.as_object_mut().unwrap().remove(claim);
        sign(claims, SECRET)
    };
    let with = |claim: &str, value: serde_json::Value| {
        let mut claims = good.clone();
        claims[claim] = value;
        sign(claims, SECRET)
    };
    let cases = [
        ("no iss", without("iss")),
        ("no aud", without("aud")),
        ("other iss", with("iss", json!("issuer-b"))),
        ("other aud", with("aud", json!("other"))),
        ("nbf in an hour", with("nbf", json!(now() + 3600))),
        ("nbf past the leeway", with("nbf", json!(now() + 30))),
        ("nbf not a number", with("nbf", json!("soon"))),
    ];
    for (case, token) in cases {
        assert_eq!(
            list_status(&app, Some(&token)).await,
            (401, "APIG.0301".to_owned()),
            "{case}"
        );
    }
    let within = with("nbf", json!(now() + 2));
    assert_eq!(
        list_status(&app, Some(&within)).await.0,
        200,
        "nbf within the leeway"
    );
    let past = with("nbf", json!(now() - 10));
    assert_eq!(list_status(&app, Some(&past)).await.0, 200, "nbf passed");
}

#[tokio::test]
async fn an_expired_token_is_refused_once_the_leeway_has_passed() {
    let app = strict_app(5).await;
    let token = |exp: u64| {
        sign(
            json!({"sub": "a", "project_id": PROJECT, "roles": ["readonly"], "exp": exp,
                   "iss": "issuer-a", "aud": "jobcenter"}),
            SECRET,
        )
    };
    // Just inside and just outside the 5 s leeway (a second of margin for the clock).
    assert_eq!(list_status(&app, Some(&token(now() - 3))).await.0, 200);
    assert_eq!(
        list_status(&app, Some(&token(now() - 7))).await,
        (401, "APIG.0301".to_owned())
    );
    assert_eq!(
        list_status(&app, Some(&token(now() - 60))).await,
        (401, "APIG.0301".to_owned()),
        "the library's 60 s default is not ours"
    );
    // A token verified once is refused from the cache too once it expires.
    let soon = token(now() + 1);
    assert_eq!(list_status(&app, Some(&soon)).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_secs(8)).await;
    assert_eq!(
        list_status(&app, Some(&soon)).await,
        (401, "APIG.0301".to_owned())
    );
    let zero = strict_app(0).await;
    assert_eq!(
        list_status(&zero, Some(&token(now() - 1))).await,
        (401, "APIG.0301".to_owned()),
        "leeway 0: expired is expired"
    );
}
