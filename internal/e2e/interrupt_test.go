package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"image/png"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fmkit/fmkit/pkg/train"
)

// tinyRun is the training run the interruption tests break: a small model
// on 512 samples, so that a whole run takes a few seconds.
var tinyRun = []string{"--arch", "c4k3-p2-f-d10", "--train-size", "512", "--epochs", "3", "--batch-size", "32",
	"--threads", "2", "--seed", "3", "--out", "X.fmk"}

// The files tinyRun writes, beside X.fmk.
var tinyOutputs = []string{"X.fmk", "X.ckpt", "X.history.json", "X.history.csv", "X.curves.png"}

// interruptSeed returns the seed of the random interruption points:
// $E2E_SEED when set (to replay a failure), else the clock.
func interruptSeed(t *testing.T) int64 {
	if s := os.Getenv("E2E_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("E2E_SEED=%q: %v", s, err)
		}
		return v
	}
	return time.Now().UnixNano()
}

// training is a running fmtrain.
type training struct {
	cmd     *exec.Cmd
	started chan struct{} // closed when the "Training ..." line appears (the data are loaded)
	mu      sync.Mutex
	stdout  bytes.Buffer
	stderr  bytes.Buffer
	scanned chan struct{} // closed when stdout is drained
}

// startTraining starts fmtrain in dir with args.
func startTraining(t *testing.T, dir string, args ...string) *training {
	t.Helper()
	tr := &training{started: make(chan struct{}), scanned: make(chan struct{})}
	tr.cmd = exec.Command(filepath.Join(binDir, "fmtrain"), args...)
	tr.cmd.Dir = dir
	tr.cmd.Env = toolEnv()
	tr.cmd.Stderr = &tr.stderr
	pipe, err := tr.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(tr.scanned)
		sc := bufio.NewScanner(pipe)
		seen := false
		for sc.Scan() {
			tr.mu.Lock()
			tr.stdout.WriteString(sc.Text() + "\n")
			tr.mu.Unlock()
			if !seen && strings.HasPrefix(sc.Text(), "Training ") {
				seen = true
				close(tr.started)
			}
		}
	}()
	return tr
}

// wait waits for the process and returns its exit code (-1 when killed by a
// signal) and its output.
func (tr *training) wait(t *testing.T) (code int, stdout, stderr string) {
	t.Helper()
	<-tr.scanned
	err := tr.cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatal(err)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return code, tr.stdout.String(), tr.stderr.String()
}

// waitStarted waits until the data are loaded and training begins.
func (tr *training) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-tr.started:
	case <-tr.scanned:
		t.Fatalf("fmtrain ended before training started:\n%s", tr.stderr.String())
	case <-time.After(toolTimeout):
		tr.cmd.Process.Kill()
		t.Fatal("training did not start")
	}
}

// runTraining runs fmtrain to the end and requires success.
func runTraining(t *testing.T, dir string, args ...string) {
	t.Helper()
	r := runTool(t, dir, "fmtrain", nil, args...)
	checkNoPanic(t, r)
	if r.code != 0 {
		t.Fatalf("fmtrain %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	write(t, to, b)
}

// The uninterrupted reference run, made once for both tests.
var (
	refOnce  sync.Once
	refDir   string        // holds its files
	refModel []byte        // its X.fmk
	refTrain time.Duration // from the "Training" line to the end of the process
	refErr   string
)

// reference returns the directory of the uninterrupted run, its model, and
// how long its training (after the data were loaded) took.
func reference(t *testing.T) (string, []byte, time.Duration) {
	t.Helper()
	refOnce.Do(func() {
		dir, err := os.MkdirTemp(binDir, "reference-")
		if err != nil {
			refErr = err.Error()
			return
		}
		tr := startTraining(t, dir, tinyRun...)
		tr.waitStarted(t)
		began := time.Now()
		code, _, stderr := tr.wait(t)
		refTrain = time.Since(began)
		if code != 0 {
			refErr = "the uninterrupted run failed: " + stderr
			return
		}
		if refModel, err = os.ReadFile(filepath.Join(dir, "X.fmk")); err != nil {
			refErr = err.Error()
			return
		}
		refDir = dir
		t.Logf("uninterrupted run: training took %v", refTrain.Round(time.Millisecond))
	})
	if refErr != "" {
		t.Fatal(refErr)
	}
	return refDir, refModel, refTrain
}

// pending returns the name under which a retrain writes the output n
// until its new model is complete (see cmd/fmtrain/runfiles.go).
func pending(n string) string { return "." + n + ".pending" }

// checkWhole checks that each output in dir, and each pending output of a
// retrain, is absent or whole: the model and checkpoint decode, the history
// parses, the curves are a PNG. It returns the names present.
func checkWhole(t *testing.T, dir string) map[string]bool {
	t.Helper()
	present := map[string]bool{}
	var names []string
	for _, n := range tinyOutputs {
		names = append(names, n, pending(n))
	}
	for _, name := range names {
		n := strings.TrimSuffix(strings.TrimPrefix(name, "."), ".pending") // the kind of file
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		present[name] = true
		switch filepath.Ext(n) {
		case ".fmk":
			if _, _, err := train.LoadModel(p, nil); err != nil {
				t.Errorf("%s is not a whole model: %v", n, err)
			}
		case ".ckpt":
			if _, err := train.LoadCheckpoint(p); err != nil {
				t.Errorf("%s is not a whole checkpoint: %v", n, err)
			}
		case ".json":
			if _, err := train.ReadHistoryJSON(p); err != nil {
				t.Errorf("%s is not a whole history: %v", n, err)
			}
		case ".csv":
			if len(b) == 0 || b[len(b)-1] != '\n' || !bytes.HasPrefix(b, []byte("epoch")) {
				t.Errorf("%s is not a whole CSV file: %q", n, b)
			}
		case ".png":
			if _, err := png.Decode(bytes.NewReader(b)); err != nil {
				t.Errorf("%s is not a whole PNG: %v", n, err)
			}
		}
	}
	return present
}

// tempFiles returns the names in dir that are neither outputs nor inputs
// (nor, with withPending, the pending outputs of a retrain): temporary files
// left by an interrupted write. Each must be hidden and must not look like a
// model or a checkpoint.
func tempFiles(t *testing.T, dir string, withPending ...bool) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, n := range tinyOutputs {
		known[n] = true
		if len(withPending) > 0 && withPending[0] {
			known[pending(n)] = true
		}
	}
	var tmp []string
	for _, e := range entries {
		if !known[e.Name()] {
			tmp = append(tmp, e.Name())
		}
	}
	return tmp
}

// TestInterruptAndResume breaks the tiny training run with SIGINT at random
// points: fmtrain must exit 130, leave every file whole (a model from an
// earlier complete run unchanged or replaced whole), leave no temporary
// file, and --resume must end with a model bit-identical to an
// uninterrupted run.
func TestInterruptAndResume(t *testing.T) {
	needData(t)
	seed := interruptSeed(t)
	t.Logf("seed %d (rerun with E2E_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))

	refDir, ref, span := reference(t)

	rounds := 3
	if testing.Short() {
		rounds = 1
	}
	for round := range rounds {
		dir := t.TempDir()
		// Every other round starts where a complete run already left its files.
		earlier := round%2 == 1
		if earlier {
			for _, n := range []string{"X.fmk", "X.ckpt"} {
				copyFile(t, filepath.Join(refDir, n), filepath.Join(dir, n))
			}
		}
		tr := startTraining(t, dir, tinyRun...)
		tr.waitStarted(t)
		// A point of the training: the reference's span less a margin for
		// the final evaluation and writes.
		delay := time.Duration(rng.Int63n(int64(span*9/10) + 1))
		time.Sleep(delay)
		if err := tr.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Fatal(err)
		}
		code, stdout, stderr := tr.wait(t)
		epochs := strings.Count(stdout, "\nEpoch ")
		t.Logf("round %d: SIGINT %v after training began (earlier run's files: %v): exit %d after %d epoch(s)\n%s", round, delay.Round(time.Millisecond), earlier, code, epochs, stderr)
		checkNoPanic(t, result{stdout: stdout, stderr: stderr})
		// A retrain over the earlier run's model saves its state under the
		// pending name and leaves the earlier set as it was.
		ckpt := "X.ckpt"
		if earlier {
			ckpt = pending("X.ckpt")
		}
		switch code {
		case 130:
			if !strings.Contains(stderr, "training state saved to "+ckpt) {
				t.Errorf("round %d: exit 130 without saying where the state went (%s)", round, ckpt)
			}
		case 0:
			t.Logf("round %d: training finished before the signal", round)
		default:
			t.Fatalf("round %d: exit %d, want 130 (or 0 had training finished)", round, code)
		}
		present := checkWhole(t, dir)
		if tmp := tempFiles(t, dir, earlier && code == 130); len(tmp) > 0 {
			t.Errorf("round %d: files left behind after SIGINT: %v", round, tmp)
		}
		if code == 130 {
			if !present[ckpt] {
				t.Fatalf("round %d: exit 130 but no checkpoint %s", round, ckpt)
			}
			if earlier {
				if b, err := os.ReadFile(filepath.Join(dir, "X.ckpt")); err != nil || !bytes.Equal(b, mustRead(t, filepath.Join(refDir, "X.ckpt"))) {
					t.Errorf("round %d: the earlier run's checkpoint changed (err %v)", round, err)
				}
			}
			if b, err := os.ReadFile(filepath.Join(dir, "X.fmk")); earlier && (err != nil || !bytes.Equal(b, ref)) {
				// The earlier run's model is the reference itself; the
				// interrupted run must not have replaced it with anything.
				t.Errorf("round %d: the earlier model changed (err %v)", round, err)
			} else if !earlier && err == nil {
				t.Errorf("round %d: an interrupted run wrote a model", round)
			}
		}
		runTraining(t, dir, append(tinyRun, "--resume")...)
		got, err := os.ReadFile(filepath.Join(dir, "X.fmk"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, ref) {
			t.Errorf("round %d: the resumed model differs from the uninterrupted one (%d vs %d bytes)", round, len(got), len(ref))
		}
		checkWhole(t, dir)
		if tmp := tempFiles(t, dir); len(tmp) > 0 {
			t.Errorf("round %d: files left behind after --resume: %v", round, tmp)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// backdate sets the modification time of the temporary files in dir an
// hour back, so that the next run's clean-up decides by the writers' locks
// alone (a killed writer holds none), not by the files' age.
func backdate(t *testing.T, dir string) {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	for _, n := range tempFiles(t, dir, true) {
		if err := os.Chtimes(filepath.Join(dir, n), old, old); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKillDuringTraining kills fmtrain with SIGKILL at random points of
// training and while it writes its files: whatever is present afterwards is
// whole, a temporary file left behind is hidden and not named like a model
// or checkpoint, and --resume from the surviving checkpoint still ends with
// the uninterrupted run's model.
func TestKillDuringTraining(t *testing.T) {
	needData(t)
	seed := interruptSeed(t)
	t.Logf("seed %d (rerun with E2E_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))

	refDir, ref, span := reference(t)

	rounds := 2
	if testing.Short() {
		rounds = 0
	}
	caughtWrite := false
	for round := range rounds + 1 {
		dir := t.TempDir()
		if round%2 == 1 && round < rounds {
			for _, n := range []string{"X.fmk", "X.ckpt"} {
				copyFile(t, filepath.Join(refDir, n), filepath.Join(dir, n))
			}
		}
		tr := startTraining(t, dir, tinyRun...)
		tr.waitStarted(t)
		var how string
		if round < rounds {
			// Anywhere in training or in the writes that end it.
			delay := time.Duration(rng.Int63n(int64(span) + 1))
			time.Sleep(delay)
			how = "after " + delay.Round(time.Millisecond).String()
		} else {
			// The last round aims at the final model write: kill as soon as
			// the model's temporary file appears.
			how = "at the model's temporary file"

			for deadline := time.Now().Add(toolTimeout); time.Now().Before(deadline); {
				tmp := tempFiles(t, dir)
				if len(tmp) > 0 && strings.HasPrefix(tmp[0], ".X.fmk.tmp") {
					how += " (" + strings.Join(tmp, ", ") + ")"
					caughtWrite = true
					break
				}
				select {
				case <-tr.scanned:
					deadline = time.Now()
				default:
				}
				time.Sleep(100 * time.Microsecond)
			}
		}
		tr.cmd.Process.Kill()
		code, stdout, _ := tr.wait(t)
		t.Logf("round %d: SIGKILL %s: exit %d after %d epoch(s)", round, how, code, strings.Count(stdout, "\nEpoch "))
		present := checkWhole(t, dir)
		left := tempFiles(t, dir, true)
		for _, n := range left {
			if !strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".fmk") || strings.HasSuffix(n, ".ckpt") {
				t.Errorf("round %d: %q left behind is not hidden, or is named like a model or checkpoint", round, n)
			}
		}
		if present["X.ckpt"] || present[pending("X.ckpt")] {
			backdate(t, dir)
			r := runTool(t, dir, "fmtrain", nil, append(tinyRun, "--resume")...)
			if r.code != 0 {
				t.Fatalf("round %d: --resume: exit %d\n%s", round, r.code, r.stderr)
			}
			if len(left) > 0 && !strings.Contains(r.stderr, "left by an interrupted write") {
				t.Errorf("round %d: --resume did not say it removed %v", round, left)
			}
			got, err := os.ReadFile(filepath.Join(dir, "X.fmk"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, ref) {
				t.Errorf("round %d: the model resumed after SIGKILL differs from the uninterrupted one", round)
			}
			// The resumed run removed what the killed one left: temporary
			// files of its writes and its pending files.
			if tmp := tempFiles(t, dir); len(tmp) > 0 {
				t.Errorf("round %d: files still there after --resume: %v", round, tmp)
			}
		}
	}
	if !caughtWrite {
		t.Log("the last round did not catch a write in progress (the process wrote too fast); its checks still ran")
	}
}
