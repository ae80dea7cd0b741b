package diag

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/grafana/pyroscope-go"

	"github.com/diagkit/diagkit/diag/internal/pyropush"
)

// Defaults for the zero values of PyroscopeConfig.
const (
	// DefaultPyroscopeUploadRate is pyroscope-go's default upload rate.
	DefaultPyroscopeUploadRate   = 15 * time.Second
	DefaultPyroscopeQueueSize    = 32
	DefaultPyroscopeTimeout      = 30 * time.Second
	DefaultPyroscopeFlushTimeout = 5 * time.Second
)

// pushLogEvery is the most often the push logs that it is failing or
// dropping profiles.
const pushLogEvery = time.Minute

// PyroscopeConfig configures pushing profiles to a Grafana Pyroscope server.
// Push is off unless ServerAddress is set; every other zero value means the
// documented default.
//
// The CPU profiles pushed are the agent's own: windows of UploadRate taken
// back to back from the profiler the agent shares, so nothing starts a
// second CPU profiler. The other profile types are pyroscope-go's.
type PyroscopeConfig struct {
	// ServerAddress is the Pyroscope server's URL, e.g.
	// http://pyroscope:4040; profiles are POSTed to its /ingest.
	ServerAddress string
	// ApplicationName is the application (service) name in Pyroscope
	// (default: the executable's name). Letters, digits and _ . - /.
	ApplicationName string
	// Tags are added to every profile. The agent adds hostname, and
	// version, service_git_ref and service_repository when the build info
	// has them; a tag given here replaces the one the agent would add. At
	// most pyropush.MaxTags (17: the server allows 30 labels per series, 4
	// its own, 9 the agent's and pyroscope-go's). Names: letters, digits, _
	// and ., no leading digit or __, and none that the server, which stores
	// dots as _, would take for its own (service.name) or for another tag;
	// values: no spaces, controls or , { } = " \.
	Tags map[string]string
	// BasicAuthUser and BasicAuthPassword, both or neither, authenticate
	// with HTTP basic auth (Grafana Cloud). The password is never logged.
	BasicAuthUser     string
	BasicAuthPassword string
	// TenantID is sent as X-Scope-OrgID, for a multi-tenant Pyroscope.
	TenantID string
	// HTTPHeaders are added to every upload request. Authorization with
	// basic auth configured, or X-Scope-OrgID with TenantID, would replace
	// them and is refused.
	HTTPHeaders map[string]string
	// ProfileTypes are the profile types to push ("goroutines", pyroscope-go
	// v1.4's name, is taken as v1.5's "goroutine") (default
	// pyroscope.DefaultProfileTypes: CPU and alloc/inuse objects/space).
	// ProfileCPU is the agent's CPU windows; the others are collected by
	// pyroscope-go. Mutex and block profiles are empty unless the program
	// sets runtime.SetMutexProfileFraction / SetBlockProfileRate.
	ProfileTypes []pyroscope.ProfileType
	// UploadRate is the length of each CPU window and how often the other
	// profiles are taken (default 15 s, as pyroscope-go; at least 100 ms).
	UploadRate time.Duration
	// QueueSize is how many profiles wait for upload at most (default 32).
	// When the server is slow or down the oldest are dropped, and counted
	// in Status.PushDropped.
	QueueSize int
	// Timeout bounds each upload request (default 30 s, as pyroscope-go).
	Timeout time.Duration
	// FlushTimeout bounds how long Agent.Stop spends sending what is queued
	// (default 5 s); what is left then is dropped.
	FlushTimeout time.Duration
	// DisableGCRuns stops pyroscope-go from running a GC before a heap
	// profile when none ran during the period.
	DisableGCRuns bool
}

// String describes the configuration without the password.
func (c PyroscopeConfig) String() string {
	if c.ServerAddress == "" {
		return "pyroscope push off"
	}
	pw := ""
	if c.BasicAuthPassword != "" {
		pw = "(redacted)"
	}
	return fmt.Sprintf("pyroscope push to %s: app %q, tags %q, user %q, password %s, tenant %q, "+
		"%d headers, types %v, upload rate %v, queue %d, timeout %v, flush timeout %v",
		redactURL(c.ServerAddress), c.ApplicationName, pyropush.FormatTags(c.Tags), c.BasicAuthUser, pw,
		c.TenantID, len(c.HTTPHeaders), c.ProfileTypes, c.UploadRate, c.QueueSize, c.Timeout, c.FlushTimeout)
}

// GoString is String, so that %#v does not print the password either.
func (c PyroscopeConfig) GoString() string { return c.String() }

// knownProfileTypes are the types pyroscope-go collects (v1.4.3 to v1.5.0).
var knownProfileTypes = []pyroscope.ProfileType{
	pyroscope.ProfileCPU,
	pyroscope.ProfileInuseObjects, pyroscope.ProfileAllocObjects,
	pyroscope.ProfileInuseSpace, pyroscope.ProfileAllocSpace,
	pyroscope.ProfileGoroutines,
	pyroscope.ProfileMutexCount, pyroscope.ProfileMutexDuration,
	pyroscope.ProfileBlockCount, pyroscope.ProfileBlockDuration,
	pyroscope.ProfileGoroutineLeak,
}

// profileTypeAliases are the names older pyroscope-go versions gave a
// type: v1.5.0 renamed goroutines to goroutine; both are accepted.
var profileTypeAliases = map[pyroscope.ProfileType]pyroscope.ProfileType{
	"goroutines": pyroscope.ProfileGoroutines,
	"goroutine":  pyroscope.ProfileGoroutines,
}

// canonicalProfileType is t under the linked pyroscope-go's name.
func canonicalProfileType(t pyroscope.ProfileType) pyroscope.ProfileType {
	if c, ok := profileTypeAliases[t]; ok {
		return c
	}
	return t
}

// withDefaults returns c with defaults filled in when push is on, and the
// errors of its invalid fields, prefixed "Pyroscope.".
func (c PyroscopeConfig) withDefaults() (PyroscopeConfig, []error) {
	if c.ServerAddress == "" {
		return c, nil
	}
	if c.ApplicationName == "" {
		c.ApplicationName = defaultAppName()
	}
	if len(c.ProfileTypes) == 0 {
		c.ProfileTypes = slices.Clone(pyroscope.DefaultProfileTypes)
	} else {
		c.ProfileTypes = slices.Clone(c.ProfileTypes)
		for i, t := range c.ProfileTypes {
			c.ProfileTypes[i] = canonicalProfileType(t)
		}
	}
	if c.UploadRate == 0 {
		c.UploadRate = DefaultPyroscopeUploadRate
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultPyroscopeQueueSize
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultPyroscopeTimeout
	}
	if c.FlushTimeout == 0 {
		c.FlushTimeout = DefaultPyroscopeFlushTimeout
	}

	var errs []error
	// bad reports field's error; the message starts with the field's name.
	bad := func(field, format string, args ...any) {
		fields := []string{"Pyroscope." + field}
		if f, g, ok := strings.Cut(field, " and "); ok {
			fields = []string{"Pyroscope." + f, "Pyroscope." + g}
		}
		errs = append(errs, &fieldError{fields: fields, err: fmt.Errorf("Pyroscope."+format, args...)})
	}
	if err := checkServerAddress(c.ServerAddress); err != nil {
		bad("ServerAddress", "ServerAddress %s", err)
	}
	if err := pyropush.ValidateAppName(c.ApplicationName); err != nil {
		bad("ApplicationName", "ApplicationName: %v", err)
	}
	if err := pyropush.ValidateTags(c.Tags); err != nil {
		bad("Tags", "Tags: %v", err)
	}
	if (c.BasicAuthUser == "") != (c.BasicAuthPassword == "") {
		bad("BasicAuthUser and BasicAuthPassword", "BasicAuthUser and BasicAuthPassword: set both or neither")
	}
	if strings.ContainsAny(c.TenantID, "\r\n\x00") {
		bad("TenantID", "TenantID: control characters")
	}
	for _, k := range slices.Sorted(maps.Keys(c.HTTPHeaders)) {
		if err := checkHeader(k, c.HTTPHeaders[k]); err != nil {
			bad("HTTPHeaders", "HTTPHeaders: %v", err)
		}
		switch {
		case strings.EqualFold(k, "Authorization") && c.BasicAuthUser != "":
			bad("HTTPHeaders", "HTTPHeaders: %s would replace the basic auth of BasicAuthUser and BasicAuthPassword; set one or the other", k)
		case strings.EqualFold(k, "X-Scope-OrgID") && c.TenantID != "":
			bad("HTTPHeaders", "HTTPHeaders: %s would replace TenantID %q; set TenantID only", k, c.TenantID)
		}
	}
	seen := map[pyroscope.ProfileType]bool{}
	for _, t := range c.ProfileTypes {
		switch {
		case !slices.Contains(knownProfileTypes, t):
			bad("ProfileTypes", "ProfileTypes: unknown type %q (known: %v)", t, knownProfileTypes)
		case seen[t]:
			bad("ProfileTypes", "ProfileTypes: %q given twice", t)
		}
		seen[t] = true
	}
	if c.UploadRate < 100*time.Millisecond {
		bad("UploadRate", "UploadRate %v: want at least 100ms", c.UploadRate)
	}
	if c.QueueSize < 1 || c.QueueSize > 10_000 {
		bad("QueueSize", "QueueSize %d: want 1 to 10000", c.QueueSize)
	}
	if c.Timeout < 0 {
		bad("Timeout", "Timeout %v: want more than 0", c.Timeout)
	}
	if c.FlushTimeout < 0 {
		bad("FlushTimeout", "FlushTimeout %v: want more than 0", c.FlushTimeout)
	}
	return c, errs
}

// checkServerAddress wants an absolute http(s) URL. Its errors never
// include the user info or query of the URL (redactURL).
func checkServerAddress(addr string) error {
	u, err := url.Parse(addr)
	if err != nil {
		return errors.New("is not a URL") // the parse error would quote it, password included
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q: want an http:// or https:// URL", redactURL(addr))
	case u.Host == "":
		return fmt.Errorf("%q: no host", redactURL(addr))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("%q: no query or fragment, please", redactURL(addr))
	}
	return nil
}

// redactURL is addr for a log line or an error: without its user info,
// query and fragment, which may hold credentials.
func redactURL(addr string) string { return pyropush.RedactURL(addr) }

func checkHeader(name, value string) error {
	if name == "" || strings.IndexFunc(name, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, r)
	}) >= 0 {
		return fmt.Errorf("invalid header name %q", name)
	}
	if strings.EqualFold(name, "Content-Type") {
		return errors.New("Content-Type is the upload's multipart type and cannot be replaced")
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return fmt.Errorf("header %s: control characters in the value", name)
	}
	return nil
}

// defaultAppName is the executable's name, made a valid application name.
func defaultAppName() string {
	if n := pyropush.SanitizeAppName(filepath.Base(os.Args[0])); n != "" {
		return n
	}
	if exe, err := os.Executable(); err == nil {
		if n := pyropush.SanitizeAppName(filepath.Base(exe)); n != "" {
			return n
		}
	}
	return "go-app"
}

// defaultTags are the tags the agent adds: hostname, and from the build
// info the version (the main module's, or its VCS revision),
// service_git_ref (the revision) and service_repository (the main module's
// repository URL), which Pyroscope's source-code integration needs together.
func defaultTags() map[string]string {
	tags := map[string]string{}
	if h, err := os.Hostname(); err == nil {
		if v := pyropush.SanitizeValue(h); v != "" {
			tags["hostname"] = v
		}
	}
	version, rev := buildVersion()
	if version != "" {
		tags["version"] = version
	}
	if rev != "" {
		tags["service_git_ref"] = rev
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		if repo := repositoryURL(info.Main.Path); repo != "" {
			tags["service_repository"] = repo
		}
	}
	return tags
}

// repositoryURL is the repository URL of a module path: https:// and, on
// the hosts whose repositories are host/owner/name (GitHub, GitLab,
// Bitbucket), the first three elements; "" for a path that names no host.
func repositoryURL(modPath string) string {
	elems := strings.Split(modPath, "/")
	if len(elems) < 2 || !strings.Contains(elems[0], ".") {
		return "" // command-line-arguments, a local module name
	}
	switch elems[0] {
	case "github.com", "gitlab.com", "bitbucket.org":
		if len(elems) < 3 {
			return ""
		}
		elems = elems[:3]
	}
	return pyropush.SanitizeValue("https://" + strings.Join(elems, "/"))
}

// buildVersion reads the main module's version and VCS revision from the
// build info, made valid tag values ("" when unknown).
func buildVersion() (version, revision string) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", ""
	}
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	version = info.Main.Version
	if version == "(devel)" {
		version = ""
	}
	if version == "" && revision != "" {
		version = revision[:min(12, len(revision))]
		if modified {
			version += "-dirty"
		}
	}
	return pyropush.SanitizeValue(version), pyropush.SanitizeValue(revision)
}

// diagkitVersion is diagkit's module version in this binary, if known.
func diagkitVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	const path = "github.com/diagkit/diagkit"
	if info.Main.Path == path && info.Main.Version != "(devel)" {
		return pyropush.SanitizeValue(info.Main.Version)
	}
	for _, d := range info.Deps {
		if d.Path == path {
			return pyropush.SanitizeValue(d.Version)
		}
	}
	return ""
}
