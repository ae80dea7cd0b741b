package pyropush

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/grafana/pyroscope/api/model/labelset"
)

// The server's limits (grafana/pyroscope pkg/validation/limits.go defaults,
// as the issue quotes them: not in the api module): 30 label names per
// series, the server's own 4 included (__name__, __delta__, pyroscope_spy,
// service_name); label names of at most 1024 bytes and values of at most
// 2048; profiles no older than the ingestion window (1 h).
const (
	ServerMaxLabels       = 30
	ServerMaxNameLen      = 1024
	ServerMaxValueLen     = 2048
	ServerIngestionWindow = time.Hour
)

// ServerLabels are the labels the server adds to every series.
var ServerLabels = []string{"__name__", "__delta__", "pyroscope_spy", "service_name"}

// AgentLabels is the most labels diagkit and pyroscope-go add to a series:
// __session_id__, process.runtime.name, process.runtime.version,
// otel.scope.name, otel.scope.version, hostname, version, service_git_ref
// and service_repository.
const AgentLabels = 9

// Limits on user tags: MaxTags is what the server's budget leaves after its
// own labels and the agent's (30 - 4 - 9 = 17).
const (
	MaxTags        = ServerMaxLabels - 4 - AgentLabels
	MaxValueLen    = 1024
	MaxAppNameLen  = 256
	maxTagsEnvSize = MaxTags * (MaxValueLen + 64)
)

// IsLabelNameRune reports the characters Pyroscope allows in a label name
// (the server's own grammar: api/model/labelset.IsLabelNameRuneAllowed).
func IsLabelNameRune(r rune) bool { return labelset.IsLabelNameRuneAllowed(r) }

// IsAppNameRune reports the characters Pyroscope allows in a service
// (application) name (labelset.IsServiceNameRuneAllowed).
func IsAppNameRune(r rune) bool { return labelset.IsServiceNameRuneAllowed(r) }

// ServerLabelName is the name a v1.x server stores a label under: dots
// become '_' (Prometheus label names).
func ServerLabelName(k string) string { return strings.ReplaceAll(k, ".", "_") }

// ValidateLabelName checks a label name as the server does:
// labelset.ValidateLabelName (the api module's grammar, __name__ reserved),
// then what v1.x servers add: no leading digit, at most ServerMaxNameLen
// bytes.
func ValidateLabelName(k string) error {
	if err := labelset.ValidateLabelName(k); err != nil {
		return err
	}
	if k[0] >= '0' && k[0] <= '9' {
		return fmt.Errorf("label name %q starts with a digit (Pyroscope refuses it)", k)
	}
	if len(k) > ServerMaxNameLen {
		return fmt.Errorf("label name longer than %d bytes", ServerMaxNameLen)
	}
	return nil
}

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
	if err := labelset.ValidateServiceName(name); err != nil {
		return fmt.Errorf("%w (want letters, digits, _ . - /)", err)
	}
	return nil
}

// reservedTags are labels Pyroscope's ingest handler sets itself on every
// series (grafana/pyroscope pkg/og/convert/pprof, createLabels): a tag of
// the same name would be a duplicate label.
var reservedTags = map[string]string{
	"service_name":  "Pyroscope sets it to the application name; set the application name instead",
	"pyroscope_spy": "Pyroscope sets it to the spy name",
	"__delta__":     "Pyroscope sets it",
	"__name__":      "Pyroscope sets it to the profile's metric name",
}

// Reserved reports whether the server sets label k itself, once its dots
// became '_' (so service.name is service_name).
func Reserved(k string) bool {
	_, ok := reservedTags[ServerLabelName(k)]
	return ok
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
	if reason, ok := reservedTags[ServerLabelName(key)]; ok {
		if n := ServerLabelName(key); n != key {
			return fmt.Errorf("tag name %q is reserved: Pyroscope stores it as %s, which it sets itself (%s)", key, n, reason)
		}
		return fmt.Errorf("tag name %q is reserved: %s", key, reason)
	}
	if err := ValidateLabelName(key); err != nil {
		return fmt.Errorf("tag name %q: %w", key, err)
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
		return fmt.Errorf("%d tags: at most %d (Pyroscope allows %d labels per series, %d of them its own and diagkit's)",
			len(tags), MaxTags, ServerMaxLabels, ServerMaxLabels-MaxTags)
	}
	var errs []error
	seen := map[string]string{}
	for _, k := range sortedKeys(tags) {
		if err := ValidateTag(k, tags[k]); err != nil {
			errs = append(errs, err)
			continue
		}
		if other, dup := seen[ServerLabelName(k)]; dup {
			errs = append(errs, fmt.Errorf("tags %q and %q are the same label %s in Pyroscope (dots become _)", other, k, ServerLabelName(k)))
		}
		seen[ServerLabelName(k)] = k
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
			return nil, fmt.Errorf("more than %d tags (Pyroscope allows %d labels per series, %d of them its own and diagkit's)",
				MaxTags, ServerMaxLabels, ServerMaxLabels-MaxTags)
		}
	}
	if err := ValidateTags(tags); err != nil {
		return nil, err
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
