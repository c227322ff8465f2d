//! Text in the OpenAPI document as the server takes it: no control
//! characters (NUL and the like are refused at the edge, `control_character`),
//! except line breaks and tabs in free text people write. Every string
//! schema without a pattern, format or enum gets that pattern, in bodies,
//! path and query parameters alike, so a client (and a fuzzer) knows it.

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ArrayItems, Schema, SchemaType, Type};
use utoipa::openapi::{OpenApi, RefOr};

/// One line of text: no C0 or C1 control character, no DEL.
const ONE_LINE: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";
/// Free text: line breaks and tabs allowed.
const MULTI_LINE: &str = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$";

fn is_string(t: &SchemaType) -> bool {
    match t {
        SchemaType::Type(Type::String) => true,
        SchemaType::Array(ts) => ts.contains(&Type::String),
        _ => false,
    }
}

fn walk(schema: &mut RefOr<Schema>, key: &str) {
    let RefOr::T(s) = schema else { return };
    match s {
        Schema::Object(o) => {
            if is_string(&o.schema_type) && o.pattern.is_none() && o.format.is_none() && o.enum_values.is_none() {
                let multi = crate::text::MULTI_LINE_FIELDS.contains(&key);
                o.pattern = Some(if multi { MULTI_LINE } else { ONE_LINE }.to_owned());
            }
            for (k, p) in o.properties.iter_mut() {
                walk(p, k);
            }
        }
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                walk(items, key);
            }
        }
        Schema::OneOf(x) => x.items.iter_mut().for_each(|i| walk(i, key)),
        Schema::AllOf(x) => x.items.iter_mut().for_each(|i| walk(i, key)),
        Schema::AnyOf(x) => x.items.iter_mut().for_each(|i| walk(i, key)),
        _ => {}
    }
}

fn params(op: &mut Operation) {
    for p in op.parameters.iter_mut().flatten() {
        if let RefOr::T(p) = p
            && let Some(s) = p.schema.as_mut()
        {
            walk(s, &p.name);
        }
    }
}

/// The request bodies' tagged unions (`DiscountDoc`, `ValidityDoc`,
/// `BatchModeDoc`, …) are as closed as the server's types: each variant
/// takes no field it does not name (serde's `deny_unknown_fields`, which
/// utoipa does not carry into a union's variants).
pub fn close_body_unions(doc: &mut OpenApi) {
    use utoipa::openapi::schema::AdditionalProperties;
    let Some(c) = doc.components.as_mut() else { return };
    for (name, s) in c.schemas.iter_mut() {
        if !name.ends_with("Doc") {
            continue;
        }
        if let RefOr::T(Schema::OneOf(one)) = s {
            for item in &mut one.items {
                if let RefOr::T(Schema::Object(o)) = item
                    && o.properties.contains_key("type")
                {
                    o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
                }
            }
        }
    }
}

/// Adds the text patterns to every schema of `doc`.
pub fn forbid_control_characters(doc: &mut OpenApi) {
    if let Some(c) = doc.components.as_mut() {
        for s in c.schemas.values_mut() {
            walk(s, "");
        }
    }
    for item in doc.paths.paths.values_mut() {
        for op in
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten()
        {
            params(op);
        }
    }
}
