package onnxexport

import (
	"os"

	"github.com/fmkit/fmkit/internal/atomicfile"
)

// writeFileAtomic writes data to path so that path holds either its old content or all of
// data, never a prefix. It is internal/atomicfile's WriteFile: the one atomic writer of the
// project, whose temporary files are locked while written, so that a later run can tell the
// ones a killed process left behind (atomicfile.RemoveStale).
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	return atomicfile.WriteFile(path, data, perm)
}
