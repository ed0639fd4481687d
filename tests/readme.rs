//! The README's parameter table must list every parameter ID (IDs are part of saved sessions,
//! so the table is the user-facing contract).

use fairmaster::params::FairmasterParams;
use nice_plug::prelude::Params;

#[test]
fn readme_lists_every_parameter_id() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let missing: Vec<String> = FairmasterParams::default()
        .param_map()
        .into_iter()
        .map(|(id, _, _)| id)
        .filter(|id| !readme.contains(&format!("| `{id}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "README parameter table lacks: {missing:?}"
    );
}

/// `cargo test --test readme -- --ignored --nocapture` prints the table rows.
#[test]
#[ignore]
fn print_parameter_table() {
    let params = FairmasterParams::default();
    for (id, ptr, group) in params.param_map() {
        // SAFETY: the pointer comes from `params`, which outlives this loop.
        let (name, default, unit, min, max) = unsafe {
            (
                ptr.name(),
                ptr.normalized_value_to_string(ptr.default_normalized_value(), true),
                ptr.unit(),
                ptr.normalized_value_to_string(0.0, true),
                ptr.normalized_value_to_string(1.0, true),
            )
        };
        let _ = unit;
        println!("| `{id}` | {name} | {group} | {min} … {max} | {default} |");
    }
}
