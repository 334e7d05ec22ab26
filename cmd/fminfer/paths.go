package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/fmkit/fmkit/internal/atomicfile"
	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/internal/userpath"
)

// preprocessedPath is where --save-preprocessed DIR writes what the model
// saw of input i (file, or "-" for standard input): DIR/NNN-name.png.
func preprocessedPath(dir string, i int, file string) string {
	base := "stdin"
	if file != "-" {
		base = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	return filepath.Join(dir, fmt.Sprintf("%03d-%s.png", i, base))
}

// checkOutputs refuses, before any work, a command line whose outputs (the
// --explain picture, the --save-preprocessed files) would overwrite one of
// the input images or each other: "fminfer --explain in.png in.png" would
// replace the picture it classifies. Paths are compared resolved and, where
// both exist, by os.SameFile (see userpath.Same).
func checkOutputs(explain, savePre string, inputs []string) error {
	var roles []userpath.Role
	for _, in := range inputs {
		if in != "-" {
			roles = append(roles, userpath.Role{Flag: "the input image", Path: in, Input: true})
		}
	}
	if explain != "" {
		roles = append(roles, userpath.Role{Flag: "--explain", Path: explain})
	}
	if savePre != "" {
		for i, in := range inputs {
			roles = append(roles, userpath.Role{Flag: "--save-preprocessed's", Path: preprocessedPath(savePre, i, in)})
		}
	}
	if err := userpath.Distinct(roles...); err != nil {
		return cli.Usage(err)
	}
	return nil
}

// cleanStale removes the temporary files that killed writes of paths left
// behind (atomicfile.RemoveStale: only this tool's own names, only files no
// process is writing), saying so on w; failures are warnings, never fatal.
func cleanStale(w io.Writer, paths ...string) {
	for _, p := range paths {
		removed, err := atomicfile.RemoveStale(p)
		for _, q := range removed {
			fmt.Fprintf(w, "fminfer: removed %s, left by an interrupted write\n", userpath.Show(q))
		}
		if err != nil {
			fmt.Fprintf(w, "fminfer: warning: cleaning up beside %s: %v\n", userpath.Show(p), userpath.Sanitize(err.Error()))
		}
	}
}
