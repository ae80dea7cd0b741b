package diag

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/internal/testenv"
)

// The alerting rules and their synthetic-series tests.
const (
	alertRules     = "alerts/diagkit.rules.yml"
	alertRulesTest = "alerts/diagkit.rules.test.yml"
)

// promtool checks the alerting rules and runs their unit tests, as .ci/run
// does. Without promtool (Debian's prometheus package ships it) the test
// skips, and fails under CI=true.
func TestPrometheusAlertRules(t *testing.T) {
	bin, err := exec.LookPath("promtool")
	if err != nil {
		testenv.MustRun(t, "no promtool in PATH (%v): install it (Debian/Ubuntu: apt-get install prometheus, "+
			"as `bash .ci/run` does under CI=true) to check the alerting rules", err)
	}
	// Read here too, so that go test's cache re-runs the test when they
	// change (it does not see what promtool reads).
	for _, f := range []string{alertRules, alertRulesTest} {
		if _, err := os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"check", "rules", "diagkit.rules.yml"},
		{"test", "rules", "diagkit.rules.test.yml"},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = "alerts"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
			continue
		}
		t.Logf("promtool %s:\n%s", strings.Join(args, " "), strings.TrimSpace(string(out)))
	}
}

// Every warning kind has an alert and a firing test, and the rules name only
// metrics the collector has.
func TestMetricsAlertRulesCoverTheWarnings(t *testing.T) {
	rules, err := os.ReadFile(alertRules)
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(alertRulesTest)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range api.WarningKinds {
		if !strings.Contains(string(rules), `expr: diagkit_warning_active{kind="`+kind+`"} == 1`) {
			t.Errorf("%s: no alert on diagkit_warning_active{kind=%q}", alertRules, kind)
		}
		if !strings.Contains(string(tests), "kind: "+kind+"\n") {
			t.Errorf("%s: no test expects an alert of kind %s", alertRulesTest, kind)
		}
	}
	if n, want := strings.Count(string(rules), "- alert: "), len(api.WarningKinds); n != want {
		t.Errorf("%s: %d alerts, want one per warning kind (%d)", alertRules, n, want)
	}
	names := metricNames(t)
	for _, m := range regexp.MustCompile(`diagkit_[a-z_]+`).FindAllString(string(rules)+string(tests), -1) {
		base := m
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base = strings.TrimSuffix(base, suffix)
		}
		if !slices.Contains(names, base) {
			t.Errorf("the rules or their tests name %s, which the collector does not have", m)
		}
	}
}
