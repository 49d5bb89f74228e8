//! `GET /openapi.json` and `GET /docs`: the spec, and a page people can
//! read, rendered here from the same spec (no scripts, nothing fetched from
//! elsewhere, so it works on a warehouse network without internet).

use std::fmt::Write as _;

use axum::response::{Html, IntoResponse};
use axum::Json;
use utoipa::OpenApi as _;

use crate::openapi::ApiDoc;

/// The OpenAPI document.
pub async fn openapi() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The documentation page.
pub async fn page() -> Html<String> {
    let spec = ApiDoc::openapi();
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>khlang API</title>\
         <style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}\
         code{background:#f3f3f3;padding:0 .2em}.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}\
         .m{font-weight:bold;text-transform:uppercase;margin-right:.5em}table{border-collapse:collapse}\
         td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}</style></head><body>",
    );
    let _ = write!(
        html,
        "<h1>{}</h1><p>{}</p><p>Machine-readable spec: <a href=\"/openapi.json\">/openapi.json</a>. \
         Send <code>Authorization: Bearer &lt;access token&gt;</code> from <code>POST /v1/auth/login</code>.</p>",
        escape(&spec.info.title),
        escape(spec.info.description.as_deref().unwrap_or_default())
    );
    for (path, item) in &spec.paths.paths {
        let operations = [
            ("get", &item.get),
            ("post", &item.post),
            ("patch", &item.patch),
            ("put", &item.put),
            ("delete", &item.delete),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            let _ = write!(
                html,
                "<div class=\"op\"><p><span class=\"m\">{method}</span><code>{}</code></p><p>{}</p>",
                escape(path),
                escape(operation.description.as_deref().or(operation.summary.as_deref()).unwrap_or_default())
            );
            if let Some(parameters) = &operation.parameters {
                html.push_str("<table><tr><th>parameter</th><th>in</th><th>description</th></tr>");
                for p in parameters {
                    let _ = write!(
                        html,
                        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                        escape(&p.name),
                        serde_json::to_value(&p.parameter_in)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                        escape(p.description.as_deref().unwrap_or_default())
                    );
                }
                html.push_str("</table>");
            }
            let statuses: Vec<&str> = operation
                .responses
                .responses
                .keys()
                .map(String::as_str)
                .collect();
            let _ = write!(
                html,
                "<p>Responses: {}</p></div>",
                escape(&statuses.join(", "))
            );
        }
    }
    html.push_str("</body></html>");
    Html(html)
}
