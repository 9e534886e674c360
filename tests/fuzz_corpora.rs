//! Every input of the fuzz corpora (`fuzz/corpus/TARGET/`, including the inputs that once
//! crashed a target) replayed through the same functions the `cargo fuzz` targets call
//! (`drover::fuzzing`), on the stable toolchain, in every `cargo test`: a crash found by
//! fuzzing stays fixed. Each target names every input that panics, not only the first.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    assert!(
        inputs.len() > 100,
        "{}: only {} inputs, the corpus is missing",
        dir.display(),
        inputs.len()
    );
    // The default hook would print every caught panic; the report below names them.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let crashed: Vec<String> = inputs
        .iter()
        .filter(|p| {
            let data = std::fs::read(p).unwrap();
            catch_unwind(AssertUnwindSafe(|| run(&data))).is_err()
        })
        .map(|p| p.display().to_string())
        .collect();
    std::panic::set_hook(hook);
    assert!(
        crashed.is_empty(),
        "{} of {} {target} corpus inputs panic (reproduce: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run {target} INPUT):\n{}",
        crashed.len(),
        inputs.len(),
        crashed.join("\n")
    );
}

#[test]
fn playbook_corpus_never_panics() {
    replay("playbook", drover::fuzzing::playbook);
}

#[test]
fn ini_inventory_corpus_never_panics() {
    replay("ini_inventory", drover::fuzzing::ini_inventory);
}

#[test]
fn template_corpus_never_panics() {
    replay("template", drover::fuzzing::template);
}

#[test]
fn host_pattern_corpus_never_panics() {
    replay("host_pattern", drover::fuzzing::host_pattern);
}
