//! Replays every fuzz corpus file and every kept crash input through the same entry points the
//! fuzzers use (`namesrv_core::fuzzing`), on stable Rust, in every `cargo test`.

use std::path::Path;

#[test]
fn every_corpus_and_regression_input_replays_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fuzz");
    let mut total = 0;
    for (name, target) in namesrv_core::fuzzing::TARGETS {
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else {
                continue;
            };
            for entry in entries.flatten() {
                let data = std::fs::read(entry.path()).expect("corpus file");
                target(&data);
                total += 1;
            }
        }
    }
    assert!(
        total > 100,
        "only {total} corpus inputs found under {}",
        root.display()
    );
}

#[test]
fn targets_survive_hostile_inputs() {
    let mut bomb = vec![2u8];
    bomb.extend(std::iter::repeat_n(b'[', 100_000));
    let mut frames = vec![1u8];
    frames.extend_from_slice(&[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    for (_, target) in namesrv_core::fuzzing::TARGETS {
        for input in [&[][..], &[0], &[0xff; 64], &bomb, &frames] {
            target(input);
        }
    }
}
