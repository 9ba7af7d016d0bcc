//! A finding on state touched all over a program stays readable: its message, fix and
//! related places are bounded, whatever the number of accesses.

use racelint::check::{check, Options};

#[test]
fn a_state_with_ten_thousand_accesses_gets_a_bounded_finding() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut source = String::from(
        "import asyncio\n\nSTATE: dict = {}\n\n\ndef work() -> None:\n    STATE[\"k\"] = 1\n\n\n\
         async def start() -> None:\n    await asyncio.to_thread(work)\n",
    );
    for i in 0..10_000 {
        source.push_str(&format!(
            "\n\nasync def touch_{i}() -> None:\n    STATE[\"k{i}\"] = {i}\n"
        ));
    }
    let file = dir.path().join("registry.py");
    std::fs::write(&file, source).expect("write the generated module");

    let result = check(&[file], Options::new(&|_| true)).expect("analysis runs");
    let finding = result
        .findings
        .iter()
        .find(|f| f.rule.code() == "RL101")
        .expect("the worker's write races with the coroutines' writes");
    let fix = finding.fix.as_ref().expect("RL101 suggests a fix");
    assert!(finding.message.len() < 300, "{}", finding.message);
    assert!(fix.description.len() < 1_000, "{}", fix.description);
    assert!(fix.code.len() < 2_000, "{}", fix.code);
    assert!(finding.related.len() < 10, "{:?}", finding.related.len());
    assert!(
        fix.description.contains("10001 places in 1 file")
            && fix.description.contains("and 9996 more"),
        "the fix counts what it does not list: {}",
        fix.description
    );
}
