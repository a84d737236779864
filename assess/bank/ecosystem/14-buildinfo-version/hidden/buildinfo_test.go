package item

import (
	"runtime/debug"
	"testing"
)

func devel(modified string) *debug.BuildInfo {
	return &debug.BuildInfo{
		Main: debug.Module{Path: "example.com/shop", Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "-compiler", Value: "gc"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"},
			{Key: "vcs.time", Value: "2024-05-01T10:00:00Z"},
			{Key: "vcs.modified", Value: modified},
		},
	}
}

func TestDevelBuildUsesRevision(t *testing.T) {
	if got := Version(devel("false"), true); got != "3f2a9c1d8e7b" {
		t.Fatalf("Version = %q, want the first 12 characters of vcs.revision", got)
	}
}

func TestDirtyTree(t *testing.T) {
	if got := Version(devel("true"), true); got != "3f2a9c1d8e7b-dirty" {
		t.Fatalf("Version = %q, want 3f2a9c1d8e7b-dirty", got)
	}
}

func TestNoVersionInfo(t *testing.T) {
	// A GOPATH-mode build: no main module, no VCS settings.
	gopath := &debug.BuildInfo{GoVersion: "go1.19.8", Path: "item"}
	if got := Version(gopath, true); got != "unknown" {
		t.Fatalf("GOPATH build: Version = %q, want unknown", got)
	}
	if got := Version(nil, false); got != "unknown" {
		t.Fatalf("no build info: Version = %q, want unknown", got)
	}
	if got := Version(debug.ReadBuildInfo()); got != "unknown" {
		t.Fatalf("this test binary: Version = %q, want unknown", got)
	}
}
