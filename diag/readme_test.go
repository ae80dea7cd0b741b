package diag

import (
	"os"
	"strings"
	"testing"
)

// The README's configuration table documents every variable ConfigFromEnv
// reads, and nothing else.
func TestReadmeDocumentsEveryEnvVar(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "| `DIAGKIT_") {
			name := strings.Trim(strings.Fields(line)[1], "`")
			documented[name] = true
		}
	}
	for _, ev := range EnvVars {
		if !documented[ev.Name] {
			t.Errorf("README does not document %s", ev.Name)
		}
		delete(documented, ev.Name)
	}
	for name := range documented {
		t.Errorf("README documents %s, which ConfigFromEnv does not read", name)
	}
}
