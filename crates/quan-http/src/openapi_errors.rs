//! The answers every operation can give besides its own: written into the
//! OpenAPI document here, once, from what the operation has (a body, path
//! parameters, security), so that the document lists every status the
//! server can answer (the shared error shape, `ErrorBody`, for each).

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response, ResponseBuilder};

fn error(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content("application/json", Content::new(Some(Ref::from_schema_name("ErrorBody"))))
            .build(),
    )
}

/// Adds `status` with `description` unless the operation documents it already.
fn add(op: &mut Operation, status: &str, description: &str) {
    op.responses.responses.entry(status.to_owned()).or_insert_with(|| error(description));
}

fn complete(op: &mut Operation) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_path = params.iter().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path));
    let has_params = !params.is_empty();
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    if op.request_body.is_some() {
        add(
            op,
            "400",
            "`malformed_json`, `invalid_body` (a field missing or of the wrong type, with `details.field`), `control_character`",
        );
        add(op, "413", "`body_too_large`");
        add(op, "415", "`unsupported_media_type`: send `application/json`");
        add(op, "422", "`invalid_field` or a named rule, with the field in `details`");
    }
    if has_params {
        add(op, "400", "`control_character` in the path or query, or a query that does not parse");
        add(op, "422", "`invalid_field`: a parameter out of its range, with `details.field`");
    }
    if has_path {
        add(op, "404", "`not_found`: no such resource, or not in your region");
    }
    if secured {
        add(op, "401", "`unauthorized`: no token, or one that is not live");
        add(op, "403", "`forbidden`: your role may not do this");
    }
    add(op, "500", "`internal`: quote the request id; nothing else is said");
    add(op, "503", "`timeout` or `database_unavailable`: try again");
}

/// Completes every operation of `doc`.
pub fn complete_responses(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for op in
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten()
        {
            complete(op);
        }
    }
}
