package diag

import (
	"fmt"
	"slices"
	"strings"

	"github.com/grafana/pyroscope-go"

	"github.com/diagkit/diagkit/diag/internal/pyropush"
)

// Environment setters for PyroscopeConfig (see EnvVars).

func setPyroscopeString(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *field(c) = v; return nil }
}

func setPyroscopeTags(c *Config, v string) error {
	tags, err := pyropush.ParseTags(v)
	if err != nil {
		return err
	}
	c.Pyroscope.Tags = tags
	return nil
}

func setPyroscopeProfileTypes(c *Config, v string) error {
	var types []pyroscope.ProfileType
	for i, s := range strings.Split(v, ",") {
		t := canonicalProfileType(pyroscope.ProfileType(s)) // goroutines (pyroscope-go v1.4) or goroutine (v1.5)
		switch {
		case s == "":
			return fmt.Errorf("type %d is empty (stray comma?)", i+1)
		case !slices.Contains(knownProfileTypes, t):
			return fmt.Errorf("unknown type %q (known: %v)", s, knownProfileTypes)
		case slices.Contains(types, t):
			return fmt.Errorf("%q given twice", s)
		}
		types = append(types, t)
	}
	c.Pyroscope.ProfileTypes = types
	return nil
}
