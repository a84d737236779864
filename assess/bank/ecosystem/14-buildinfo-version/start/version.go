// Package item reports which build of the service is running.
package item

import "runtime/debug"

// Version describes the running binary for /version and the startup log. Call it as
// Version(debug.ReadBuildInfo()).
func Version(bi *debug.BuildInfo, ok bool) string {
	return bi.Main.Version
}
