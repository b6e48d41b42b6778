//! Golden test: the pallet's epoch against every case of `vectors/public.json`.
//!
//! Classic cases are compared with `expected.fixed` exactly: booleans, permits, u16 values,
//! stored bonds and rao amounts bit-exact, fixed-point floats within 1e-9. Yuma-3 cases use
//! the float tolerances of `vectors/README.md` against both `expected.fixed` and
//! `expected.float` (the reference's sigmoid `exp` is not reproduced bit-exactly by the
//! generator): normalised values 1e-6, u16 ±1, rao ±max(2, 1e-6 · rao_emission), bond floats
//! and legacy trust 1e-4.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

use serde_json::Value;
use std::process::{Command, Stdio};
use yuma_sim::{parse_cases, run_case, Case};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/public.json");

fn load() -> Vec<Case> {
    let text = std::fs::read_to_string(VECTORS).expect("vectors/public.json");
    parse_cases(&text).expect("parse vectors")
}

/// Tolerances of one comparison.
#[derive(Clone, Copy)]
struct Tol {
    float: f64,
    trust: f64,
    bonds: f64,
    u16: i64,
    rao: i64,
}

impl Tol {
    fn exact() -> Self {
        Tol { float: 1e-9, trust: 1e-9, bonds: 1e-9, u16: 0, rao: 0 }
    }
    fn float(rao_emission: u64) -> Self {
        let rao = ((rao_emission as f64) * 1e-6).max(2.0) as i64;
        Tol { float: 1e-6, trust: 1e-4, bonds: 1e-4, u16: 1, rao }
    }
}

/// Compares two flat arrays element-wise with `cmp`, recording failures.
fn cmp_array(
    what: &str,
    exp: &Value,
    act: &Value,
    fails: &mut Vec<String>,
    cmp: &dyn Fn(&Value, &Value) -> bool,
) {
    let (Some(e), Some(a)) = (exp.as_array(), act.as_array()) else {
        fails.push(format!("{what}: expected array {exp}, got {act}"));
        return;
    };
    if e.len() != a.len() {
        fails.push(format!("{what}: length {} expected, got {}", e.len(), a.len()));
        return;
    }
    for (i, (x, y)) in e.iter().zip(a).enumerate() {
        if !cmp(x, y) {
            fails.push(format!("{what}[{i}]: expected {x}, got {y}"));
        }
    }
}

fn close_f(tol: f64) -> impl Fn(&Value, &Value) -> bool {
    move |x, y| match (x.as_f64(), y.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= tol,
        _ => false,
    }
}

fn close_i(tol: i64) -> impl Fn(&Value, &Value) -> bool {
    move |x, y| match (x.as_i64(), y.as_i64()) {
        (Some(x), Some(y)) => (x - y).abs() <= tol,
        _ => x == y,
    }
}

/// Compares sparse rows `[[uid, value], ...]`: uids exact, values with `cmp`.
fn cmp_rows(
    what: &str,
    exp: &Value,
    act: &Value,
    fails: &mut Vec<String>,
    cmp: &dyn Fn(&Value, &Value) -> bool,
) {
    let (Some(e), Some(a)) = (exp.as_array(), act.as_array()) else {
        fails.push(format!("{what}: expected rows, got {act}"));
        return;
    };
    if e.len() != a.len() {
        fails.push(format!("{what}: {} rows expected, got {}", e.len(), a.len()));
        return;
    }
    for (i, (re, ra)) in e.iter().zip(a).enumerate() {
        let (re, ra) = (re.as_array().unwrap(), ra.as_array().unwrap());
        let uids = |r: &Vec<Value>| r.iter().map(|x| x[0].clone()).collect::<Vec<_>>();
        if uids(re) != uids(ra) {
            fails.push(format!("{what}[{i}]: uids {:?} expected, got {:?}", uids(re), uids(ra)));
            continue;
        }
        for (x, y) in re.iter().zip(ra) {
            if !cmp(&x[1], &y[1]) {
                fails.push(format!("{what}[{i}] uid {}: expected {}, got {}", x[0], x[1], y[1]));
            }
        }
    }
}

/// Compares an output with an expected object; returns the failures.
fn compare(case: &str, mode: &str, exp: &Value, act: &Value, tol: Tol) -> Vec<String> {
    let mut fails = Vec::new();
    let obj = exp.as_object().expect("expected object");
    for (key, e) in obj {
        let what = format!("{case} [{mode}] {key}");
        let a = &act[key.as_str()];
        match key.as_str() {
            "mode" => {}
            "active" | "new_validator_permit" | "validator_permit_used" => {
                cmp_array(&what, e, a, &mut fails, &|x, y| x == y)
            }
            "server_emission" | "validator_emission" | "emission" => {
                cmp_array(&what, e, a, &mut fails, &close_i(tol.rao))
            }
            "u16" => {
                for (k, ev) in e.as_object().expect("u16 object") {
                    let tol_k = if k == "trust" {
                        tol.u16.max((tol.trust * 65535.0) as i64)
                    } else {
                        tol.u16
                    };
                    cmp_array(
                        &format!("{what}.{k}"),
                        ev,
                        &a[k.as_str()],
                        &mut fails,
                        &close_i(tol_k),
                    );
                }
            }
            "bonds" => cmp_rows(&what, e, a, &mut fails, &close_f(tol.bonds)),
            "bonds_stored" => cmp_rows(&what, e, a, &mut fails, &close_i(tol.u16)),
            "trust" => cmp_array(&what, e, a, &mut fails, &close_f(tol.trust)),
            _ => cmp_array(&what, e, a, &mut fails, &close_f(tol.float)),
        }
    }
    fails
}

#[test]
fn golden_vectors_match_the_pallet_epoch() {
    let cases = load();
    assert!(!cases.is_empty(), "no cases in {VECTORS}");
    let mut all_fails: Vec<String> = Vec::new();
    let mut exact = 0usize;
    for case in &cases {
        let actual = run_case(&case.input);
        let expected = case.expected.clone().unwrap_or_default();
        let fixed = expected.fixed.as_ref().expect("expected.fixed");
        let yuma3 = case.variant.as_deref() == Some("yuma3") || case.input.params.yuma3;
        let strict = compare(&case.name, "fixed", fixed, &actual, Tol::exact());
        if strict.is_empty() {
            exact += 1;
        }
        if yuma3 {
            let tol = Tol::float(case.input.rao_emission);
            all_fails.extend(compare(&case.name, "fixed~", fixed, &actual, tol));
            if let Some(float) = expected.float.as_ref() {
                all_fails.extend(compare(&case.name, "float", float, &actual, tol));
            }
            println!(
                "{}: yuma3, float tolerances ok; exact vs fixed: {}",
                case.name,
                if strict.is_empty() {
                    "yes".to_string()
                } else {
                    format!("no ({} diffs)", strict.len())
                }
            );
        } else {
            println!("{}: exact: {}", case.name, strict.is_empty());
            all_fails.extend(strict);
        }
    }
    println!("{exact}/{} cases match expected.fixed exactly", cases.len());
    assert!(all_fails.is_empty(), "{} mismatches:\n{}", all_fails.len(), all_fails.join("\n"));
}

#[test]
fn binary_runs_one_case() {
    let exe = env!("CARGO_BIN_EXE_yuma-epoch");
    let out =
        Command::new(exe).args(["--case", "tiny_2v3m", VECTORS]).output().expect("run binary");
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let actual: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let case = load().into_iter().find(|c| c.name == "tiny_2v3m").expect("tiny_2v3m");
    let fixed = case.expected.unwrap().fixed.unwrap();
    let fails = compare("tiny_2v3m (binary)", "fixed", &fixed, &actual, Tol::exact());
    assert!(fails.is_empty(), "{}", fails.join("\n"));
    assert_eq!(actual["mode"], "fixed");
}

#[test]
fn binary_reads_stdin_and_rejects_bad_input() {
    let exe = env!("CARGO_BIN_EXE_yuma-epoch");
    let case = load().into_iter().next().expect("a case");
    let doc = serde_json::to_string(&case).unwrap();
    let mut child = Command::new(exe)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(doc.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let _: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");

    let bad = Command::new(exe).arg("/nonexistent/case.json").output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "one-line error expected: {stderr}");

    let several = Command::new(exe).arg(VECTORS).output().unwrap();
    assert_eq!(several.status.code(), Some(2), "several cases without --case must fail");
}
