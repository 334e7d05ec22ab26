package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fmkit/fmkit/internal/atomicfile"
	"github.com/fmkit/fmkit/internal/cli"
	"github.com/fmkit/fmkit/internal/userpath"
)

// A training run's files: the model (--out), its history (JSON and CSV),
// its training curves and its checkpoint. Together they are one set: the
// history and checkpoint describe the run that made the model.
//
// A run that would replace an existing model keeps the old set intact
// until the new set is complete. While it trains it writes its history,
// curves and checkpoint under pending names, the final name made hidden
// with ".pending" added (X.ckpt is written as .X.ckpt.pending); an interrupt
// saves the state there, and --resume continues from the pending checkpoint
// when there is one. Only when the new model has been written (as
// .X.onnx.pending too) are the pending files renamed over the old set, the
// model last: a handful of renames in one directory, after which the set is
// the new run's. A run with no model at --out writes the final names
// directly, as nothing would be lost.
//
// Before training, a run removes what earlier runs left of its own files:
// temporary files of atomic writes that no process holds
// (atomicfile.RemoveStale), and pending files of an abandoned retrain
// unless this run resumes from them.

// fileSet names the files of one set.
type fileSet struct {
	model, histJSON, histCSV, curves, ckpt string
}

// roles returns the set's paths with what each is, for messages.
func (s fileSet) roles(ckptFlag string) []userpath.Role {
	return []userpath.Role{
		{Flag: "--out", Path: s.model},
		{Flag: "the history file", Path: s.histJSON},
		{Flag: "the history file", Path: s.histCSV},
		{Flag: "the training curves", Path: s.curves},
		{Flag: ckptFlag, Path: s.ckpt},
	}
}

// paths returns the set's paths, the model last.
func (s fileSet) paths() []string { return []string{s.histJSON, s.histCSV, s.curves, s.ckpt, s.model} }

// pendingName returns the name under which a retrain writes path until its
// model is complete.
func pendingName(path string) string {
	dir, base := filepath.Split(path)
	return filepath.Join(dir, "."+base+".pending")
}

// runFiles are the files of one training run.
type runFiles struct {
	final    fileSet
	pending  fileSet
	ckptFlag string // "--checkpoint" when given, else "the checkpoint"
	// staged is true when a model exists at final.model: the run writes
	// the pending names until its own model is complete.
	staged bool
}

// newRunFiles returns the files of a run writing the model out, with the
// checkpoint at ckpt ("" for the default beside the model).
func newRunFiles(out, ckpt string) *runFiles {
	histJSON, histCSV, defCkpt := siblings(out)
	r := &runFiles{ckptFlag: "the checkpoint"}
	if ckpt == "" {
		ckpt = defCkpt
	} else {
		r.ckptFlag = "--checkpoint"
	}
	r.final = fileSet{model: out, histJSON: histJSON, histCSV: histCSV, curves: curvesPath(out), ckpt: ckpt}
	p := func(s string) string { return pendingName(s) }
	r.pending = fileSet{model: p(out), histJSON: p(histJSON), histCSV: p(histCSV), curves: p(r.final.curves), ckpt: p(ckpt)}
	if st, err := os.Stat(out); err == nil && st.Mode().IsRegular() {
		r.staged = true
	}
	return r
}

// target is the set the run writes while it trains.
func (r *runFiles) target() fileSet {
	if r.staged {
		return r.pending
	}
	return r.final
}

// check fails early, before any training, when the run's files would
// overwrite each other (--checkpoint naming the model or the history) or
// the bundle's model, or when one of them cannot be written: its directory
// is missing, or a directory (or a device) is in its place.
func (r *runFiles) check(bundle string) error {
	roles := r.final.roles(r.ckptFlag)
	if bundle != "" {
		roles = append(roles, userpath.Role{Flag: "--bundle's model.onnx", Path: filepath.Join(bundle, "model.onnx")})
	}
	if err := userpath.Distinct(roles...); err != nil {
		return cli.Usage(err)
	}
	pend := r.pending.roles(r.ckptFlag)
	for i, role := range roles[:len(pend)] {
		if err := cli.CheckOutputFile(role.Flag, role.Path); err != nil {
			return err
		}
		if err := cli.CheckOutputFile(role.Flag+" (pending)", pend[i].Path); err != nil {
			return err
		}
	}
	return nil
}

// checkInputs fails when one of the run's files is one of inputs (the
// dataset's files): training would overwrite its own data.
func (r *runFiles) checkInputs(what string, inputs []string) error {
	roles := append(r.final.roles(r.ckptFlag), r.pending.roles(r.ckptFlag)...)
	for _, in := range inputs {
		roles = append(roles, userpath.Role{Flag: what, Path: in, Input: true})
	}
	if err := userpath.Distinct(roles...); err != nil {
		return cli.Usage(err)
	}
	return nil
}

// resumeFrom returns the checkpoint --resume reads: the pending one of an
// interrupted retrain when there is one, else the final one.
func (r *runFiles) resumeFrom() string {
	if st, err := os.Lstat(r.pending.ckpt); err == nil && st.Mode().IsRegular() {
		return r.pending.ckpt
	}
	return r.final.ckpt
}

// clean removes, before training, the temporary files that killed writes
// of this run's paths left behind (only those no process is writing; see
// atomicfile.RemoveStale), and the pending files of an abandoned retrain
// unless resumedFrom (the checkpoint this run continues) is one of them. It
// says on w what it removed; failures to remove are reported, never fatal.
func (r *runFiles) clean(w io.Writer, resumedFrom string, extra ...string) {
	paths := append(append(r.final.paths(), r.pending.paths()...), extra...)
	for _, p := range paths {
		removed, err := atomicfile.RemoveStale(p)
		for _, q := range removed {
			fmt.Fprintf(w, "fmtrain: removed %s, left by an interrupted write\n", userpath.Show(q))
		}
		if err != nil {
			fmt.Fprintf(w, "fmtrain: warning: cleaning up beside %s: %v\n", userpath.Show(p), userpath.Sanitize(err.Error()))
		}
	}
	if resumedFrom == r.pending.ckpt {
		return
	}
	var gone []string
	for _, p := range r.pending.paths() {
		if st, err := os.Lstat(p); err != nil || !st.Mode().IsRegular() {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(w, "fmtrain: warning: %v\n", userpath.Sanitize(err.Error()))
			continue
		}
		gone = append(gone, userpath.Show(filepath.Base(p)))
	}
	if len(gone) > 0 {
		fmt.Fprintf(w, "fmtrain: discarded the files of an unfinished retrain (%s); this run starts afresh (--resume would have continued it)\n", strings.Join(gone, ", "))
	}
}

// commit ends a successful run: it writes the history and curves (again:
// a resumed run may have had no epoch left to write them) and the model
// into the target set, then, for a staged run, renames the pending files
// over the final ones, the model last, and syncs the directories; for a run
// that was not staged it removes any pending file left.
func (r *runFiles) commit(writeHistory func(fileSet) error, writeModel func(path string) error) error {
	t := r.target()
	if err := writeHistory(t); err != nil {
		return err
	}
	if err := writeModel(t.model); err != nil {
		return err
	}
	if !r.staged {
		// A run resumed from a pending checkpoint after the earlier model
		// was deleted wrote the final names: the pending files are spent.
		for _, p := range r.pending.paths() {
			if st, err := os.Lstat(p); err == nil && st.Mode().IsRegular() {
				os.Remove(p)
			}
		}
		return nil
	}
	dirs := map[string]bool{}
	pend, fin := r.pending.paths(), r.final.paths()
	for i := range pend {
		if _, err := os.Lstat(pend[i]); errors.Is(err, fs.ErrNotExist) {
			continue // a resumed run that trained no epoch made no new checkpoint
		}
		if err := os.Rename(pend[i], fin[i]); err != nil {
			return fmt.Errorf("putting the new %s in place: %w", userpath.Show(fin[i]), err)
		}
		dirs[filepath.Dir(fin[i])] = true
	}
	for d := range dirs {
		if f, err := os.Open(d); err == nil {
			f.Sync()
			f.Close()
		}
	}
	return nil
}
