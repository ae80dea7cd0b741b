package pyropush

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on user tags. Pyroscope's defaults allow 30 label names per series
// and label values of 2048 bytes; the SDK and diagkit add up to 7 labels of
// their own.
const (
	MaxTags        = 20
	MaxValueLen    = 1024
	MaxAppNameLen  = 256
	maxTagsEnvSize = MaxTags * (MaxValueLen + 64)
)

// IsLabelNameRune reports the characters Pyroscope allows in a label name
// (grafana/pyroscope api/model/labelset: [a-zA-Z0-9_.]).
func IsLabelNameRune(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' || r == '.'
}

// IsAppNameRune reports the characters Pyroscope allows in a service
// (application) name: a label name's and '-', '/'.
func IsAppNameRune(r rune) bool { return r == '-' || r == '/' || IsLabelNameRune(r) }

// isValueRune reports the characters diagkit allows in a tag value. The
// ingest name "app{k=v,k2=v2}" ends a value at ',' or '}' and trims spaces,
// so those, '{', '=' and every space or control character are refused
// rather than silently changed on the server.
func isValueRune(r rune) bool {
	if r == utf8.RuneError || !unicode.IsPrint(r) || unicode.IsSpace(r) {
		return false
	}
	return !strings.ContainsRune(",{}=\"\\", r)
}

// ValidateAppName checks an application name against Pyroscope's service
// name rules.
func ValidateAppName(name string) error {
	if name == "" {
		return errors.New("empty application name")
	}
	if len(name) > MaxAppNameLen {
		return fmt.Errorf("application name longer than %d bytes", MaxAppNameLen)
	}
	for _, r := range name {
		if !IsAppNameRune(r) {
			return fmt.Errorf("application name %q: character %q not allowed (want letters, digits, _ . - /)", name, r)
		}
	}
	return nil
}

// reservedTags are labels Pyroscope's ingest handler sets itself on every
// series (grafana/pyroscope pkg/og/convert/pprof, createLabels): a tag of
// the same name would be a duplicate label.
var reservedTags = map[string]string{
	"service_name":  "Pyroscope sets it to the application name; set the application name instead",
	"pyroscope_spy": "Pyroscope sets it to the spy name",
}

// ValidateTag checks one tag: a Pyroscope label name that is not private
// (Pyroscope drops labels starting with "__", and the SDK owns
// __session_id__), and a non-empty value the ingest name carries unchanged.
func ValidateTag(key, value string) error {
	if key == "" {
		return errors.New("empty tag name")
	}
	if len(key) > MaxValueLen {
		return fmt.Errorf("tag name longer than %d bytes", MaxValueLen)
	}
	for _, r := range key {
		if !IsLabelNameRune(r) {
			return fmt.Errorf("tag name %q: character %q not allowed (want letters, digits, _ .)", key, r)
		}
	}
	if strings.HasPrefix(key, "__") {
		return fmt.Errorf("tag name %q: names starting with __ are reserved by Pyroscope", key)
	}
	if reason, ok := reservedTags[key]; ok {
		return fmt.Errorf("tag name %q is reserved: %s", key, reason)
	}
	if value == "" {
		return fmt.Errorf("tag %q: empty value", key)
	}
	if len(value) > MaxValueLen {
		return fmt.Errorf("tag %q: value longer than %d bytes", key, MaxValueLen)
	}
	if !utf8.ValidString(value) {
		return fmt.Errorf("tag %q: value is not UTF-8", key)
	}
	for _, r := range value {
		if !isValueRune(r) {
			return fmt.Errorf("tag %q: value character %q not allowed (no spaces, controls or , { } = \" \\)", key, r)
		}
	}
	return nil
}

// ValidateTags checks every tag and their number.
func ValidateTags(tags map[string]string) error {
	if len(tags) > MaxTags {
		return fmt.Errorf("%d tags: at most %d", len(tags), MaxTags)
	}
	var errs []error
	for _, k := range sortedKeys(tags) {
		if err := ValidateTag(k, tags[k]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ParseTags parses "k=v,k2=v2" strictly: no empty items, exactly one '=' per
// item, no duplicate names, and every tag valid for ValidateTag. Spaces are
// not trimmed: they are an error.
func ParseTags(s string) (map[string]string, error) {
	if s == "" {
		return nil, errors.New("empty tag list")
	}
	if len(s) > maxTagsEnvSize {
		return nil, fmt.Errorf("tag list longer than %d bytes", maxTagsEnvSize)
	}
	tags := map[string]string{}
	for i, item := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(item, "=")
		switch {
		case item == "":
			return nil, fmt.Errorf("tag %d is empty (stray comma?)", i+1)
		case !ok:
			return nil, fmt.Errorf("tag %d %q: want name=value", i+1, item)
		case strings.Contains(v, "="):
			return nil, fmt.Errorf("tag %d %q: more than one '='", i+1, item)
		}
		if _, dup := tags[k]; dup {
			return nil, fmt.Errorf("tag %q given twice", k)
		}
		if err := ValidateTag(k, v); err != nil {
			return nil, err
		}
		tags[k] = v
		if len(tags) > MaxTags {
			return nil, fmt.Errorf("more than %d tags", MaxTags)
		}
	}
	return tags, nil
}

// FormatTags is the inverse of ParseTags: "k=v,k2=v2", sorted by name.
func FormatTags(tags map[string]string) string {
	var b strings.Builder
	for i, k := range sortedKeys(tags) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(tags[k])
	}
	return b.String()
}

// FormatName is the ingest "name" parameter: app{k=v,k2=v2} with labels
// sorted by name, as pyroscope-go's labelset.Normalized writes it.
func FormatName(app string, labels map[string]string) string {
	return app + "{" + FormatTags(labels) + "}"
}

// SanitizeValue makes a discovered value (a hostname, a version) a valid
// tag value: invalid characters become '_', and it is cut to MaxValueLen.
// It returns "" when nothing usable is left.
func SanitizeValue(s string) string {
	s = strings.ToValidUTF8(s, "_")
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= MaxValueLen-utf8.UTFMax {
			break
		}
		if isValueRune(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if strings.Trim(b.String(), "_") == "" {
		return ""
	}
	return b.String()
}

// SanitizeAppName makes a discovered name (an executable's) a valid
// application name, or "" when nothing usable is left.
func SanitizeAppName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= MaxAppNameLen {
			break
		}
		if IsAppNameRune(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if strings.Trim(b.String(), "_.-/") == "" {
		return ""
	}
	return b.String()
}

// NewSessionID returns a random session ID in pyroscope-go's format: 16 hex
// digits.
func NewSessionID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
