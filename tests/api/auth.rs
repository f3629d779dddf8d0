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
