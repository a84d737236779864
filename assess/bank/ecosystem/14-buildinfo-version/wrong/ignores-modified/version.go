// Package item reports which build of the service is running.
package item

import "runtime/debug"

// Version describes the running binary for /version and the startup log. Call it as
// Version(debug.ReadBuildInfo()).
//
// A module build at a tagged version reports it ("v1.4.2"). A build from a checkout
// reports "(devel)" as the module version; the VCS stamp (vcs.revision, vcs.modified,
// Go 1.18+) identifies it instead. GOPATH builds and test binaries have neither.
func Version(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "unknown"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			rev = s.Value
		}
	}
	if rev == "" {
		return "unknown"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return rev
}
