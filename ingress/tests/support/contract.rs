//! Reading the contract the tests check the server against: the
//! operations of an OpenAPI document, and tables and code blocks of the
//! Markdown pages under `docs/`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

/// The HTTP methods an OpenAPI path item may hold operations under.
pub const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// One operation: method in upper case, path template as in the document.
pub type Operation = (String, String);

/// Every operation of an OpenAPI document.
pub fn operations(spec: &Value) -> BTreeSet<Operation> {
    let mut found = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths in the document") {
        for method in METHODS {
            if item.get(method).is_some() {
                found.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    found
}

/// The text of `docs/<name>`.
pub fn doc(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../docs")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The Markdown table of `text` whose first header cell is `first`: its
/// header cells, then each row's cells (trimmed).
pub fn table(text: &str, first: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text
        .lines()
        .map(str::trim)
        .skip_while(|line| !(line.starts_with('|') && cells(line)[0] == first));
    let header = cells(
        lines
            .next()
            .unwrap_or_else(|| panic!("no table whose first column is {first:?}")),
    );
    let rows = lines
        .skip(1) // |---|---|
        .take_while(|line| line.starts_with('|'))
        .map(cells)
        .collect();
    (header, rows)
}

/// The cells of one table line.
pub fn cells(line: &str) -> Vec<String> {
    line.trim()
        .trim_start_matches('|')
        .trim_end_matches('|')
        .split('|')
        .map(|c| c.trim().to_owned())
        .collect()
}

/// The `code spans` of a Markdown fragment.
pub fn code_spans(text: &str) -> Vec<String> {
    text.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_owned())
        .collect()
}

/// The operations (`METHOD /path`) named in code spans of a fragment.
pub fn operations_named(text: &str) -> Vec<Operation> {
    code_spans(text)
        .into_iter()
        .filter_map(|span| {
            let (method, path) = span.split_once(' ')?;
            let method = method.to_uppercase();
            (METHODS.contains(&method.to_lowercase().as_str()) && path.starts_with('/'))
                .then(|| (method, path.trim().to_owned()))
        })
        .collect()
}
