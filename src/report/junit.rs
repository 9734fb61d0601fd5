//! JUnit XML (with `quick-junit`), for CI systems that show test reports
//! (GitLab, Jenkins, Azure Pipelines).
//!
//! One `<testsuite>` per rule, every rule of [`RULES`] included, so that a
//! clean rule shows as passed. Each finding is a `<testcase>`: a `<failure>`
//! at or above the `--fail-on` threshold, else a passing case whose
//! `<system-out>` says what was found. A rule without findings gets one
//! passing case named after it. No timestamps or durations: same input, same
//! bytes.

use crate::finding::{Finding, Severity};
use crate::rules::RULES;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::fmt::Write as _;

/// Where a finding is and what it rests on, one place per line.
fn details(f: &Finding) -> String {
    let mut s = format!("{}: {}\n  at {}\n", f.severity, f.message, f.location);
    for r in &f.related {
        let _ = writeln!(s, "  related {}: {}", r.location, r.note);
    }
    if let Some(h) = &f.help {
        let _ = writeln!(s, "  help: {h}");
    }
    s
}

fn case(f: &Finding, fail_on: Option<Severity>) -> TestCase {
    let failing = fail_on.is_some_and(|t| f.severity >= t);
    let status = if failing {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
        s.set_message(f.message.as_str())
            .set_type(f.rule)
            .set_description(details(f));
        s
    } else {
        TestCaseStatus::success()
    };
    let mut c = TestCase::new(f.location.to_string(), status);
    c.set_classname(f.rule);
    if !failing {
        c.set_system_out(details(f));
    }
    c
}

/// The JUnit report of `findings`; those at or above `fail_on` fail (`None`: none do).
pub fn report(findings: &[Finding], fail_on: Option<Severity>) -> String {
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    for f in findings {
        if !ids.contains(&f.rule) {
            ids.push(f.rule);
        }
    }
    let mut report = Report::new("certdrift");
    for id in ids {
        let mut suite = TestSuite::new(id);
        let mut any = false;
        for f in findings.iter().filter(|f| f.rule == id) {
            suite.add_test_case(case(f, fail_on));
            any = true;
        }
        if !any {
            let mut c = TestCase::new(id, TestCaseStatus::success());
            c.set_classname(id);
            suite.add_test_case(c);
        }
        report.add_test_suite(suite);
    }
    // Serializing into memory fails only on a bug in quick-xml.
    report.to_string().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample_findings;

    #[test]
    fn threshold_decides_failures() {
        let findings = sample_findings();
        let count = |fail_on| {
            let r = Report::deserialize_from_str(&report(&findings, fail_on)).unwrap();
            (r.test_suites.len(), r.tests, r.failures)
        };
        let suites = RULES.len();
        let mut with_findings: Vec<&str> = findings.iter().map(|f| f.rule).collect();
        with_findings.sort();
        with_findings.dedup();
        // A rule without findings is one passing case; each finding is one case.
        let tests = suites - with_findings.len() + findings.len();
        let at_least = |s| findings.iter().filter(|f| f.severity >= s).count();
        assert_eq!(
            count(Some(Severity::Error)),
            (suites, tests, at_least(Severity::Error))
        );
        assert_eq!(count(Some(Severity::Note)), (suites, tests, findings.len()));
        assert_eq!(count(None), (suites, tests, 0));
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(report(&sample_findings(), Some(Severity::Error)));
    }
}
