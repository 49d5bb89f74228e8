//! The documentation matches the code: every operation of the OpenAPI
//! document has a curl example in docs/api-guide.md, and the `/docs` page
//! loads everything it needs from the ingress itself (it must work on a
//! network without internet).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use support::contract::{self, Operation};
use support::TestEnv;
use utoipa::OpenApi as _;

/// The shell code blocks of a Markdown page, continuation lines joined.
fn shell_lines(markdown: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_shell = false;
    let mut current = String::new();
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_shell = !in_shell && matches!(trimmed.trim_start_matches('`'), "sh" | "bash");
            continue;
        }
        if !in_shell {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(start) => current.push_str(start),
            None => {
                current.push_str(line);
                lines.push(std::mem::take(&mut current));
            }
        }
    }
    lines
}

/// The requests the curl commands of a page make: method and URL path
/// (`$API/...` with the query cut off).
fn curl_requests(markdown: &str) -> Vec<(String, String)> {
    let mut requests = Vec::new();
    for line in shell_lines(markdown) {
        // each curl up to the next one on the same line
        let parts = line.split("curl ").skip(1);
        for part in parts {
            let Some(at) = part.find("$API") else {
                continue;
            };
            let path: String = part[at + 4..]
                .chars()
                .take_while(|c| !matches!(c, '"' | '\'' | ' ' | '?' | '\t'))
                .collect();
            let words: Vec<&str> = part.split_whitespace().collect();
            let explicit = words
                .windows(2)
                .find(|w| w[0] == "-X" || w[0] == "--request")
                .map(|w| w[1].trim_matches(['"', '\'']).to_uppercase());
            let sends_data = words.iter().any(|w| {
                *w == "-d"
                    || *w == "-F"
                    || w.starts_with("--data")
                    || w.starts_with("--json")
                    || w.starts_with("--form")
            });
            let method = explicit.unwrap_or_else(|| {
                if sends_data && !words.contains(&"-G") {
                    "POST".to_owned()
                } else {
                    "GET".to_owned()
                }
            });
            // `$API$1` in a shell function is not a path of its own
            if path.starts_with('/') {
                requests.push((method, path));
            }
        }
    }
    requests
}

/// Whether a concrete path (`/v1/users/$SOMCHAI`) fits a template
/// (`/v1/users/{id}`).
fn fits(template: &str, path: &str) -> bool {
    let template: Vec<&str> = template.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    template.len() == path.len()
        && template
            .iter()
            .zip(&path)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

#[test]
fn every_operation_has_a_curl_example_in_the_api_guide() {
    let spec = serde_json::to_value(khlang_ingress::openapi::ApiDoc::openapi()).unwrap();
    let operations = contract::operations(&spec);
    let requests = curl_requests(&contract::doc("api-guide.md"));
    assert!(
        requests.len() >= operations.len(),
        "the curl commands were not found"
    );
    let missing: Vec<&Operation> = operations
        .iter()
        .filter(|(method, template)| {
            !requests
                .iter()
                .any(|(m, path)| m == method && fits(template, path))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "docs/api-guide.md has no curl example for: {missing:?}"
    );
    // and every example calls an operation that exists
    let unknown: BTreeSet<&(String, String)> = requests
        .iter()
        .filter(|(method, path)| {
            !operations
                .iter()
                .any(|(m, template)| m == method && fits(template, path))
                && !matches!(path.as_str(), "/openapi.json" | "/docs")
        })
        .collect();
    assert!(
        unknown.is_empty(),
        "docs/api-guide.md calls what the API does not have: {unknown:?}"
    );
}

#[test]
fn the_curl_reader_sees_methods_and_paths() {
    let page = "```sh\ncurl -sS -X PATCH \"$API/v1/users/$ID\" \\\n  -d '{}'\n\
                jq -n '{}' | curl -sS \"$API/v1/auth/login\" --data-binary @-\n\
                curl -sS -G \"$API/v1/users\" --data-urlencode q=x\n\
                curl -sS \"$API/v1/commands/$CMD?wait=10\"\n```\n\
                ```json\ncurl \"$API/not/shell\" -d x\n```\n";
    assert_eq!(
        curl_requests(page),
        vec![
            ("PATCH".to_owned(), "/v1/users/$ID".to_owned()),
            ("POST".to_owned(), "/v1/auth/login".to_owned()),
            ("GET".to_owned(), "/v1/users".to_owned()),
            ("GET".to_owned(), "/v1/commands/$CMD".to_owned()),
        ]
    );
    assert!(fits("/v1/users/{id}/role", "/v1/users/$SOMCHAI/role"));
    assert!(!fits("/v1/users/{id}", "/v1/users/$SOMCHAI/role"));
}

/// `src="..."` and `href="..."` values of an HTML page.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for part in html.split(attribute).skip(1) {
            found.push(part.split('"').next().unwrap_or_default().to_owned());
        }
    }
    found
}

#[tokio::test]
async fn the_docs_page_needs_nothing_from_elsewhere() {
    let env = TestEnv::new().await;
    let response = env.call(Method::GET, "/docs", None, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    // the browser itself refuses anything from elsewhere
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
    ] {
        assert!(policy.contains(directive), "{policy}");
    }
    let html = response.text().await.unwrap();
    let references = references(&html);
    assert!(
        references.contains(&"/docs/swagger-ui-bundle.js".to_owned()),
        "{references:?}"
    );
    for reference in &references {
        if reference.starts_with('#') {
            continue;
        }
        assert!(
            reference.starts_with('/') && !reference.starts_with("//"),
            "the page loads {reference} from elsewhere"
        );
        let asset = env.call(Method::GET, reference, None, None).await;
        assert_eq!(asset.status(), StatusCode::OK, "{reference}");
        assert!(!asset.bytes().await.unwrap().is_empty(), "{reference}");
    }
    // the table of contents names every operation of the document
    let spec: Value = env
        .call(Method::GET, "/openapi.json", None, None)
        .await
        .json()
        .await
        .unwrap();
    for (method, path) in contract::operations(&spec) {
        let entry = format!(
            "<span class=\"m {}\">{}</span>{path}</a>",
            method.to_lowercase(),
            method.to_lowercase()
        );
        assert!(html.contains(&entry), "{method} {path} not in the contents");
    }
    let missing = env.call(Method::GET, "/docs/nothing.js", None, None).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    env.stop().await;
}
