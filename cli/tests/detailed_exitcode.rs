//! `ycm sync plan --detailed-exitcode` as terraform's: 0 nothing to do, 2 updates pending and
//! every record fine, 3 some records to look at (pending updates do not hide them), 1 any
//! error, bad usage and bad input included, so that 2 never means anything but "updates
//! pending". Without the flag, pending updates exit 0 and bad input 2.

mod support;
use support::*;

fn plan_exit(s: &Setup, args: &[&str]) -> (i32, String) {
    let out = run(s.ycm().args(["sync", "plan"]).args(args));
    (out.code, out.stderr)
}

#[test]
fn each_outcome_has_its_own_code_and_2_means_only_updates_pending() {
    let s = Setup::new();
    let pending = records(&s, 3, false);
    let pending = pending.to_str().unwrap();
    let mixed = s.path("mixed.csv");
    // An update pending, an invalid row and an unknown user.
    std::fs::write(
        &mixed,
        "userId,company,pbxCreationLimit\n20001,Changed,\n20002,,0\n99999,Nobody,\n",
    )
    .unwrap();
    let mixed = mixed.to_str().unwrap();
    let invalid_only = s.path("invalid.csv");
    std::fs::write(&invalid_only, "userId,pbxCreationLimit\n20002,0\n").unwrap();
    let invalid_only = invalid_only.to_str().unwrap();
    let broken = s.path("broken.csv");
    std::fs::write(&broken, "userId,company\n20001,\"ACME\n").unwrap();
    let broken = broken.to_str().unwrap();
    let missing = s.path("missing.csv");
    let missing = missing.to_str().unwrap();

    let d = "--detailed-exitcode";
    for (args, detailed, plain) in [
        (vec![pending], 2, 0),
        (vec![mixed], 3, 3),
        (vec![invalid_only], 3, 3),
        (vec![broken], 1, 2),
        (vec![missing], 1, 2),
        (vec![pending, "--no-such-flag"], 1, 2),
        (vec![pending, "--out", "/nonexistent-dir/plan.json"], 1, 2),
    ] {
        let mut with = args.clone();
        with.push(d);
        let (code, stderr) = plan_exit(&s, &with);
        assert_eq!(code, detailed, "{with:?}: {stderr}");
        let (code, stderr) = plan_exit(&s, &args);
        assert_eq!(code, plain, "{args:?}: {stderr}");
    }
    ok(s.ycm().args(["sync", "apply", "--yes", pending]));
    assert_eq!(plan_exit(&s, &[pending, d]).0, 0, "nothing to do");
    // Refused credentials are an error too under the flag.
    let out = run(s
        .ycm()
        .env("YCM_ACCESS_TOKEN", "wrong")
        .args(["sync", "plan", pending, d]));
    assert_eq!(out.code, 1, "{}", out.stderr);
}
