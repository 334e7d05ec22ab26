package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fmkit/fmkit/models"
	"github.com/fmkit/fmkit/pkg/train"
)

// The file half of the hostile catalogue (issue 13): paths that are not
// regular files, outputs that would destroy inputs or each other, edited
// checkpoints, planted symbolic links, a broken library, names that would
// spoof a text line. Each case ends with its documented exit code and a
// message naming the problem, within fileTimeout (a FIFO opened for reading
// would block forever), without a panic, and without changing any file that
// was there before (contents compared byte for byte, symbolic links by what
// they point at) or leaving anything new behind.

// Exit code of a panic turned into a bug report (cli.ExitBug), in both tools.
const exitBug = 3

// fileTimeout bounds one run of a file case: every one is refused before
// any real work, so a run that takes longer is stuck (on a FIFO, say).
const fileTimeout = time.Minute

// fileCase is one entry of the file catalogue.
type fileCase struct {
	name  string
	tool  string // "fmtrain" or "fminfer"
	needs string // "data", "ort" or ""
	env   []string
	setup func(t *testing.T, dir string) []string
	code  int
	msg   string // a fragment of stderr (or of stdout, where verify reports each directory)
	// panics marks the cases that make the tool panic on purpose: their
	// output holds a stack, which checkNoPanic would take for a bug.
	panics bool
}

// run runs tool in dir with extra environment variables, within timeout,
// optionally as another user (uid >= 0); it fails the test when the program
// does not end in time.
func runWith(t *testing.T, dir, tool string, env []string, uid int, timeout time.Duration, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, tool), args...)
	cmd.Dir = dir
	cmd.Env = append(toolEnv(), env...)
	if uid >= 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("%s %q: still running after %v (stuck)\nstderr:\n%s", tool, args, timeout, r.stderr)
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	default:
		t.Fatalf("%s %q: %v\nstderr:\n%s", tool, args, err, r.stderr)
	}
	return r
}

// snapshot records every entry under dir: a regular file by the SHA-256 of
// its content, a symbolic link by its target and what the target is
// (device, inode, size, change time), so that a write through the link
// shows too.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			desc := "-> " + target
			if st, err := os.Stat(p); err == nil {
				if s, ok := st.Sys().(*syscall.Stat_t); ok {
					desc += fmt.Sprintf(" dev %d ino %d size %d ctime %d.%d", s.Dev, s.Ino, s.Size, s.Ctim.Sec, s.Ctim.Nsec)
				}
			}
			snap[rel] = desc
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				snap[rel] = "unreadable: " + err.Error()
				break
			}
			snap[rel] = fmt.Sprintf("%x", sha256.Sum256(b))
		default:
			snap[rel] = d.Type().String()
		}
		return nil
	})
	return snap
}

// The checkpoint of a real tiny training run (tinyTrain), made once.
var (
	tinyCkptOnce sync.Once
	tinyCkpt     []byte
	tinyCkptErr  string
)

// tinyCheckpoint returns the checkpoint a tinyTrain run wrote.
func tinyCheckpoint(t *testing.T) []byte {
	t.Helper()
	needData(t)
	tinyCkptOnce.Do(func() {
		dir, err := os.MkdirTemp(binDir, "tiny-")
		if err != nil {
			tinyCkptErr = err.Error()
			return
		}
		r := runWith(t, dir, "fmtrain", nil, -1, toolTimeout, append([]string{"--data", sysData, "--out", "X.fmk"}, tinyTrain...)...)
		if r.code != 0 {
			tinyCkptErr = fmt.Sprintf("the tiny training run failed (exit %d):\n%s", r.code, r.stderr)
			return
		}
		if tinyCkpt, err = os.ReadFile(filepath.Join(dir, "X.ckpt")); err != nil {
			tinyCkptErr = err.Error()
		}
	})
	if tinyCkptErr != "" {
		t.Fatal(tinyCkptErr)
	}
	return tinyCkpt
}

// editedCheckpoint returns the tiny run's checkpoint changed by edit and
// written again, so that its checksum is valid: what a person editing the
// file would produce.
func editedCheckpoint(t *testing.T, edit func(c *train.Checkpoint)) []byte {
	t.Helper()
	c, err := train.DecodeCheckpoint("tiny", tinyCheckpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	edit(c)
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// resumeEdited is the setup of a --resume (with tinyTrain and then flags)
// from the tiny run's checkpoint changed by edit.
func resumeEdited(edit func(c *train.Checkpoint), flags ...string) func(t *testing.T, dir string) []string {
	return func(t *testing.T, dir string) []string {
		return append(resumeFrom(editedCheckpoint(t, edit))(t, dir), flags...)
	}
}

// fifoIn makes a FIFO at dir/name and returns its path.
func fifoIn(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	mkfifo(t, p)
	return p
}

// withModel writes the linear model to dir/m.onnx and returns its path.
func withModel(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "m.onnx")
	write(t, p, linearModel().bytes())
	return p
}

func fileCatalogue() []fileCase {
	return []fileCase{
		// Checkpoint fields out of range, each with a valid checksum.
		{name: "resume/negative-step-in-epoch", tool: "fmtrain", needs: "data", code: trainFail, msg: `checkpoint field "step_in_epoch": -3 is out of range`,
			setup: resumeEdited(func(c *train.Checkpoint) { c.Extra["step_in_epoch"] = "-3" })},
		{name: "resume/step-in-epoch-past-the-epoch", tool: "fmtrain", needs: "data", code: trainFail, msg: `"step_in_epoch": 2 is out of range 0..1`,
			setup: resumeEdited(func(c *train.Checkpoint) { c.Extra["step_in_epoch"] = "2" })},
		{name: "resume/negative-seen", tool: "fmtrain", needs: "data", code: trainFail, msg: `checkpoint field "seen"`,
			setup: resumeEdited(func(c *train.Checkpoint) { c.Extra["seen"] = "-64" })},
		{name: "resume/adam-step-disagrees", tool: "fmtrain", needs: "data", code: trainFail, msg: `checkpoint field "step"`,
			setup: resumeEdited(func(c *train.Checkpoint) { c.Step = 1 << 40 })},
		{name: "resume/negative-epoch", tool: "fmtrain", needs: "data", code: trainFail, msg: `metadata "epoch"`,
			setup: resumeEdited(func(c *train.Checkpoint) { c.Epoch = -1 })},
		// Other data or model flags than the checkpoint was made with.
		{name: "resume/other-train-size", tool: "fmtrain", needs: "data", code: trainUsage, msg: "--train-size 64 (this run: 32)",
			setup: resumeEdited(func(c *train.Checkpoint) {}, "--train-size", "32")},
		{name: "resume/other-lr-and-seed", tool: "fmtrain", needs: "data", code: trainUsage, msg: "--lr 0.001 (this run: 0.01), --seed 1 (this run: 9)",
			setup: resumeEdited(func(c *train.Checkpoint) {}, "--lr", "0.01", "--seed", "9")},
		{name: "resume/other-augment", tool: "fmtrain", needs: "data", code: trainUsage, msg: `--augment "none" (this run: "hflip")`,
			setup: resumeEdited(func(c *train.Checkpoint) {}, "--augment", "hflip")},
		// Paths that are not regular files: refused by type, never opened blocking.
		{name: "resume/checkpoint-fifo", tool: "fmtrain", code: trainUsage, msg: "state.ckpt is a named pipe, not a file to write",
			setup: func(t *testing.T, dir string) []string {
				return append([]string{"--data", sysData, "--out", "out/m.fmk", "--checkpoint", fifoIn(t, dir, "state.ckpt"), "--resume"}, tinyTrain...)
			}},
		{name: "resume/checkpoint-directory", tool: "fmtrain", code: trainUsage, msg: "--checkpoint state.ckpt is a directory",
			setup: func(t *testing.T, dir string) []string {
				os.Mkdir(filepath.Join(dir, "state.ckpt"), 0o755)
				return append([]string{"--data", sysData, "--out", "out/m.fmk", "--checkpoint", "state.ckpt"}, tinyTrain...)
			}},
		{name: "train/default-checkpoint-is-a-directory", tool: "fmtrain", code: trainUsage, msg: "the checkpoint out/m.ckpt is a directory",
			setup: func(t *testing.T, dir string) []string {
				// Found before the data are even looked for, not after epoch 1.
				os.Mkdir(filepath.Join(dir, "out", "m.ckpt"), 0o755)
				return append([]string{"--data", filepath.Join(dir, "nowhere"), "--out", "out/m.fmk"}, tinyTrain...)
			}},
		{name: "data/directory-is-a-fifo", tool: "fmtrain", code: trainFail, msg: "is a named pipe, not a directory",
			setup: func(t *testing.T, dir string) []string {
				return append([]string{"--data", fifoIn(t, dir, "data"), "--out", "out/m.fmk"}, tinyTrain...)
			}},
		{name: "evaluate/model-fifo", tool: "fmtrain", code: trainFail, msg: "not a regular file (a named pipe)",
			setup: func(t *testing.T, dir string) []string {
				return []string{"evaluate", "--model", fifoIn(t, dir, "m.fmk"), "--data", sysData, "--plot", "out/c.png"}
			}},
		{name: "export/model-fifo", tool: "fmtrain", code: trainFail, msg: "not a regular file (a named pipe)",
			setup: func(t *testing.T, dir string) []string {
				return []string{"export", "--model", fifoIn(t, dir, "m.fmk"), "--out", "out/m.onnx"}
			}},
		{name: "filters/model-fifo", tool: "fmtrain", code: trainFail, msg: "not a regular file (a named pipe)",
			setup: func(t *testing.T, dir string) []string {
				return []string{"filters", "--model", fifoIn(t, dir, "m.onnx"), "--out", "out/f.png"}
			}},
		{name: "verify/model-fifo", tool: "fminfer", code: inferRuntime, msg: "not a regular file (a named pipe)",
			setup: func(t *testing.T, dir string) []string {
				args := verifyDir(tensor{name: "input", dims: []int64{1, 1, 28, 28}, data: make([]float32, 784)}.proto())(t, dir)
				d := args[len(args)-1]
				os.Remove(filepath.Join(d, "model.onnx"))
				mkfifo(t, filepath.Join(d, "model.onnx"))
				return args
			}},
		{name: "verify/pb-fifo", tool: "fminfer", code: inferRuntime, msg: "not a regular file (a named pipe)",
			setup: func(t *testing.T, dir string) []string {
				args := verifyDir(nil)(t, dir)
				d := args[len(args)-1]
				p := filepath.Join(d, "test_data_set_0", "input_0.pb")
				os.Remove(p)
				mkfifo(t, p)
				return args
			}},
		{name: "model/fifo", tool: "fminfer", code: inferRuntime, msg: "not a regular file (a named pipe)",
			setup: func(t *testing.T, dir string) []string {
				return append([]string{"--model", fifoIn(t, dir, "m.onnx")}, classify("native", nil)(t, dir)...)
			}},
		{name: "image/fifo-never-blocks", tool: "fminfer", code: inferInputs, msg: "not a regular file (a named pipe)",
			setup: func(t *testing.T, dir string) []string {
				return []string{"--engine", "native", fifoIn(t, dir, "pipe.png")}
			}},
		{name: "ort/library-fifo", tool: "fminfer", code: inferRuntime, msg: "a named pipe, not a regular file",
			setup: func(t *testing.T, dir string) []string {
				return classify("native", nil, "--engine", "ort", "--ort-library", fifoIn(t, dir, "libonnxruntime.so.1"))(t, dir)
			}},
		{name: "ort/auto-with-a-fifo-library", tool: "fminfer", code: inferRuntime, msg: "--ort-library",
			setup: func(t *testing.T, dir string) []string {
				return classify("native", nil, "--engine", "auto", "--ort-library", fifoIn(t, dir, "libonnxruntime.so.1"))(t, dir)
			}},
		// --engine auto falls back to the native engine only when no library
		// is named: one the user named that does not load is an error.
		{name: "ort/auto-with-a-broken-library", tool: "fminfer", code: inferRuntime, msg: "--ort-library libbroken.so",
			setup: func(t *testing.T, dir string) []string {
				write(t, filepath.Join(dir, "libbroken.so"), []byte("not a shared library\n"))
				return classify("native", nil, "--engine", "auto", "--ort-library", "libbroken.so")(t, dir)
			}},
		{name: "ort/auto-with-a-missing-library", tool: "fminfer", code: inferRuntime, msg: "--ort-library nowhere.so",
			setup: func(t *testing.T, dir string) []string {
				return classify("native", nil, "--engine", "auto", "--ort-library", "nowhere.so")(t, dir)
			}},

		// Outputs that would overwrite each other or an input.
		{name: "out/checkpoint-is-the-model", tool: "fmtrain", code: trainUsage, msg: "--out out/m.fmk and --checkpoint out/../out/m.fmk are the same file",
			setup: trainFlags("--checkpoint", "out/../out/m.fmk")},
		{name: "out/checkpoint-is-the-history", tool: "fmtrain", code: trainUsage, msg: "the history file out/m.history.json and --checkpoint",
			setup: trainFlags("--checkpoint", "out/m.history.json")},
		{name: "out/checkpoint-is-the-curves", tool: "fmtrain", code: trainUsage, msg: "the training curves out/m.curves.png and --checkpoint",
			setup: trainFlags("--checkpoint", "out/m.curves.png")},
		{name: "out/checkpoint-hard-linked-to-the-model", tool: "fmtrain", code: trainUsage, msg: "are the same file",
			setup: func(t *testing.T, dir string) []string {
				write(t, filepath.Join(dir, "m.fmk"), []byte("an earlier model"))
				if err := os.Link(filepath.Join(dir, "m.fmk"), filepath.Join(dir, "link.ckpt")); err != nil {
					t.Skip(err)
				}
				return append([]string{"--data", sysData, "--out", "m.fmk", "--checkpoint", "link.ckpt"}, tinyTrain...)
			}},
		{name: "out/checkpoint-is-a-dataset-file", tool: "fmtrain", needs: "data", code: trainUsage, msg: "the dataset file",
			setup: func(t *testing.T, dir string) []string {
				d := dataDir(t, nil)
				return append([]string{"--data", d, "--out", "out/m.fmk", "--checkpoint", filepath.Join(d, "t10k-labels-idx1-ubyte.gz")}, tinyTrain...)
			}},
		{name: "out/bundle-model-is-out", tool: "fmtrain", code: trainUsage, msg: "--bundle's model.onnx",
			setup: trainFlags("--out", "out/model.onnx", "--bundle", "out")},
		{name: "export/out-is-the-model", tool: "fmtrain", code: trainUsage, msg: "the output would overwrite the input",
			setup: func(t *testing.T, dir string) []string {
				withModel(t, dir)
				return []string{"export", "--model", "m.onnx", "--out", "./m.onnx"}
			}},
		{name: "evaluate/plot-is-the-model", tool: "fmtrain", code: trainUsage, msg: "the output would overwrite the input",
			setup: func(t *testing.T, dir string) []string {
				withModel(t, dir)
				return []string{"evaluate", "--model", "m.onnx", "--plot", "m.onnx"}
			}},
		{name: "filters/out-is-the-model", tool: "fmtrain", code: trainUsage, msg: "the output would overwrite the input",
			setup: func(t *testing.T, dir string) []string {
				withModel(t, dir)
				return []string{"filters", "--model", "m.onnx", "--out", "m.onnx"}
			}},
		{name: "explain/over-the-input", tool: "fminfer", code: inferUsage, msg: "the input image in.png and --explain in.png are the same file: the output would overwrite the input",
			setup: func(t *testing.T, dir string) []string {
				write(t, filepath.Join(dir, "in.png"), samplePNG(t))
				return []string{"--engine", "native", "--explain", "in.png", "in.png"}
			}},
		{name: "save-preprocessed/over-an-input", tool: "fminfer", code: inferUsage, msg: "overwrite the input",
			setup: func(t *testing.T, dir string) []string {
				os.Mkdir(filepath.Join(dir, "pre"), 0o755)
				write(t, filepath.Join(dir, "x.png"), samplePNG(t))
				write(t, filepath.Join(dir, "pre", "000-x.png"), samplePNG(t))
				return []string{"--engine", "native", "--save-preprocessed", "pre", "x.png", "pre/000-x.png"}
			}},
		// A symbolic link planted in a bundle must not take the writes out of it.
		{name: "export/bundle-planted-symlink", tool: "fmtrain", code: trainUsage, msg: "test_data_set_0 is a symbolic link",
			setup: func(t *testing.T, dir string) []string {
				withModel(t, dir)
				os.Mkdir(filepath.Join(dir, "elsewhere"), 0o755)
				os.Mkdir(filepath.Join(dir, "bundle"), 0o755)
				if err := os.Symlink(filepath.Join(dir, "elsewhere"), filepath.Join(dir, "bundle", "test_data_set_0")); err != nil {
					t.Fatal(err)
				}
				return []string{"export", "--model", "m.onnx", "--out", "out/m.onnx", "--bundle", "bundle", "--data", sysData}
			}},
		// An output that is a directory is found before the work, not after it.
		{name: "eval/plot-directory-before-the-data", tool: "fminfer", code: inferUsage, msg: "--plot out is a directory",
			setup: func(t *testing.T, dir string) []string {
				return []string{"eval", "--engine", "native", "--data", filepath.Join(dir, "nowhere"), "--plot", "out"}
			}},
		{name: "evaluate/plot-directory-before-the-data", tool: "fmtrain", code: trainUsage, msg: "--plot out is a directory",
			setup: func(t *testing.T, dir string) []string {
				withModel(t, dir)
				return []string{"evaluate", "--model", "m.onnx", "--data", filepath.Join(dir, "nowhere"), "--plot", "out"}
			}},

		// A panic is an internal error: exit 3 and a request for a bug report, never exit 2.
		{name: "panic/fmtrain", tool: "fmtrain", env: []string{"FMKIT_TEST_PANIC=fmtrain"}, code: exitBug, msg: "this is a bug in fmtrain", panics: true,
			setup: func(t *testing.T, dir string) []string { return []string{"summary"} }},
		{name: "panic/fminfer", tool: "fminfer", env: []string{"FMKIT_TEST_PANIC=fminfer"}, code: exitBug, msg: "this is a bug in fminfer", panics: true,
			setup: func(t *testing.T, dir string) []string { return []string{"doctor"} }},
	}
}

// TestFileCatalogue runs every case of the file catalogue: its exit code
// and message, no panic, no hang, nothing changed or added.
func TestFileCatalogue(t *testing.T) {
	cases := fileCatalogue()
	t.Logf("%d cases", len(cases))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			needs(t, c.needs)
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
				t.Fatal(err)
			}
			args := c.setup(t, dir)
			before := snapshot(t, dir)
			r := runWith(t, dir, c.tool, c.env, -1, fileTimeout, args...)
			t.Logf("%s %q\n-> exit %d in %v\n%s", c.tool, args, r.code, r.elapsed.Round(time.Millisecond), r.stderr)
			if !c.panics {
				checkNoPanic(t, r)
			}
			if r.code != c.code {
				t.Errorf("exit code %d, want %d", r.code, c.code)
			}
			if !strings.Contains(r.stderr, c.msg) && !strings.Contains(r.stdout, c.msg) {
				t.Errorf("the output does not mention %q\nstdout:\n%s", c.msg, r.stdout)
			}
			after := snapshot(t, dir)
			for name, was := range before {
				if now, ok := after[name]; !ok {
					t.Errorf("%s is gone", name)
				} else if now != was {
					t.Errorf("%s changed: %s, was %s", name, now, was)
				}
			}
			for name := range after {
				if _, ok := before[name]; !ok {
					t.Errorf("%s appeared", name)
				}
			}
		})
	}
}

// tinyRetrain is a training run long enough to be interrupted in its
// middle reliably (many short epochs), seed s.
func tinyRetrain(s string) []string {
	return []string{"--data", sysData, "--arch", "c2k3-f-d10", "--train-size", "256", "--epochs", "40", "--batch-size", "32",
		"--threads", "1", "--validate=false", "--seed", s, "--out", "m.fmk"}
}

// TestRetrainKeepsTheEarlierSet trains a model, then retrains into the same
// --out with another seed and interrupts it after a few epochs: the earlier
// run's model, history, curves and checkpoint must be byte for byte as they
// were, the interrupted run's state must be in the pending checkpoint, and
// --resume must complete the new run and put its whole set in place, with
// nothing pending left.
func TestRetrainKeepsTheEarlierSet(t *testing.T) {
	needData(t)
	dir := t.TempDir()
	first := append(tinyRetrain("1"), "--epochs", "2")
	runTraining(t, dir, first...)
	set := []string{"m.fmk", "m.history.json", "m.history.csv", "m.curves.png", "m.ckpt"}
	earlier := map[string][]byte{}
	for _, n := range set {
		earlier[n] = mustRead(t, filepath.Join(dir, n))
	}

	second := tinyRetrain("2")
	tr := startTraining(t, dir, second...)
	tr.waitStarted(t)
	// Interrupt once the third epoch has begun: two epochs of the new run
	// have been checkpointed by then.
	deadline := time.Now().Add(toolTimeout)
	for {
		tr.mu.Lock()
		n := strings.Count(tr.stdout.String(), "Epoch ")
		tr.mu.Unlock()
		if n >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := tr.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := tr.wait(t)
	t.Logf("retrain interrupted: exit %d\n%s", code, stderr)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d (the run ended before the signal?)\n%s", code, exitInterrupted, stdout)
	}
	if !strings.Contains(stderr, "training state saved to .m.ckpt.pending (m.fmk and its files from the earlier run are unchanged)") {
		t.Errorf("the interruption message does not say where the state went and what was kept")
	}
	for _, n := range set {
		if b := mustRead(t, filepath.Join(dir, n)); !bytes.Equal(b, earlier[n]) {
			t.Errorf("%s of the earlier run changed during the interrupted retrain", n)
		}
	}
	pend, err := train.LoadCheckpoint(filepath.Join(dir, ".m.ckpt.pending"))
	if err != nil {
		t.Fatalf("the interrupted retrain's state: %v", err)
	}
	if pend.Epoch < 2 {
		t.Errorf("the pending checkpoint holds %d epochs, want 2 or more", pend.Epoch)
	}

	r := runWith(t, dir, "fmtrain", nil, -1, toolTimeout, append(second, "--resume")...)
	if r.code != 0 {
		t.Fatalf("--resume: exit %d\n%s", r.code, r.stderr)
	}
	hist, err := train.ReadHistoryJSON(filepath.Join(dir, "m.history.json"))
	if err != nil {
		t.Fatal(err)
	}
	ck, err := train.LoadCheckpoint(filepath.Join(dir, "m.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.Epochs) != 40 || ck.Epoch != 40 {
		t.Errorf("after --resume: %d epochs in the history, %d in the checkpoint; want the new run's 40", len(hist.Epochs), ck.Epoch)
	}
	for _, n := range set {
		if bytes.Equal(mustRead(t, filepath.Join(dir, n)), earlier[n]) {
			t.Errorf("%s is still the earlier run's", n)
		}
	}
	var left []string
	for _, e := range mustReadDir(t, dir) {
		if !slices.Contains(set, e) {
			left = append(left, e)
		}
	}
	if len(left) > 0 {
		t.Errorf("files left beside the set after --resume: %v", left)
	}
}

func mustReadDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// exitInterrupted is fmtrain's exit code after SIGINT or SIGTERM in training.
const exitInterrupted = 130

// TestStaleTemporaryFilesAreRemoved plants what a killed run leaves beside
// its outputs, and things that only look like it: the next training run
// removes its own abandoned temporary files and nothing else.
func TestStaleTemporaryFilesAreRemoved(t *testing.T) {
	needData(t)
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	plant := func(name string) string {
		p := filepath.Join(dir, name)
		write(t, p, []byte(name))
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
		return name
	}
	stale := []string{plant(".m.fmk.tmp-123456"), plant(".m.ckpt.tmp-42"), plant(".m.history.json.tmp-7"), plant(".m.fmk.tmp99")}
	kept := []string{plant(".other.fmk.tmp-1"), plant(".m.fmk.tmp-notdigits"), plant("m.fmk.tmp-5"), plant("notes.txt")}
	if err := os.Symlink("notes.txt", filepath.Join(dir, ".m.fmk.tmp-777")); err != nil {
		t.Fatal(err)
	}
	kept = append(kept, ".m.fmk.tmp-777")
	r := runWith(t, dir, "fmtrain", nil, -1, toolTimeout, append([]string{"--data", sysData, "--out", "m.fmk"}, tinyTrain...)...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	names := mustReadDir(t, dir)
	for _, n := range stale {
		if slices.Contains(names, n) {
			t.Errorf("%s, left by a killed write, is still there", n)
		}
		if !strings.Contains(r.stderr, n) {
			t.Errorf("fmtrain did not say it removed %s", n)
		}
	}
	for _, n := range kept {
		if !slices.Contains(names, n) {
			t.Errorf("%s, not an abandoned temporary file of this run's outputs, was removed", n)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "notes.txt")); err != nil || string(b) != "notes.txt" {
		t.Errorf("the symbolic link's target changed: %q %v", b, err)
	}
}

// TestSIGTERMDuringEvaluate: only training saves a state on a signal; an
// evaluation ends at once on SIGTERM and never says it saves one.
func TestSIGTERMDuringEvaluate(t *testing.T) {
	needData(t)
	dir := t.TempDir()
	// The book's model on one thread: about a second of work, so that the
	// signal comes in the middle of it.
	write(t, filepath.Join(dir, "m.onnx"), models.Default)
	cmd := exec.Command(filepath.Join(binDir, "fmtrain"), "evaluate", "--model", "m.onnx", "--threads", "1", "--data", sysData)
	cmd.Dir = dir
	cmd.Env = toolEnv()
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // while it loads the model and the data
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("fmtrain evaluate still running 10 s after SIGTERM\n%s", errb.String())
	}
	if strings.Contains(errb.String(), "saving the training state") {
		t.Errorf("evaluate said it saves a training state:\n%s", errb.String())
	}
	if st := cmd.ProcessState; st.Success() {
		t.Fatal("the evaluation finished before the signal: the test proved nothing")
	} else if ws, ok := st.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("evaluate ended with %v, want death by SIGTERM\n%s", st, errb.String())
	}
}

// TestNoSpoofedLines classifies an image whose name holds a newline and
// what looks like a result, and a missing one whose name holds a carriage
// return and an ESC sequence: every text result line must be one line per
// input, with the names quoted, and no control character may reach the
// terminal.
func TestNoSpoofedLines(t *testing.T) {
	dir := t.TempDir()
	spoof := "a.png: Sneaker (7) 99.0%\nb.png"
	write(t, filepath.Join(dir, spoof), samplePNG(t))
	ghost := "gone\r\x1b[2Kok.png"
	r := runWith(t, dir, "fminfer", nil, -1, fileTimeout, "--engine", "native", spoof, ghost)
	checkNoPanic(t, r)
	if r.code != inferInputs {
		t.Errorf("exit %d, want %d (one input is missing)", r.code, inferInputs)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 2 {
		t.Errorf("%d result lines for 2 inputs:\n%s", len(lines), r.stdout)
	}
	if !strings.HasPrefix(r.stdout, `"a.png: Sneaker (7) 99.0%\nb.png": `) {
		t.Errorf("the first result line does not start with the quoted name:\n%s", r.stdout)
	}
	for _, out := range []string{r.stdout, r.stderr} {
		if strings.ContainsAny(out, "\r\x1b") {
			t.Errorf("a control character reached the output: %q", out)
		}
	}
	if !strings.Contains(r.stderr, `"gone\r\x1b[2Kok.png": no such file`) {
		t.Errorf("stderr does not name the missing file quoted:\n%s", r.stderr)
	}

	// fmtrain's messages too: a --data directory with an ESC in its name.
	r = runWith(t, dir, "fmtrain", nil, -1, fileTimeout, append([]string{"--data", "no\x1b[31mwhere", "--out", "m.fmk"}, tinyTrain...)...)
	if r.code != trainFail || strings.ContainsAny(r.stderr, "\x1b") || !strings.Contains(r.stderr, `no\x1b[31mwhere`) {
		t.Errorf("exit %d, stderr %q: want exit %d and the name escaped", r.code, r.stderr, trainFail)
	}
}

// TestStampSeesLabelsRewrittenInPlace verifies a dataset directory once
// (which stamps it), then rewrites one label in place with the
// modification time set back, as the hostile test did: training must refuse
// the file (it scored 0.10 with exit 0 when the stamp trusted size and
// mtime), and doctor must find it whatever a stamp says, even one forged to
// match the changed file.
func TestStampSeesLabelsRewrittenInPlace(t *testing.T) {
	needData(t)
	labels := readData(t, "t10k-labels-idx1-ubyte")
	data := dataDir(t, map[string][]byte{"t10k-labels-idx1-ubyte": labels})
	cache := t.TempDir()
	env := []string{"XDG_CACHE_HOME=" + cache, "HOME=" + cache}
	dir := t.TempDir()
	r := runWith(t, dir, "fmtrain", env, -1, toolTimeout, append([]string{"--data", data, "--out", "m.fmk"}, tinyTrain...)...)
	if r.code != 0 {
		t.Fatalf("the first run: exit %d\n%s", r.code, r.stderr)
	}
	stamps := filepath.Join(cache, "fmkit", "verified.json")
	if _, err := os.Stat(stamps); err != nil {
		t.Fatalf("no stamps were written: %v", err)
	}
	p := filepath.Join(data, "t10k-labels-idx1-ubyte")
	st, _ := os.Stat(p)
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range labels[8:] {
		labels[8+i] = (labels[8+i] + 1) % 10 // every label wrong, still valid
	}
	if _, err := f.WriteAt(labels, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	os.Chtimes(p, st.ModTime(), st.ModTime())

	r = runWith(t, dir, "fmtrain", env, -1, toolTimeout, append([]string{"--data", data, "--out", "m2.fmk"}, tinyTrain...)...)
	checkNoPanic(t, r)
	if r.code != trainFail || !strings.Contains(r.stderr, "t10k-labels-idx1-ubyte: SHA-256") {
		t.Errorf("after the in-place rewrite: exit %d, want %d and a checksum error\n%s", r.code, trainFail, r.stderr)
	}

	// A stamp forged to vouch for the changed file: training trusts stamps,
	// doctor must not.
	b, err := os.ReadFile(stamps)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"sha256"`)) {
		t.Fatalf("unexpected stamp file:\n%s", b)
	}
	forged := forgeStamp(t, b, p)
	if err := os.WriteFile(stamps, forged, 0o644); err != nil {
		t.Fatal(err)
	}
	// The forgery works: a plain run trusts the stamp (the stamps are an
	// optimisation in the cache the user owns).
	if r := runWith(t, dir, "fmtrain", env, -1, toolTimeout, append([]string{"--data", data, "--out", "m3.fmk"}, tinyTrain...)...); r.code != 0 {
		t.Logf("the forged stamp was not trusted (exit %d); doctor is checked all the same", r.code)
	}
	r = runWith(t, dir, "fminfer", env, -1, toolTimeout, "doctor", "--data", data)
	if !strings.Contains(r.stdout, "dataset:      not usable") || !strings.Contains(r.stdout, "SHA-256") {
		t.Errorf("doctor trusted a stamp over the file's content:\n%s", r.stdout)
	}
}

// forgeStamp rewrites the stamp file b so that its entry for path matches
// the file as it is now (size, times, inode): what a stale or tampered
// stamp would say.
func forgeStamp(t *testing.T, b []byte, path string) []byte {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	s := st.Sys().(*syscall.Stat_t)
	abs, _ := filepath.Abs(path)
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	in := false
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, fmt.Sprintf("%q: {", abs)) {
			in = true
		}
		if in {
			key, _, _ := strings.Cut(strings.TrimSpace(line), ":")
			switch key {
			case `"size"`:
				line = fmt.Sprintf(`      "size": %d,`, st.Size())
			case `"mtime_ns"`:
				line = fmt.Sprintf(`      "mtime_ns": %d,`, st.ModTime().UnixNano())
			case `"dev"`:
				line = fmt.Sprintf(`      "dev": %d,`, s.Dev)
			case `"ino"`:
				line = fmt.Sprintf(`      "ino": %d,`, s.Ino)
			case `"ctime_ns"`:
				line = fmt.Sprintf(`      "ctime_ns": %d,`, s.Ctim.Sec*1e9+s.Ctim.Nsec)
			case `"sha256"`:
				in = false
			}
		}
		out.WriteString(line + "\n")
	}
	if bytes.Equal(out.Bytes(), b) {
		t.Fatalf("no stamp entry for %s in:\n%s", abs, b)
	}
	return out.Bytes()
}

// TestUnreadableDataDirectory gives a dataset directory that exists but
// cannot be listed: the message must say so, not call the files missing.
// As root, permissions are not enforced, so the programs run as nobody.
func TestUnreadableDataDirectory(t *testing.T) {
	uid := -1
	base, err := os.MkdirTemp("", "fmkit-e2e-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if os.Geteuid() == 0 {
		uid = 65534
		// nobody must reach the binaries and the working directory, and
		// write its model somewhere.
		for _, d := range []string{binDir, base} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	outDir := filepath.Join(base, "out")
	if err := os.Mkdir(outDir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(outDir, 0o777)
	locked := filepath.Join(base, "data")
	if err := os.Mkdir(locked, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range dataFiles {
		os.Symlink(filepath.Join(sysData, n+".gz"), filepath.Join(locked, n+".gz"))
	}
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(locked, 0o755)
	env := []string{"HOME=" + base, "XDG_CACHE_HOME=" + filepath.Join(base, "cache")}
	r := runWith(t, base, "fmtrain", env, uid, fileTimeout, append([]string{"--data", locked, "--out", filepath.Join(outDir, "m.fmk")}, tinyTrain...)...)
	if r.code == 0 && uid < 0 {
		t.Skip("the directory could be read despite its permissions")
	}
	t.Logf("fmtrain as uid %d: exit %d\n%s", uid, r.code, r.stderr)
	checkNoPanic(t, r)
	if r.code != trainFail || !strings.Contains(r.stderr, "cannot be read") || !strings.Contains(r.stderr, "permission denied") || strings.Contains(r.stderr, "missing") {
		t.Errorf("exit %d, want %d and 'cannot be read: ... permission denied', not missing files:\n%s", r.code, trainFail, r.stderr)
	}
	r = runWith(t, base, "fminfer", env, uid, fileTimeout, "eval", "--engine", "native", "--data", locked)
	if r.code != inferRuntime || !strings.Contains(r.stderr, "cannot be read") {
		t.Errorf("fminfer eval: exit %d, want %d and 'cannot be read':\n%s", r.code, inferRuntime, r.stderr)
	}
}
