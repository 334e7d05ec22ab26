package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// Version describes a build of one of the tools, from the build information the Go
// toolchain embeds (debug.ReadBuildInfo).
// Its JSON form is what --version --json prints (docs/json.md, "version").
type Version struct {
	Tool string `json:"tool"`
	// Module is the main module's path and Version its version: "(devel)" for a build
	// from a checkout, a tag such as v1.2.0 for "go install ...@v1.2.0".
	Module  string `json:"module,omitempty"`
	Version string `json:"version"`
	// Revision, Time and Modified are the VCS stamp (go build -buildvcs): the commit,
	// its time, and whether the work tree had changes. Revision is "" without a stamp.
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	// Go is the toolchain's version; Platform is GOOS/GOARCH; Cgo whether cgo was on.
	Go       string `json:"go"`
	Platform string `json:"platform"`
	Cgo      bool   `json:"cgo"`
}

// VersionArgs checks the arguments after --version (or version): none, or --json alone
// (also --json=true and its spellings). It returns whether JSON was asked for, or a usage
// error naming the first argument that does not belong.
func VersionArgs(rest []string) (asJSON bool, err error) {
	for _, a := range rest {
		v, isJSON := strings.CutPrefix(a, "--json=")
		switch {
		case a == "--json":
			asJSON = true
		case isJSON:
			b, perr := strconv.ParseBool(v)
			if perr != nil {
				return false, Usage(fmt.Errorf("--json=%s: want true or false", v))
			}
			asJSON = b
		default:
			return false, Usage(fmt.Errorf("--version takes no arguments but --json, got %q", a))
		}
	}
	return asJSON, nil
}

// ReadVersion returns the running binary's Version.
func ReadVersion(tool string) Version {
	bi, _ := debug.ReadBuildInfo()
	return NewVersion(tool, bi)
}

// NewVersion returns the Version that bi describes (bi may be nil: no build information).
func NewVersion(tool string, bi *debug.BuildInfo) Version {
	v := Version{Tool: tool, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, Version: "unknown"}
	if bi == nil {
		return v
	}
	v.Module, v.Go = bi.Main.Path, bi.GoVersion
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		case "CGO_ENABLED":
			v.Cgo = s.Value == "1"
		case "GOOS":
			v.Platform = s.Value + v.Platform[strings.Index(v.Platform, "/"):]
		case "GOARCH":
			v.Platform = v.Platform[:strings.Index(v.Platform, "/")+1] + s.Value
		}
	}
	return v
}

// String is the text of --version: the tool and its version on the first line, then one
// "key: value" line each for the module, the revision and the toolchain.
func (v Version) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s version %s\n", v.Tool, v.Version)
	if v.Module != "" {
		fmt.Fprintf(&b, "module:      %s\n", v.Module)
	}
	switch {
	case v.Revision == "":
		b.WriteString("revision:    unknown (built without VCS information)\n")
	default:
		rev := v.Revision
		var notes []string
		if v.Time != "" {
			notes = append(notes, "committed "+v.Time)
		}
		if v.Modified {
			notes = append(notes, "with uncommitted changes")
		}
		if len(notes) > 0 {
			rev += " (" + strings.Join(notes, ", ") + ")"
		}
		fmt.Fprintf(&b, "revision:    %s\n", rev)
	}
	cgo := "cgo off"
	if v.Cgo {
		cgo = "cgo on"
	}
	fmt.Fprintf(&b, "go:          %s %s, %s\n", v.Go, v.Platform, cgo)
	return b.String()
}
