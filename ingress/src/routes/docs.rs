//! `GET /openapi.json` and `GET /docs`: the OpenAPI document, and a page
//! people read it through: Swagger UI (operations by tag, request and
//! response bodies with their fields and examples, Markdown descriptions,
//! "Try it out" with a bearer token) with a table of contents beside it.
//!
//! Everything the page loads comes from this server: the Swagger UI files
//! are committed under `ingress/assets/swagger-ui/` and compiled in, so the
//! page works on a warehouse network without internet.

use std::fmt::Write as _;

use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use utoipa::openapi::path::Operation;
use utoipa::OpenApi as _;

use crate::error::{ApiError, Code};
use crate::openapi::ApiDoc;

/// The OpenAPI document.
pub async fn openapi() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}

/// The Swagger UI version the assets come from.
pub const SWAGGER_UI_VERSION: &str = "5.35.0";

/// The files under `/docs/`: name, media type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js"),
    ),
    (
        "swagger-ui.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/swagger-ui/swagger-ui.css"),
    ),
    (
        "swagger-ui-LICENSE.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/swagger-ui/LICENSE"),
    ),
    (
        "swagger-ui-bundle.js.LICENSE.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js.LICENSE.txt"),
    ),
    (
        "docs.js",
        "text/javascript; charset=utf-8",
        SCRIPT.as_bytes(),
    ),
];

/// Starts Swagger UI on the document and makes the table of contents open
/// and scroll to the operation clicked. A file of its own because the
/// page's Content-Security-Policy allows scripts from this server only.
const SCRIPT: &str = r##""use strict";
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  docExpansion: "list",
  defaultModelsExpandDepth: 0,
  defaultModelExpandDepth: 3,
  displayOperationId: false,
  displayRequestDuration: true,
  filter: true,
  persistAuthorization: true,
  showCommonExtensions: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
});
document.querySelectorAll("#toc a[data-tag]").forEach(function (link) {
  link.addEventListener("click", function (event) {
    var tag = link.dataset.tag, op = link.dataset.op;
    event.preventDefault();
    window.ui.layoutActions.show(["operations-tag", tag], true);
    if (op) { window.ui.layoutActions.show(["operations", tag, op], true); }
    window.setTimeout(function () {
      var id = op ? "operations-" + tag + "-" + op : "operations-tag-" + tag;
      var target = document.getElementById(id);
      if (target) { target.scrollIntoView({ block: "start" }); }
      window.history.replaceState(null, "", "#/" + tag + (op ? "/" + op : ""));
    }, 50);
  });
});
"##;

/// The contents on the left, Swagger UI on the right. The right side
/// scrolls in a box of its own, so the contents stay in view and a deep
/// link (`/docs#/stock/receive`) scrolls that box rather than the window.
const STYLE: &str = "body{margin:0;font-family:system-ui,sans-serif;color:#222}\
#toc{position:fixed;top:0;left:0;bottom:0;width:21rem;overflow-y:auto;background:#f7f7f8;\
border-right:1px solid #ddd;padding:1rem;box-sizing:border-box;font-size:.85rem}\
#toc h1{font-size:1.1rem;margin:0 0 .25rem}#toc p{margin:.25rem 0 .75rem;color:#555}\
#toc h2{font-size:.95rem;margin:1rem 0 .25rem;text-transform:capitalize}\
#toc h2 a{color:#222;text-decoration:none}#toc ul{list-style:none;margin:0;padding:0}\
#toc li a{display:block;padding:.15rem .25rem;color:#333;text-decoration:none;border-radius:3px;\
white-space:nowrap;overflow:hidden;text-overflow:ellipsis}#toc li a:hover{background:#e8e8ee}\
#toc .m{display:inline-block;width:3.2rem;font-weight:600;font-size:.7rem;text-transform:uppercase}\
#toc .get{color:#1f6fb2}#toc .post{color:#2c8a4b}#toc .patch{color:#b26b00}#toc .put{color:#8a4fb2}\
#toc .delete{color:#b2331f}\
#page{position:fixed;top:0;bottom:0;left:21rem;right:0;overflow-y:auto}\
@media (max-width:60rem){#toc{position:static;width:auto;border-right:0}#page{position:static}}";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One entry of the table of contents.
struct Entry {
    method: &'static str,
    path: String,
    operation_id: String,
    summary: String,
}

/// The operations of each tag, tags in the document's order (untagged
/// operations last, under "default" as Swagger UI shows them).
fn contents() -> Vec<(String, Vec<Entry>)> {
    let spec = ApiDoc::openapi();
    let mut groups: Vec<(String, Vec<Entry>)> = spec
        .tags
        .iter()
        .flatten()
        .map(|t| (t.name.clone(), Vec::new()))
        .collect();
    for (path, item) in &spec.paths.paths {
        let operations: [(&'static str, &Option<Operation>); 5] = [
            ("get", &item.get),
            ("post", &item.post),
            ("put", &item.put),
            ("patch", &item.patch),
            ("delete", &item.delete),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            let tag = operation
                .tags
                .as_ref()
                .and_then(|t| t.first().cloned())
                .unwrap_or_else(|| "default".to_owned());
            let entry = Entry {
                method,
                path: path.clone(),
                operation_id: operation.operation_id.clone().unwrap_or_default(),
                summary: operation.summary.clone().unwrap_or_default(),
            };
            match groups.iter_mut().find(|(name, _)| *name == tag) {
                Some((_, entries)) => entries.push(entry),
                None => groups.push((tag, vec![entry])),
            }
        }
    }
    groups.retain(|(_, entries)| !entries.is_empty());
    groups
}

/// The documentation page.
pub async fn page() -> Html<String> {
    let spec = ApiDoc::openapi();
    let mut html = String::with_capacity(16 * 1024);
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/docs/swagger-ui.css\">\
         <style>{STYLE}</style></head><body><nav id=\"toc\" aria-label=\"Contents\">\
         <h1>{title} {version}</h1><p><a href=\"/openapi.json\">openapi.json</a> · \
         Swagger UI {SWAGGER_UI_VERSION} (<a href=\"/docs/swagger-ui-LICENSE.txt\">licence</a>)</p>",
        title = escape(&spec.info.title),
        version = escape(&spec.info.version),
    );
    for (tag, entries) in contents() {
        let tag = escape(&tag);
        let _ = write!(
            html,
            "<h2><a href=\"#/{tag}\" data-tag=\"{tag}\">{tag}</a></h2><ul>"
        );
        for entry in entries {
            let _ = write!(
                html,
                "<li><a href=\"#/{tag}/{id}\" data-tag=\"{tag}\" data-op=\"{id}\" title=\"{summary}\">\
                 <span class=\"m {method}\">{method}</span>{path}</a></li>",
                id = escape(&entry.operation_id),
                summary = escape(&entry.summary),
                method = entry.method,
                path = escape(&entry.path),
            );
        }
        html.push_str("</ul>");
    }
    html.push_str(
        "</nav><main id=\"page\"><div id=\"swagger-ui\"></div></main>\
         <script src=\"/docs/swagger-ui-bundle.js\"></script>\
         <script src=\"/docs/docs.js\"></script></body></html>",
    );
    Html(html)
}

/// The page's scripts, styles and licences.
///
/// # Errors
/// `not_found` for any other name.
pub async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    let (_, media_type, bytes) = ASSETS
        .iter()
        .find(|(file, _, _)| *file == name)
        .ok_or_else(|| ApiError::new(Code::NotFound, "no such file"))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(media_type)),
            // the files change only with the binary
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        *bytes,
    )
        .into_response())
}
